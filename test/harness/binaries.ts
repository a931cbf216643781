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

/**
 * Builds kube-apiserver into the cache with Go (minutes, once per machine). The output goes to
 * a temporary name first so an interrupted build never leaves a broken binary in the cache.
 */
export async function buildKubeApiserver(log: (line: string) => void = () => {}): Promise<string> {
  const go = goBinary();
  if (!go)
    throw new MissingBinariesError(`kube-apiserver not found and Go is not installed: ${HOW_TO_GET_THEM}`);
  const outDir = cacheDirectory();
  mkdirSync(outDir, { recursive: true });
  const target = join(outDir, 'kube-apiserver');
  const partial = `${target}.partial-${process.pid}`;
  const pkg = 'k8s.io/component-base/version';
  const ldflags = [
    '-s -w',
    `-X ${pkg}.gitVersion=v${KUBERNETES_VERSION}`,
    `-X ${pkg}.gitMajor=${KUBERNETES_VERSION.split('.')[0]}`,
    `-X ${pkg}.gitMinor=${KUBERNETES_VERSION.split('.')[1]}`,
    `-X ${pkg}.gitTreeState=clean`,
  ].join(' ');
  log(`building kube-apiserver ${KUBERNETES_VERSION} with Go into ${outDir} (once; takes minutes)`);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(
      go,
      ['build', '-trimpath', `-ldflags=${ldflags}`, '-o', partial, 'k8s.io/kubernetes/cmd/kube-apiserver'],
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
  if (code !== 0) {
    rmSync(partial, { force: true });
    throw new MissingBinariesError(
      `building kube-apiserver with Go failed (exit ${code}); ${HOW_TO_GET_THEM}`,
    );
  }
  renameSync(partial, target);
  return target;
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
