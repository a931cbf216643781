// Configuration files of a real node's containerd, CNI, kubelet and kube-proxy. Every path points
// into the node's state directory; the comments say why a setting differs from a default.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SERVICE_CIDR = '10.96.0.0/24';
/** No CoreDNS runs; pods get this as their nameserver, as on a cluster whose DNS is not installed yet. */
export const CLUSTER_DNS_IP = '10.96.0.10';
export const APISERVER_PORT = 6443;

export interface NodeConfigInput {
  stateDir: string;
  nodeName: string;
  nodeIp: string;
  podCidr: string;
  cgroupRoot: string;
  pauseImage: string;
  cniBinDir: string;
  caCert: string;
  kubeProxyKubeconfig: string;
}

export interface NodeConfigFiles {
  containerdConfig: string;
  containerdSocket: string;
  kubeletConfig: string;
  kubeProxyConfig: string;
  kubeletRootDir: string;
}

const toml = (value: string) => JSON.stringify(value); // a TOML basic string is JSON's string syntax

export function writeNodeConfig(input: NodeConfigInput): NodeConfigFiles {
  const { stateDir } = input;
  const containerdDir = join(stateDir, 'containerd');
  const containerdSocket = join(containerdDir, 'containerd.sock');
  const cniConfDir = join(stateDir, 'cni', 'net.d');
  const files: NodeConfigFiles = {
    containerdConfig: join(stateDir, 'containerd.toml'),
    containerdSocket,
    kubeletConfig: join(stateDir, 'kubelet-config.json'),
    kubeProxyConfig: join(stateDir, 'kube-proxy-config.json'),
    kubeletRootDir: join(stateDir, 'kubelet'),
  };
  mkdirSync(cniConfDir, { recursive: true });

  writeFileSync(
    files.containerdConfig,
    `# containerd 1.6 (Debian 12) for the node ${input.nodeName}; nothing outside its state directory.
version = 2
root = ${toml(join(containerdDir, 'root'))}
state = ${toml(join(containerdDir, 'state'))}
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = ${toml(containerdSocket)}
[plugins."io.containerd.internal.v1.opt"]
  path = ${toml(join(containerdDir, 'opt'))}
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${toml(input.pauseImage)}
  enable_selinux = false
  # Without CAP_SYS_RESOURCE (this machine's bounding set lacks it) the -998 that runc would
  # write to the pause container's oom_score_adj is EPERM, and every sandbox fails with
  # "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  # pod network namespaces are bind-mounted here rather than in /var/run/netns
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # no systemd here: the kubelet and runc both use cgroupfs
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${toml(input.cniBinDir)}
    conf_dir = ${toml(cniConfDir)}
`,
  );

  writeJson(join(cniConfDir, '10-liqo-node.conflist'), {
    cniVersion: '1.0.0',
    name: 'liqo-node',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          dataDir: join(stateDir, 'cni', 'ipam'),
          ranges: [[{ subnet: input.podCidr }]],
          routes: [{ dst: '0.0.0.0/0' }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  });

  const resolvConf = join(stateDir, 'resolv.conf');
  writeFileSync(resolvConf, '# the node is inside its own network namespace: no upstream DNS\n');

  writeJson(files.kubeletConfig, {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: input.caCert },
    },
    authorization: { mode: 'Webhook' },
    cgroupDriver: 'cgroupfs',
    // a root of its own, so two nodes on one machine do not share /kubepods
    cgroupRoot: input.cgroupRoot,
    containerRuntimeEndpoint: `unix://${containerdSocket}`,
    clusterDNS: [CLUSTER_DNS_IP],
    clusterDomain: 'cluster.local',
    resolvConf,
    failSwapOn: false,
    readOnlyPort: 0,
    address: input.nodeIp,
    healthzBindAddress: '127.0.0.1',
    // a busy shared disk must not make the node evict its pods
    evictionHard: {
      'memory.available': '100Mi',
      'nodefs.available': '1%',
      'imagefs.available': '1%',
      'nodefs.inodesFree': '1%',
    },
    // imported images cannot be pulled again: never collect them
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    serializeImagePulls: false,
    volumePluginDir: join(files.kubeletRootDir, 'volume-plugins'),
    podLogsDir: join(stateDir, 'pod-logs'),
  });

  writeJson(files.kubeProxyConfig, {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: input.kubeProxyKubeconfig },
    hostnameOverride: input.nodeName,
    clusterCIDR: input.podCidr,
    mode: 'iptables',
    // 0 = leave the kernel's conntrack settings alone (some are machine-wide, not per namespace)
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    metricsBindAddress: '127.0.0.1:10249',
    healthzBindAddress: '127.0.0.1:10256',
  });
  return files;
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}
