// The namespaces a real node lives in, and how to find what is left of them.
//
// Network: a namespace of its own (`ip netns add`), so pods, Services and every port stay off
// the machine's network. The kernel here has no `dummy` driver, so the node's IP sits on one end
// of a veth pair: both ends inside the namespace, or — for a LAN of nodes — the other end in a
// bridge namespace. The default route points at an address nobody holds: programs that insist on
// one are satisfied, and stray packets die inside the namespace.
//
// Mounts: a private mount namespace held by one `sleep` process. Inside it, /var and /run are
// overlays whose writes land in the node's state directory, so the paths the kubelet and
// containerd hard-code (/var/lib/kubelet/device-plugins, /var/log/containers, /var/lib/cni,
// /run/containerd/...) never touch the machine's own, two nodes do not share them, and every
// mount the node makes (volumes, container root filesystems, pod network namespaces) vanishes
// with the namespace. Every daemon of the node is entered into both with
// `nsenter --net=… --mount=…` (not `ip netns exec`, which gives each command a mount namespace
// of its own: containerd would not see the kubelet's volume mounts).
//
// cgroups: one root per node (`--cgroup-root`), so two kubelets do not fight over /kubepods.
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ipaddr from 'ipaddr.js';
import { startProcess, type ManagedProcess } from '../processes.js';

const execFileAsync = promisify(execFile);

/** Runs a command; rejects with one line naming it and what it printed. */
export async function run(args: string[], timeoutMs = 30_000): Promise<string> {
  try {
    const { stdout } = await execFileAsync(args[0]!, args.slice(1), {
      timeout: timeoutMs,
      maxBuffer: 16 << 20,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(
      `${args.join(' ')}: ${(e.stderr || e.message).trim().split('\n').slice(-2).join(' | ')}`,
      {
        cause: err,
      },
    );
  }
}

export function netnsPath(netns: string): string {
  return `/var/run/netns/${netns}`;
}

/** Where a node joins a LAN: a namespace holding a bridge (see lan.ts). */
export interface LanAttachment {
  /** Network namespace of the bridge. */
  namespace: string;
  /** The bridge device in it (default br0). */
  bridge?: string;
}

export interface NodeNetworkOptions {
  netns: string;
  nodeIp: string;
  prefixLength: number;
  /** The node's interface is a veth into this LAN instead of a pair kept inside the namespace. */
  lan?: LanAttachment;
  /** Name of the LAN end in the bridge namespace (unique per bridge, ≤ 15 characters). */
  lanPeerName?: string;
}

/** The interface that carries the node's IP inside its namespace. */
export const NODE_INTERFACE = 'node0';

/** An address of the node's subnet that nobody holds: the dead-end default gateway. */
export function deadEndGateway(nodeIp: string, prefixLength: number): string {
  const broadcast = ipaddr.IPv4.broadcastAddressFromCIDR(`${nodeIp}/${prefixLength}`).toByteArray();
  const last = [...broadcast];
  last[3] = last[3]! - 1;
  const candidate = last.join('.');
  if (candidate !== nodeIp) return candidate;
  last[3] = last[3]! - 1;
  return last.join('.');
}

/** Creates the node's network namespace and its interface; throws if the namespace exists. */
export async function createNodeNetwork(opts: NodeNetworkOptions): Promise<void> {
  const { netns } = opts;
  if (existsSync(netnsPath(netns)))
    throw new Error(
      `network namespace ${netns} already exists: a node of that name is running, or was left behind by a killed run (remove it with \`ip netns del ${netns}\`)`,
    );
  await run(['ip', 'netns', 'add', netns]);
  try {
    await configureNodeNetwork(opts);
  } catch (err) {
    await run(['ip', 'netns', 'del', netns]).catch(() => undefined);
    throw err;
  }
}

async function configureNodeNetwork(opts: NodeNetworkOptions): Promise<void> {
  const { netns } = opts;
  const inNs = ['ip', '-n', netns];
  await run([...inNs, 'link', 'set', 'lo', 'up']);
  if (opts.lan) {
    const bridge = opts.lan.bridge ?? 'br0';
    const peer = opts.lanPeerName ?? `${NODE_INTERFACE}p`;
    await run([
      ...inNs,
      'link',
      'add',
      NODE_INTERFACE,
      'type',
      'veth',
      'peer',
      'name',
      peer,
      'netns',
      opts.lan.namespace,
    ]);
    await run(['ip', '-n', opts.lan.namespace, 'link', 'set', peer, 'master', bridge]);
    await run(['ip', '-n', opts.lan.namespace, 'link', 'set', peer, 'up']);
  } else {
    await run([...inNs, 'link', 'add', NODE_INTERFACE, 'type', 'veth', 'peer', 'name', `${NODE_INTERFACE}p`]);
    await run([...inNs, 'link', 'set', `${NODE_INTERFACE}p`, 'up']);
  }
  await run([...inNs, 'addr', 'add', `${opts.nodeIp}/${opts.prefixLength}`, 'dev', NODE_INTERFACE]);
  await run([...inNs, 'link', 'set', NODE_INTERFACE, 'up']);
  const gateway = deadEndGateway(opts.nodeIp, opts.prefixLength);
  await run([...inNs, 'route', 'add', 'default', 'via', gateway, 'dev', NODE_INTERFACE, 'onlink']);
  // mDNS (a hostNetwork agent on a LAN) goes out of the node's interface
  await run([...inNs, 'route', 'add', '224.0.0.0/4', 'dev', NODE_INTERFACE]);
  // Per-namespace switches: pods are routed, kube-proxy's DNAT applies to bridged traffic, and
  // NodePorts on 127.0.0.1 work.
  await run([
    'nsenter',
    `--net=${netnsPath(netns)}`,
    'sysctl',
    '-qw',
    'net.ipv4.ip_forward=1',
    'net.ipv4.conf.all.route_localnet=1',
  ]);
  await run([
    'nsenter',
    `--net=${netnsPath(netns)}`,
    'sysctl',
    '-qw',
    'net.bridge.bridge-nf-call-iptables=1',
  ]).catch(() => undefined); // absent without br_netfilter: Services from pods on the bridge then skip kube-proxy
}

export async function deleteNetwork(netns: string): Promise<void> {
  if (existsSync(netnsPath(netns))) await run(['ip', 'netns', 'del', netns]);
}

/** The namespace's identity as the kernel names it (`mnt:[4026532174]`), or undefined once gone. */
export function namespaceId(pid: number | 'self', kind: 'mnt' | 'net'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return undefined;
  }
}

/** `net:[<inode>]` of a named network namespace, or undefined when there is none. */
export function netnsId(netns: string): string | undefined {
  try {
    // stat (not lstat) reaches the nsfs file mounted on the name: its inode is the namespace's
    return `net:[${statSync(netnsPath(netns)).ino}]`;
  } catch {
    return undefined;
  }
}

/** PIDs of every process whose namespace of `kind` is `id` (this process excluded). */
export function pidsInNamespace(kind: 'mnt' | 'net', id: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    if (namespaceId(pid, kind) === id) pids.push(pid);
  }
  return pids;
}

export interface MountNamespace {
  /** The `sleep` that keeps the namespace alive; stopping it frees the namespace. */
  readonly holder: ManagedProcess;
  /** /proc/<pid>/ns/mnt, for `nsenter --mount=`. */
  readonly path: string;
  /** `mnt:[<inode>]`: finds every process inside (shims outlive their containerd). */
  readonly id: string;
}

/** Paths the node sees through an overlay whose writes go to its state directory. */
export const OVERLAID_PATHS = ['/var', '/run'] as const;

/**
 * Starts the holder of the node's mount namespace. Its shell mounts the overlays itself, after
 * `unshare` has made the namespace and before it says ready, so nothing can be mounted in the
 * machine's own namespace by mistake.
 */
export async function startMountNamespace(stateDir: string, logDir: string): Promise<MountNamespace> {
  if (OVERLAID_PATHS.some((path) => stateDir === path || stateDir.startsWith(`${path}/`)))
    throw new Error(
      `the node's state directory ${stateDir} is under ${OVERLAID_PATHS.join(' or ')}, which the node overlays: set TMPDIR elsewhere (e.g. /tmp)`,
    );
  const script = [
    'set -e',
    ...OVERLAID_PATHS.map((path) => {
      const base = join(stateDir, 'overlay', path.slice(1));
      mkdirSync(join(base, 'upper'), { recursive: true });
      mkdirSync(join(base, 'work'), { recursive: true });
      return `mount -t overlay liqo-node-overlay -o lowerdir=${path},upperdir=${base}/upper,workdir=${base}/work ${path}`;
    }),
    'echo ready',
    'exec sleep infinity',
  ].join('\n');
  const holder = startProcess(
    'mount-namespace',
    'unshare',
    ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script],
    { logFile: join(logDir, 'mount-namespace.log') },
  );
  const ownId = namespaceId('self', 'mnt');
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (!holder.isRunning()) throw new Error(`the node's mount namespace did not start: ${holder.tail(3)}`);
    const id = namespaceId(holder.pid, 'mnt');
    if (id && id !== ownId && holder.tail(1) === 'ready')
      return { holder, path: `/proc/${holder.pid}/ns/mnt`, id };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await holder.stop();
  throw new Error(`the node's mount namespace was not ready after 20 s: ${holder.tail(3)}`);
}

/** Every mounted cgroup hierarchy (v1 controllers, name=systemd, the unified one). */
function cgroupHierarchies(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => {
      const type = fields[fields.indexOf('-') + 1];
      return (type === 'cgroup' || type === 'cgroup2') && fields[4]?.startsWith('/sys/fs/cgroup');
    })
    .map((fields) => fields[4]!);
}

/**
 * Creates `/<name>` in every cgroup hierarchy (the kubelet refuses a --cgroup-root that does not
 * exist); a new cpuset gets its parent's CPUs and memory nodes, or nothing could run in it.
 */
export function createCgroupRoot(name: string): string[] {
  const dirs: string[] = [];
  for (const hierarchy of cgroupHierarchies()) {
    const dir = join(hierarchy, name);
    if (!existsSync(dir)) mkdirSync(dir);
    dirs.push(dir);
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (existsSync(join(dir, file)) && readFileSync(join(dir, file), 'utf8').trim() === '')
        writeFileSync(join(dir, file), readFileSync(join(hierarchy, file), 'utf8'));
    }
  }
  return dirs;
}

/** Every cgroup directory below `roots`, deepest first. */
function cgroupTree(roots: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return;
    }
    for (const child of entries) walk(join(dir, child));
    out.push(dir);
  };
  for (const root of roots) walk(root);
  return out;
}

/** PIDs of the processes in the cgroups below `roots` (the node's pods). */
export function pidsInCgroups(roots: string[]): number[] {
  const pids = new Set<number>();
  for (const dir of cgroupTree(roots)) {
    try {
      for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n'))
        if (line.trim()) pids.add(Number(line));
    } catch {
      // removed meanwhile
    }
  }
  return [...pids];
}

/** Removes the cgroup trees (they must be empty by now); returns the ones that remain. */
export function removeCgroupTrees(roots: string[]): string[] {
  for (const dir of cgroupTree(roots)) {
    try {
      rmdirSync(dir);
    } catch {
      // busy or gone: reported by the caller through existsSync
    }
  }
  return roots.filter((dir) => existsSync(dir));
}

export function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
