// The SIG-Multicluster CRDs the e2e layer installs next to ours, pinned and verified by sha256,
// cached outside the clone like kube-apiserver (~/.cache/liqo-discovery/sig-multicluster/):
//  - ClusterProfile (KEP-4322) from the Go module sigs.k8s.io/cluster-inventory-api v0.1.3,
//    fetched with `go mod download` (the module proxy, checked against sum.golang.org);
//  - ClusterProperty (KEP-2149) from sigs.k8s.io/about-api: proxy.golang.org answers 403 for
//    every version of that module, so the file is vendored in third_party/about-api (Apache-2.0,
//    the upstream commit named in its header) and copied from there.
// Run by .ci/run through ensure-binaries.mjs, and by the e2e test that needs the files
// (ensureSigMulticlusterCrds). Prints one line; exits 1 with one line when it cannot.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLUSTER_INVENTORY_API = {
  module: 'sigs.k8s.io/cluster-inventory-api',
  version: 'v0.1.3',
  path: 'config/crd/bases/multicluster.x-k8s.io_clusterprofiles.yaml',
  file: 'multicluster.x-k8s.io_clusterprofiles.yaml',
  sha256: '6ff09e298672dac644e85926774e1e5f9768c8a2c94b36e54408f737e05bd1c6',
};

export const ABOUT_API = {
  module: 'sigs.k8s.io/about-api',
  commit: '970300d6be14f7d5509f7cfdbc1a306f095bb666',
  pseudoVersion: 'v0.0.0-20260727120759-970300d6be14',
  vendored: join(
    dirname(fileURLToPath(import.meta.url)),
    'third_party/about-api/about.k8s.io_clusterproperties.yaml',
  ),
  file: 'about.k8s.io_clusterproperties.yaml',
  /** Of the upstream file, i.e. the vendored one without its leading comment header. */
  sha256: '88f290ee52e23cdc92c62f14c25f150b9b590fe295dc4df6ef43aac3040fbc23',
};

export function sigMulticlusterCacheDir() {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'liqo-discovery', 'sig-multicluster');
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** The vendored file without the comment lines we put before upstream's first line. */
export function stripVendorHeader(text) {
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length && lines[i].startsWith('#')) i++;
  return lines.slice(i).join('\n');
}

function goBinary() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, 'go'), constants.X_OK);
      return join(dir, 'go');
    } catch {
      /* next */
    }
  }
  return existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined;
}

function verified(path, expected) {
  return existsSync(path) && sha256(readFileSync(path)) === expected;
}

function writeAtomically(path, bytes) {
  const partial = `${path}.partial-${process.pid}`;
  writeFileSync(partial, bytes);
  renameSync(partial, path);
}

function clusterProfileCrd(target) {
  const go = goBinary();
  if (!go) {
    throw new Error(
      `${CLUSTER_INVENTORY_API.file} not cached and Go is not installed: install Go (https://go.dev/dl) so ` +
        `\`go mod download ${CLUSTER_INVENTORY_API.module}@${CLUSTER_INVENTORY_API.version}\` can fetch it`,
    );
  }
  const r = spawnSync(
    go,
    ['mod', 'download', '-json', `${CLUSTER_INVENTORY_API.module}@${CLUSTER_INVENTORY_API.version}`],
    {
      encoding: 'utf8',
      // outside any module: `go mod download` of an explicit version needs none
      cwd: sigMulticlusterCacheDir(),
      env: { ...process.env, GO111MODULE: 'on', GOFLAGS: '-mod=mod' },
      timeout: 300_000,
    },
  );
  let info;
  try {
    info = JSON.parse(r.stdout);
  } catch {
    info = undefined;
  }
  if (r.status !== 0 || !info?.Dir) {
    const why = info?.Error ?? (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n')[0];
    throw new Error(
      `go mod download ${CLUSTER_INVENTORY_API.module}@${CLUSTER_INVENTORY_API.version}: ${why}`,
    );
  }
  const bytes = readFileSync(join(info.Dir, CLUSTER_INVENTORY_API.path));
  const got = sha256(bytes);
  if (got !== CLUSTER_INVENTORY_API.sha256) {
    throw new Error(
      `${CLUSTER_INVENTORY_API.module}@${CLUSTER_INVENTORY_API.version} ${CLUSTER_INVENTORY_API.path}: sha256 ${got}, expected ${CLUSTER_INVENTORY_API.sha256}`,
    );
  }
  writeAtomically(target, bytes);
}

function clusterPropertyCrd(target) {
  const upstream = stripVendorHeader(readFileSync(ABOUT_API.vendored, 'utf8'));
  const got = sha256(upstream);
  if (got !== ABOUT_API.sha256) {
    throw new Error(
      `${ABOUT_API.vendored}: sha256 of the upstream part is ${got}, expected ${ABOUT_API.sha256}`,
    );
  }
  writeAtomically(target, upstream);
}

/** Both CRD files in the cache, verified; returns their paths. */
export function ensureSigMulticlusterCrds() {
  const dir = sigMulticlusterCacheDir();
  mkdirSync(dir, { recursive: true });
  const clusterProfiles = join(dir, CLUSTER_INVENTORY_API.file);
  const clusterProperties = join(dir, ABOUT_API.file);
  const fetched = [];
  if (!verified(clusterProfiles, CLUSTER_INVENTORY_API.sha256)) {
    clusterProfileCrd(clusterProfiles);
    fetched.push(`${CLUSTER_INVENTORY_API.module}@${CLUSTER_INVENTORY_API.version}`);
  }
  if (!verified(clusterProperties, ABOUT_API.sha256)) {
    clusterPropertyCrd(clusterProperties);
    fetched.push(`${ABOUT_API.module}@${ABOUT_API.pseudoVersion} (vendored)`);
  }
  return { dir, clusterProfiles, clusterProperties, fetched };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const r = ensureSigMulticlusterCrds();
    console.log(
      `sig-multicluster-crds: ${r.fetched.length ? `cached ${r.fetched.join(', ')}` : 'already cached'} in ${r.dir}`,
    );
  } catch (err) {
    console.error(`sig-multicluster-crds: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
