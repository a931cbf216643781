// Where the control plane's binaries come from, envtest style: KUBEBUILDER_ASSETS when set,
// else a cache directory outside the clone, else kube-apiserver built once with Go from the
// tools module next to this file. etcd comes from Debian's etcd-server (or PATH).
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Kubernetes version pinned by kube-tools/go.mod (the machine's kubectl covers it). */
export const KUBERNETES_VERSION = '1.33.13';

export interface ControlPlaneBinaries {
  kubeApiserver: string;
  etcd: string;
  /** Where each came from, for the one line that says what was used. */
  description: string;
}

/** Missing binaries: the message is the one line telling the user how to get them. */
export class MissingBinariesError extends Error {
  override name = 'MissingBinariesError';
}

const HOW_TO_GET_THEM =
  `install Go (https://go.dev/dl) so the harness can build kube-apiserver ${KUBERNETES_VERSION} once, ` +
  `or set KUBEBUILDER_ASSETS to a directory holding kube-apiserver and etcd ` +
  `(e.g. \`setup-envtest use ${KUBERNETES_VERSION} -p path\`), and install etcd (apt-get install etcd-server)`;

const toolsModuleDir = join(dirname(fileURLToPath(import.meta.url)), 'kube-tools');

export function cacheDirectory(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'liqo-discovery', `k8s-${KUBERNETES_VERSION}`);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function findEtcd(assetsDir: string | undefined): { path: string; from: string } | undefined {
  const candidates: Array<[string | undefined, string]> = [
    [assetsDir && join(assetsDir, 'etcd'), 'KUBEBUILDER_ASSETS'],
    [join(cacheDirectory(), 'etcd'), 'cache'],
    ['/usr/bin/etcd', 'Debian etcd-server'],
    [onPath('etcd'), 'PATH'],
  ];
  for (const [path, from] of candidates) if (path && isExecutable(path)) return { path, from };
  return undefined;
}

/** Finds both binaries without building anything; undefined for kube-apiserver when not found. */
export function locateBinaries(): {
  kubeApiserver?: string;
  apiserverFrom?: string;
  etcd?: string;
  etcdFrom?: string;
} {
  const assets = process.env.KUBEBUILDER_ASSETS || undefined;
  const etcd = findEtcd(assets);
  const fromAssets = assets && join(assets, 'kube-apiserver');
  const fromCache = join(cacheDirectory(), 'kube-apiserver');
  const kubeApiserver =
    fromAssets && isExecutable(fromAssets) ? fromAssets : isExecutable(fromCache) ? fromCache : undefined;
  return {
    ...(kubeApiserver
      ? { kubeApiserver, apiserverFrom: kubeApiserver === fromAssets ? 'KUBEBUILDER_ASSETS' : 'cache' }
      : {}),
    ...(etcd ? { etcd: etcd.path, etcdFrom: etcd.from } : {}),
  };
}

/** The `go` command: on PATH, or where the official tarball puts it; undefined without Go. */
export function goBinary(): string | undefined {
  return onPath('go') ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}

/** The Go packages the tools module builds, by the binary name `go build -o DIR/` gives each. */
const GO_PACKAGES = {
  'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
  'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
  'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
  kubelet: 'k8s.io/kubernetes/cmd/kubelet',
  'kube-proxy': 'k8s.io/kubernetes/cmd/kube-proxy',
  // the pod sandbox's PID 1 for the real node's pause image (kube-tools/pause)
  pause: './pause',
} as const;

export type GoBuiltBinary = keyof typeof GO_PACKAGES;

/**
 * Builds `names` into the cache with ONE `go build` (they share most of their packages, so one
 * invocation compiles each package once; minutes the first time on a machine). The outputs go
 * to a temporary folder first and are renamed in one by one, so an interrupted build never
 * leaves a broken binary in the cache.
 */
export async function buildWithGo(
  names: readonly GoBuiltBinary[],
  log: (line: string) => void = () => {},
): Promise<Record<GoBuiltBinary, string>> {
  const go = goBinary();
  if (!go)
    throw new MissingBinariesError(
      `${names.join(', ')} not found and Go is not installed: ${HOW_TO_GET_THEM}`,
    );
  const outDir = cacheDirectory();
  mkdirSync(outDir, { recursive: true });
  const partialDir = join(outDir, `.partial-${process.pid}`);
  rmSync(partialDir, { recursive: true, force: true });
  mkdirSync(partialDir);
  const pkg = 'k8s.io/component-base/version';
  const ldflags = [
    '-s -w',
    `-X ${pkg}.gitVersion=v${KUBERNETES_VERSION}`,
    `-X ${pkg}.gitMajor=${KUBERNETES_VERSION.split('.')[0]}`,
    `-X ${pkg}.gitMinor=${KUBERNETES_VERSION.split('.')[1]}`,
    `-X ${pkg}.gitTreeState=clean`,
  ].join(' ');
  log(
    `building ${names.join(', ')} (Kubernetes ${KUBERNETES_VERSION}) with Go into ${outDir} (once; takes minutes)`,
  );
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(
      go,
      [
        'build',
        '-trimpath',
        `-ldflags=${ldflags}`,
        // a trailing slash: one binary per package, named after it
        '-o',
        `${partialDir}/`,
        ...names.map((name) => GO_PACKAGES[name]),
      ],
      {
        cwd: toolsModuleDir,
        // -mod=mod lets go fill go.sum if a new Go needs more; -mod=readonly would refuse.
        env: { ...process.env, GOFLAGS: '-mod=mod', CGO_ENABLED: '0' },
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    child.on('error', reject);
    child.on('exit', resolve);
  });
  try {
    if (code !== 0)
      throw new MissingBinariesError(
        `building ${names.join(', ')} with Go failed (exit ${code}); ${HOW_TO_GET_THEM}`,
      );
    const built = {} as Record<GoBuiltBinary, string>;
    for (const name of names) {
      built[name] = join(outDir, name);
      renameSync(join(partialDir, name), built[name]);
    }
    return built;
  } finally {
    rmSync(partialDir, { recursive: true, force: true });
  }
}

/** Builds kube-apiserver into the cache with Go (minutes, once per machine). */
export async function buildKubeApiserver(log: (line: string) => void = () => {}): Promise<string> {
  return (await buildWithGo(['kube-apiserver'], log))['kube-apiserver'];
}

/** Finds the binaries, building kube-apiserver when allowed and needed. */
export async function ensureBinaries(opts: {
  build: boolean;
  log?: (line: string) => void;
}): Promise<ControlPlaneBinaries> {
  const found = locateBinaries();
  if (!found.etcd) throw new MissingBinariesError(`etcd not found: ${HOW_TO_GET_THEM}`);
  let kubeApiserver = found.kubeApiserver;
  let from = found.apiserverFrom;
  if (!kubeApiserver) {
    if (!opts.build)
      throw new MissingBinariesError(`kube-apiserver not found in ${cacheDirectory()}: ${HOW_TO_GET_THEM}`);
    kubeApiserver = await buildKubeApiserver(opts.log);
    from = 'built with Go';
  }
  return {
    kubeApiserver,
    etcd: found.etcd,
    description: `kube-apiserver ${versionOf(kubeApiserver)} (${from}: ${kubeApiserver}), etcd ${versionOf(found.etcd)} (${found.etcdFrom}: ${found.etcd})`,
  };
}

function versionOf(binary: string): string {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const match = /v?(\d+\.\d+\.\d+)/.exec(`${out.stdout ?? ''}`);
  return match?.[1] ? `v${match[1]}` : 'unknown version';
}

/** Everything the real one-node cluster (test/harness/node) runs. */
export interface NodeBinaries extends ControlPlaneBinaries {
  kubeControllerManager: string;
  kubeScheduler: string;
  kubelet: string;
  kubeProxy: string;
  /** The static pause program that goes into the pause image. */
  pause: string;
  containerd: string;
  ctr: string;
  /** Where the CNI plugins (bridge, host-local, loopback, portmap) are. */
  cniBinDir: string;
}

const NODE_RUNTIME_HINT =
  'apt-get install containerd runc containernetworking-plugins iptables conntrack util-linux';

const NODE_GO_BINARIES: readonly GoBuiltBinary[] = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubelet',
  'kube-proxy',
  'pause',
];

/** Debian puts the CNI plugins in /usr/lib/cni; the upstream tarball in /opt/cni/bin. */
function findCniBinDir(): string | undefined {
  return ['/usr/lib/cni', '/opt/cni/bin'].find((dir) => isExecutable(join(dir, 'bridge')));
}

/**
 * Finds (building what is missing, in one `go build`, when allowed) the Kubernetes binaries of a
 * real node, and checks that the container runtime from Debian is installed.
 */
export async function ensureNodeBinaries(opts: {
  build: boolean;
  log?: (line: string) => void;
}): Promise<NodeBinaries> {
  const found = locateBinaries();
  if (!found.etcd) throw new MissingBinariesError(`etcd not found: ${HOW_TO_GET_THEM}`);
  const assets = process.env.KUBEBUILDER_ASSETS || undefined;
  const paths = {} as Record<GoBuiltBinary, string>;
  const missing: GoBuiltBinary[] = [];
  for (const name of NODE_GO_BINARIES) {
    const candidates = [
      name === 'kube-apiserver' ? found.kubeApiserver : undefined,
      assets && join(assets, name),
      join(cacheDirectory(), name),
    ];
    const path = candidates.find((p): p is string => !!p && isExecutable(p));
    if (path) paths[name] = path;
    else missing.push(name);
  }
  if (missing.length > 0) {
    if (!opts.build)
      throw new MissingBinariesError(
        `${missing.join(', ')} not found in ${cacheDirectory()}: ${HOW_TO_GET_THEM}`,
      );
    Object.assign(paths, await buildWithGo(missing, opts.log));
  }
  const runtime = {
    containerd:
      onPath('containerd') ?? (isExecutable('/usr/bin/containerd') ? '/usr/bin/containerd' : undefined),
    ctr: onPath('ctr') ?? (isExecutable('/usr/bin/ctr') ? '/usr/bin/ctr' : undefined),
    runc: onPath('runc') ?? (isExecutable('/usr/sbin/runc') ? '/usr/sbin/runc' : undefined),
    iptables: onPath('iptables') ?? (isExecutable('/usr/sbin/iptables') ? '/usr/sbin/iptables' : undefined),
    nsenter: onPath('nsenter'),
    unshare: onPath('unshare'),
    cniBinDir: findCniBinDir(),
  };
  const absent = Object.entries(runtime)
    .filter(([, path]) => !path)
    .map(([name]) => name);
  if (absent.length > 0)
    throw new MissingBinariesError(
      `the node's runtime is incomplete (${absent.join(', ')} not found): ${NODE_RUNTIME_HINT}`,
    );
  return {
    kubeApiserver: paths['kube-apiserver'],
    etcd: found.etcd,
    kubeControllerManager: paths['kube-controller-manager'],
    kubeScheduler: paths['kube-scheduler'],
    kubelet: paths.kubelet,
    kubeProxy: paths['kube-proxy'],
    pause: paths.pause,
    containerd: runtime.containerd!,
    ctr: runtime.ctr!,
    cniBinDir: runtime.cniBinDir!,
    description:
      `Kubernetes ${versionOf(paths.kubelet)} (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy in ${dirname(paths.kubelet)}), ` +
      `etcd ${versionOf(found.etcd)}, ${firstLine(runtime.containerd!, ['--version'])}, ${firstLine(runtime.runc!, ['--version'])}`,
  };
}

function firstLine(binary: string, args: string[]): string {
  const out = spawnSync(binary, args, { encoding: 'utf8', timeout: 10_000 });
  return `${out.stdout ?? ''}`.split('\n')[0]?.trim() || binary;
}
