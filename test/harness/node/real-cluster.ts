// A real one-node Kubernetes cluster for tests and `npm run cluster`: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kubelet and kube-proxy (v1.33, built with Go by
// binaries.ts) and containerd + runc + the CNI bridge from Debian, all inside namespaces the
// harness creates (namespaces.ts). Pods run for real: images come as OCI archives imported
// into the node's containerd (importImage), the pause image is built locally, nothing is pulled.
//
//   const cluster = await startRealCluster({ name: 'node-a', nodeIp: '10.77.0.1' });
//   await cluster.importImage('dist/image/liqo-discovery-0.1.0-linux-amd64.oci.tar');
//   await cluster.kubectl(['get', 'nodes']);            // the real kubectl, from this machine
//   await cluster.stop();                                // processes, mounts, namespaces, cgroups, files
//
// How kubectl on the machine reaches the API server, which listens only inside the node's
// network namespace: the harness opens a server on 127.0.0.1 (a free port) in the machine's
// namespace and hands it to a small forwarder process that lives inside the node's namespace
// (api-forwarder.mjs); each connection is piped to <node IP>:6443 from there. So a plain
// KUBECONFIG works for kubectl, the plugin and client libraries, test traffic stays on loopback
// and inside the namespaces, and nothing is added to the machine's network — no veth into the
// root namespace, no address, no route (a veth on a private /30 would work too, but it changes
// the machine's routing table, which a person running `npm run cluster` did not ask for).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import ipaddr from 'ipaddr.js';
import { join } from 'node:path';
import { ensureNodeBinaries, type NodeBinaries } from '../binaries.js';
import { kubectlWith, runCommand, shellWith, type CommandResult, type RunOptions } from '../kubectl.js';
import { httpGet } from '../network.js';
import { createClientCertificate as createClientCertificateFor } from '../pki.js';
import { startProcess, type ManagedProcess } from '../processes.js';
import {
  createCgroupRoot,
  createNodeNetwork,
  deleteNetwork,
  killAll,
  netnsId,
  netnsPath,
  pidsInCgroups,
  pidsInNamespace,
  removeCgroupTrees,
  run,
  startMountNamespace,
  type LanAttachment,
  type MountNamespace,
} from './namespaces.js';
import { APISERVER_PORT, SERVICE_CIDR, writeNodeConfig } from './node-config.js';
import { createNodePki, nodeKubeconfig, type NodeComponent } from './node-pki.js';
import { ensurePauseImage, PAUSE_IMAGE } from './pause-image.js';

export { PAUSE_IMAGE } from './pause-image.js';

export interface RealClusterOptions {
  /** The node's name; also names its network namespace (liqo-node-<name>) and cgroup root. */
  name: string;
  /** The node's InternalIP (default 10.77.0.1), on its interface inside the namespace. */
  nodeIp?: string;
  /** Prefix length of the node's subnet (default 24). */
  prefixLength?: number;
  /** Addresses the CNI bridge gives pods (default 10.88.0.0/24; per node, as nodes are apart). */
  podCidr?: string;
  /** Put the node's interface on this LAN bridge (lan.ts) so nodes of several clusters meet. */
  lanBridge?: LanAttachment;
  /** Build missing binaries with Go (default true). */
  build?: boolean;
  /** Bound on each wait of the start-up (default 180 s: two shared cores can be slow). */
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface RealClusterStopOptions {
  /** Keep the state directory (logs, configs; mounts are gone anyway): a failed run's evidence. */
  keepDir?: boolean;
}

export interface RealCluster {
  readonly name: string;
  readonly nodeIp: string;
  /** The network namespace's name (`ip netns exec <netns> …` for a person; nsenter for programs). */
  readonly netns: string;
  readonly stateDir: string;
  readonly logDir: string;
  /** https://127.0.0.1:<port>: the forwarder's end on this machine. */
  readonly server: string;
  /** Admin kubeconfig for this machine (through the forwarder). */
  readonly adminKubeconfig: string;
  /** Admin kubeconfig for programs inside the node's namespace (https://<node IP>:6443). */
  readonly inNodeKubeconfig: string;
  readonly caPem: string;
  readonly binaries: NodeBinaries;
  readonly pauseImage: string;
  readonly processes: readonly ManagedProcess[];
  /** Milliseconds from the call to each milestone (apiserverReady, nodeReady, ready). */
  readonly timings: Readonly<Record<string, number>>;
  kubectl(args: string[], opts?: RunOptions): Promise<CommandResult>;
  shell(script: string, opts?: RunOptions): Promise<CommandResult>;
  /** Runs a command inside the node's network and mount namespaces (as its daemons see things). */
  inNode(command: string[], opts?: RunOptions): Promise<CommandResult>;
  /**
   * Starts a long-running program inside the node's namespaces (e.g. a DNS server on the node's
   * network), logging to <logDir>/<name>.log; stop() stops it before the node.
   */
  startInNode(name: string, command: string, args: string[]): ManagedProcess;
  /** Imports an OCI or docker archive into the node's containerd; the references it named. */
  importImage(archive: string): Promise<string[]>;
  /** A kubeconfig for user `userName` in `groups` (client certificate; RBAC decides the rest). */
  createUserKubeconfig(userName: string, groups?: string[]): string;
  /** A kubeconfig that presents a bearer token (e.g. a ServiceAccount's). */
  createTokenKubeconfig(label: string, token: string): string;
  /** The host PID of a running container's main process (`containerd://<id>` or the bare id). */
  containerPid(containerId: string): Promise<number>;
  stop(opts?: RealClusterStopOptions): Promise<void>;
  /** After stop(): what is left of the node (processes, mounts, namespace, cgroups, paths). */
  leftovers(): string[];
}

const FORWARDER = join(import.meta.dirname, 'api-forwarder.mjs');
const NAME_PATTERN = /^[a-z0-9]([-a-z0-9]{0,18}[a-z0-9])?$/;
/** Paths the kubelet and containerd hard-code; the node's overlays keep them off the machine. */
export const HARD_CODED_HOST_PATHS = [
  '/var/lib/kubelet',
  '/var/log/containers',
  '/var/log/pods',
  '/var/lib/cni',
  '/var/run/netns/cni-',
] as const;

/** What a stopped node might leave behind, recorded as the node starts. */
interface Footprint {
  netns: string;
  /** Set once this node created the namespace: only then is it this node's to delete. */
  netnsId?: string;
  mountNsId?: string;
  cgroupDirs: string[];
  stateDir: string;
  hostPathsBefore: Set<string>;
  processes: ManagedProcess[];
}

function hostPathsPresent(): Set<string> {
  const present = new Set<string>();
  for (const path of HARD_CODED_HOST_PATHS) {
    if (path.endsWith('-')) {
      const dir = path.slice(0, path.lastIndexOf('/'));
      const prefix = path.slice(dir.length + 1);
      try {
        for (const entry of readdirSync(dir)) if (entry.startsWith(prefix)) present.add(join(dir, entry));
      } catch {
        // no such directory
      }
    } else if (existsSync(path)) present.add(path);
  }
  return present;
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((mountPoint) => mountPoint === dir || mountPoint.startsWith(`${dir}/`));
}

function leftoversOf(footprint: Footprint, keptDir: boolean): string[] {
  const left: string[] = [];
  for (const p of footprint.processes) if (p.isRunning()) left.push(`process ${p.name} (pid ${p.pid})`);
  for (const [kind, id] of [
    ['mnt', footprint.mountNsId],
    ['net', footprint.netnsId],
  ] as const) {
    if (id)
      for (const pid of pidsInNamespace(kind, id))
        left.push(`process ${pid} in the node's ${kind} namespace`);
  }
  for (const pid of pidsInCgroups(footprint.cgroupDirs)) left.push(`process ${pid} in the node's cgroups`);
  if (footprint.netnsId && existsSync(netnsPath(footprint.netns)))
    left.push(`network namespace ${footprint.netns}`);
  for (const dir of footprint.cgroupDirs) if (existsSync(dir)) left.push(`cgroup ${dir}`);
  for (const mountPoint of mountsUnder(footprint.stateDir)) left.push(`mount ${mountPoint}`);
  if (!keptDir && existsSync(footprint.stateDir)) left.push(`directory ${footprint.stateDir}`);
  for (const path of hostPathsPresent())
    if (!footprint.hostPathsBefore.has(path)) left.push(`host path ${path}`);
  return left;
}

/**
 * Kills what the node started that is not a child of ours: the containers (by their cgroups) and
 * the containerd shims (by the node's mount namespace). Synchronous, for the exit hook too.
 */
function killContainersAndShims(footprint: Footprint, exceptPids: number[]): void {
  killAll(pidsInCgroups(footprint.cgroupDirs));
  if (footprint.mountNsId)
    killAll(pidsInNamespace('mnt', footprint.mountNsId).filter((pid) => !exceptPids.includes(pid)));
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Best effort when the process exits without stop(): nothing of the node may outlive it. */
function emergencyCleanup(footprint: Footprint): void {
  killContainersAndShims(footprint, []);
  try {
    if (footprint.netnsId) execFileSync('ip', ['netns', 'del', footprint.netns], { stdio: 'ignore' });
  } catch {
    // already gone
  }
  for (let i = 0; i < 20 && removeCgroupTrees(footprint.cgroupDirs).length > 0; i++) sleepSync(100);
  if (mountsUnder(footprint.stateDir).length === 0)
    rmSync(footprint.stateDir, { recursive: true, force: true });
}

function listenOnLoopback(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

export async function startRealCluster(opts: RealClusterOptions): Promise<RealCluster> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  const { name } = opts;
  if (!NAME_PATTERN.test(name))
    throw new Error(
      `cluster name ${JSON.stringify(name)} is not usable: 1-20 lowercase letters, digits or '-', starting and ending with a letter or digit`,
    );
  const nodeIp = opts.nodeIp ?? '10.77.0.1';
  if (!ipaddr.IPv4.isValidFourPartDecimal(nodeIp))
    throw new Error(`node IP ${JSON.stringify(nodeIp)} is not an IPv4 address (e.g. 10.77.0.1)`);
  const prefixLength = opts.prefixLength ?? 24;
  const podCidr = opts.podCidr ?? '10.88.0.0/24';
  const readyTimeoutMs = opts.readyTimeoutMs ?? 180_000;
  const binaries = await ensureNodeBinaries({ build: opts.build ?? true, log });
  const pauseArchive = await ensurePauseImage(binaries.pause);

  const netns = `liqo-node-${name}`;
  const stateDir = mkdtempSync(join(tmpdir(), `liqo-node-${name}-`));
  const logDir = join(stateDir, 'logs');
  const pkiDir = join(stateDir, 'pki');
  const kubeconfigDir = join(stateDir, 'kubeconfigs');
  for (const dir of [logDir, pkiDir, kubeconfigDir]) mkdirSync(dir, { recursive: true });
  const footprint: Footprint = {
    netns,
    cgroupDirs: [],
    stateDir,
    hostPathsBefore: hostPathsPresent(),
    processes: [],
  };
  const timings: Record<string, number> = {};
  const mark = (milestone: string) => {
    timings[milestone] = Date.now() - started;
    log(`${name}: ${milestone} after ${(timings[milestone] / 1000).toFixed(1)} s`);
  };

  let mountNs: MountNamespace | undefined;
  let stopped = false;
  let forwarderServer: Server | undefined;
  const onExit = () => {
    if (!stopped) emergencyCleanup(footprint);
  };
  process.on('exit', onExit);

  const daemons = new Map<string, ManagedProcess>();
  const startDaemon = (daemon: string, command: string, args: string[]) => {
    if (!mountNs) throw new Error('the mount namespace is not ready');
    const p = startProcess(
      daemon,
      'nsenter',
      [`--net=${netnsPath(netns)}`, `--mount=${mountNs.path}`, '--', command, ...args],
      { logFile: join(logDir, `${daemon}.log`) },
    );
    daemons.set(daemon, p);
    footprint.processes.push(p);
    return p;
  };
  const gaveUp = () => {
    for (const p of daemons.values())
      if (!p.isRunning()) return `${p.name} exited: ${p.tail(5)} (logs in ${logDir})`;
    return undefined;
  };

  const stop = async (stopOpts: RealClusterStopOptions = {}) => {
    if (stopped) return;
    stopped = true;
    forwarderServer?.close();
    const stopAll = (names: string[]) =>
      Promise.all(names.map((daemon) => daemons.get(daemon)?.stop(10_000)));
    const infrastructure = [
      'kubelet',
      'kube-proxy',
      'kube-scheduler',
      'kube-controller-manager',
      'kube-apiserver',
      'api-forwarder',
      'etcd',
      'containerd',
    ];
    // programs a test started in the node, then the kubelet, or it restarts containers about to be killed
    await stopAll([...daemons.keys()].filter((daemon) => !infrastructure.includes(daemon)));
    await stopAll(['kubelet', 'kube-proxy', 'kube-scheduler', 'kube-controller-manager']);
    await stopAll(['kube-apiserver', 'api-forwarder']);
    await stopAll(['etcd']);
    const containerd = daemons.get('containerd');
    for (let i = 0; i < 50 && pidsInCgroups(footprint.cgroupDirs).length > 0; i++) {
      killContainersAndShims(footprint, [containerd?.pid ?? -1, mountNs?.holder.pid ?? -1]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    killContainersAndShims(footprint, [containerd?.pid ?? -1, mountNs?.holder.pid ?? -1]);
    await containerd?.stop(10_000);
    // anything else in the mount namespace (a shim that outlived containerd), then the holder:
    // the namespace and every mount in it go with the last process
    for (let i = 0; i < 50; i++) {
      const others = footprint.mountNsId
        ? pidsInNamespace('mnt', footprint.mountNsId).filter((pid) => pid !== mountNs?.holder.pid)
        : [];
      if (others.length === 0) break;
      killAll(others);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await mountNs?.holder.stop();
    if (footprint.netnsId) await deleteNetwork(netns).catch((err: Error) => log(`${name}: ${err.message}`));
    for (let i = 0; i < 50 && removeCgroupTrees(footprint.cgroupDirs).length > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    process.off('exit', onExit);
    const mounts = mountsUnder(stateDir);
    if (mounts.length > 0) {
      // never delete through a mount: keep the directory and say why
      log(`${name}: ${mounts.length} mount(s) still under ${stateDir}; keeping it (${mounts[0]} …)`);
      return;
    }
    if (!stopOpts.keepDir) rmSync(stateDir, { recursive: true, force: true });
  };

  try {
    // ---- namespaces, cgroups, certificates, configuration
    await createNodeNetwork({
      netns,
      nodeIp,
      prefixLength,
      ...(opts.lanBridge ? { lan: opts.lanBridge, lanPeerName: lanPeerName(name) } : {}),
    });
    footprint.netnsId = netnsId(netns);
    mountNs = await startMountNamespace(stateDir, logDir);
    footprint.mountNsId = mountNs.id;
    footprint.processes.push(mountNs.holder);
    const cgroupRoot = `/liqo-node-${name}`;
    footprint.cgroupDirs = createCgroupRoot(cgroupRoot.slice(1));

    const pki = createNodePki(pkiDir, name, nodeIp);
    const inNodeServer = `https://${nodeIp}:${APISERVER_PORT}`;
    const kubeconfigs = {} as Record<NodeComponent, string>;
    for (const component of Object.keys(pki.clients) as NodeComponent[]) {
      kubeconfigs[component] = join(kubeconfigDir, `${component}.kubeconfig`);
      writeFileSync(
        kubeconfigs[component],
        nodeKubeconfig(name, inNodeServer, pki.ca.certPem, component, pki.clients[component]),
        { mode: 0o600 },
      );
    }
    const config = writeNodeConfig({
      stateDir,
      nodeName: name,
      nodeIp,
      podCidr,
      cgroupRoot,
      pauseImage: PAUSE_IMAGE,
      cniBinDir: binaries.cniBinDir,
      caCert: pki.files.caCert,
      kubeProxyKubeconfig: kubeconfigs['kube-proxy'],
    });

    // ---- the forwarder: this machine's 127.0.0.1:<port> → <node IP>:6443 inside the namespace
    forwarderServer = await listenOnLoopback();
    const address = forwarderServer.address();
    const forwardPort = typeof address === 'object' && address ? address.port : 0;
    const forwarder = startProcess(
      'api-forwarder',
      'nsenter',
      [`--net=${netnsPath(netns)}`, '--', process.execPath, FORWARDER, nodeIp, String(APISERVER_PORT)],
      { logFile: join(logDir, 'api-forwarder.log'), ipc: true },
    );
    daemons.set('api-forwarder', forwarder);
    footprint.processes.push(forwarder);
    await forwarder.send('serve', forwarderServer);
    forwarderServer.close(); // the forwarder holds its own copy of the socket now
    const server = `https://127.0.0.1:${forwardPort}`;
    const adminKubeconfig = join(stateDir, 'kubeconfig');
    writeFileSync(adminKubeconfig, nodeKubeconfig(name, server, pki.ca.certPem, 'admin', pki.clients.admin), {
      mode: 0o600,
    });
    const inNodeKubeconfig = kubeconfigs.admin;

    // ---- containerd, etcd and kube-apiserver together
    const p = pki.files;
    startDaemon('containerd', binaries.containerd, ['--config', config.containerdConfig]);
    startDaemon('etcd', binaries.etcd, [
      '--name=default',
      `--data-dir=${join(stateDir, 'etcd')}`,
      '--listen-client-urls=http://127.0.0.1:2379',
      '--advertise-client-urls=http://127.0.0.1:2379',
      '--listen-peer-urls=http://127.0.0.1:2380',
      '--initial-advertise-peer-urls=http://127.0.0.1:2380',
      '--initial-cluster=default=http://127.0.0.1:2380',
      '--unsafe-no-fsync', // a test cluster: the shared disk's fsyncs would dominate every write
      '--logger=zap',
      '--log-level=warn',
    ]);
    startDaemon('kube-apiserver', binaries.kubeApiserver, [
      '--etcd-servers=http://127.0.0.1:2379',
      `--advertise-address=${nodeIp}`,
      '--bind-address=0.0.0.0',
      `--secure-port=${APISERVER_PORT}`,
      `--cert-dir=${join(stateDir, 'apiserver-certs')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--allow-privileged=true',
      `--client-ca-file=${p.caCert}`,
      `--tls-cert-file=${p.servingCert}`,
      `--tls-private-key-file=${p.servingKey}`,
      `--kubelet-client-certificate=${p.kubeletClientCert}`,
      `--kubelet-client-key=${p.kubeletClientKey}`,
      `--service-account-key-file=${p.saPublic}`,
      `--service-account-signing-key-file=${p.saPrivate}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      // webhooks behind a Service are called at the endpoint's IP (no dependence on kube-proxy)
      '--enable-aggregator-routing=true',
      // the node's Hostname address would be resolved with the machine's DNS, unreachable from here
      '--kubelet-preferred-address-types=InternalIP',
      '--profiling=false',
    ]);
    await waitUntil(
      'containerd socket',
      async () => existsSync(config.containerdSocket),
      readyTimeoutMs,
      gaveUp,
    );
    await importArchive(binaries.ctr, config.containerdSocket, pauseArchive);

    // /readyz answers 500 until the RBAC bootstrap is done; the controller-manager exits at once
    // if it starts before that, so only a 200 counts.
    const tls = { ca: pki.ca.certPem, cert: pki.clients.admin.certPem, key: pki.clients.admin.keyPem };
    await waitUntil(
      'kube-apiserver /readyz',
      async () => (await httpGet(`${server}/readyz`, tls).catch(() => ({ status: 0 }))).status === 200,
      readyTimeoutMs,
      gaveUp,
    );
    mark('apiserverReady');

    // ---- the rest of the control plane and the node
    startDaemon('kube-controller-manager', binaries.kubeControllerManager, [
      `--kubeconfig=${kubeconfigs['controller-manager']}`,
      `--authentication-kubeconfig=${kubeconfigs['controller-manager']}`,
      `--authorization-kubeconfig=${kubeconfigs['controller-manager']}`,
      '--bind-address=127.0.0.1',
      '--leader-elect=false',
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${p.saPrivate}`,
      `--root-ca-file=${p.caCert}`,
      `--cluster-signing-cert-file=${p.caCert}`,
      `--cluster-signing-key-file=${p.caKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--profiling=false',
    ]);
    startDaemon('kube-scheduler', binaries.kubeScheduler, [
      `--kubeconfig=${kubeconfigs.scheduler}`,
      `--authentication-kubeconfig=${kubeconfigs.scheduler}`,
      `--authorization-kubeconfig=${kubeconfigs.scheduler}`,
      '--bind-address=127.0.0.1',
      '--leader-elect=false',
      '--profiling=false',
    ]);
    startDaemon('kubelet', binaries.kubelet, [
      `--config=${config.kubeletConfig}`,
      `--kubeconfig=${kubeconfigs.kubelet}`,
      `--root-dir=${config.kubeletRootDir}`,
      `--cert-dir=${join(config.kubeletRootDir, 'pki')}`,
      `--hostname-override=${name}`,
      `--node-ip=${nodeIp}`,
      `--pod-infra-container-image=${PAUSE_IMAGE}`,
    ]);
    startDaemon('kube-proxy', binaries.kubeProxy, [`--config=${config.kubeProxyConfig}`]);

    const apiGet = async (path: string) =>
      (await httpGet(`${server}${path}`, tls).catch(() => undefined))?.body;
    await waitUntil(
      `node ${name} Ready`,
      async () => {
        const body = await apiGet(`/api/v1/nodes/${name}`);
        if (!body) return false;
        const node = JSON.parse(body) as { status?: { conditions?: { type: string; status: string }[] } };
        return !!node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      },
      readyTimeoutMs,
      gaveUp,
    );
    mark('nodeReady');
    // pods cannot be created in a namespace before its `default` ServiceAccount exists
    await waitUntil(
      'ServiceAccount default/default',
      async () =>
        (
          await httpGet(`${server}/api/v1/namespaces/default/serviceaccounts/default`, tls).catch(() => ({
            status: 0,
          }))
        ).status === 200,
      readyTimeoutMs,
      gaveUp,
    );
    mark('ready');

    const nsenterPrefix = () => [`--net=${netnsPath(netns)}`, `--mount=${mountNs!.path}`, '--'];
    const cluster: RealCluster = {
      name,
      nodeIp,
      netns,
      stateDir,
      logDir,
      server,
      adminKubeconfig,
      inNodeKubeconfig,
      caPem: pki.ca.certPem,
      binaries,
      pauseImage: PAUSE_IMAGE,
      processes: [...daemons.values()],
      timings,
      kubectl: (args, runOpts) => kubectlWith(adminKubeconfig, args, runOpts),
      shell: (script, runOpts) => shellWith(adminKubeconfig, script, runOpts),
      inNode: (command, runOpts) => runCommand('nsenter', [...nsenterPrefix(), ...command], runOpts),
      startInNode(programName, command, args) {
        if (daemons.has(programName))
          throw new Error(`${programName}: a program of that name already runs in the node`);
        return startDaemon(programName, command, args);
      },
      importImage: (archive) => importArchive(binaries.ctr, config.containerdSocket, archive),
      createUserKubeconfig(userName, groups = []) {
        const path = join(kubeconfigDir, `user-${userName.replace(/[^A-Za-z0-9_.-]/g, '_')}.kubeconfig`);
        const cert = createClientCertificateFor(pki.ca, userName, groups);
        writeFileSync(path, nodeKubeconfig(name, server, pki.ca.certPem, userName, cert), { mode: 0o600 });
        return path;
      },
      createTokenKubeconfig(label, token) {
        const path = join(kubeconfigDir, `token-${label.replace(/[^A-Za-z0-9_.-]/g, '_')}.kubeconfig`);
        writeFileSync(path, nodeKubeconfig(name, server, pki.ca.certPem, label, { token }), { mode: 0o600 });
        return path;
      },
      containerPid: (containerId) => containerPid(binaries.ctr, config.containerdSocket, containerId),
      stop,
      leftovers: () => leftoversOf(footprint, existsSync(stateDir)),
    };
    return cluster;
  } catch (err) {
    // the logs are worth keeping only once a daemon ran
    const keepDir = daemons.size > 0;
    await stop({ keepDir }).catch(() => undefined);
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(keepDir ? `${message} (the node's logs are kept in ${logDir})` : message, { cause: err });
  }
}

/** The LAN end of a node's interface, in the bridge's namespace: unique per node name, ≤ 15 chars. */
function lanPeerName(nodeName: string): string {
  const readable = `lan-${nodeName}`;
  if (readable.length <= 15) return readable;
  return `lan-${createHash('sha256').update(nodeName).digest('hex').slice(0, 11)}`;
}

async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  gaveUp: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const reason = gaveUp();
    if (reason) throw new Error(`waiting for ${what}: ${reason}`);
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what} not ready after ${timeoutMs / 1000} s`);
}

async function importArchive(ctr: string, socket: string, archive: string): Promise<string[]> {
  if (!existsSync(archive)) throw new Error(`image archive ${archive} does not exist`);
  const out = await run(
    [ctr, '--address', socket, '--namespace', 'k8s.io', 'images', 'import', archive],
    300_000,
  );
  // "unpacking docker.io/library/x:1 (sha256:…)...done" per image
  return [...out.matchAll(/^unpacking (\S+) \(sha256:/gm)].map((m) => m[1]!);
}

async function containerPid(ctr: string, socket: string, containerId: string): Promise<number> {
  const id = containerId.replace(/^containerd:\/\//, '');
  const out = await run([ctr, '--address', socket, '--namespace', 'k8s.io', 'tasks', 'ls']);
  const line = out.split('\n').find((l) => l.startsWith(`${id} `));
  const pid = Number(line?.trim().split(/\s+/)[1]);
  if (!line || !Number.isInteger(pid) || pid <= 0) throw new Error(`container ${id} has no running task`);
  return pid;
}
