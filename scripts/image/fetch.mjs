// Fetches the pinned inputs of scripts/image/inputs.mjs into a cache and checks their hashes:
// Node with `npm pack` (the npm registry), Debian packages with `apt-get download`.
//
// apt runs with a configuration of its own (APT_CONFIG: its own sources, lists, cache and
// architecture, none of the machine's apt.conf.d), so fetching arm64 packages on an amd64
// machine needs no `dpkg --add-architecture` and the machine's apt state is never touched.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEBIAN_PACKAGES, DEBIAN_SUITE, NODE_VERSION, PLATFORMS } from './inputs.mjs';

const run = promisify(execFile);
const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

export function inputCacheDir() {
  return process.env.LIQO_IMAGE_INPUT_CACHE ?? join(homedir(), '.cache/liqo-discovery/image-inputs');
}

async function fileDigest(path, algorithm, encoding) {
  return createHash(algorithm)
    .update(await readFile(path))
    .digest(encoding);
}

/** Node's release tarball for `platform` from the npm registry; returns the .tgz path. */
export async function fetchNode(platform, log = () => {}) {
  const { nodePackage, nodeIntegrity } = PLATFORMS[platform];
  const dir = join(inputCacheDir(), 'npm');
  const cached = join(dir, `${nodePackage}-${NODE_VERSION}.tgz`);
  const integrityOf = async (path) => `sha512-${await fileDigest(path, 'sha512', 'base64')}`;
  if (existsSync(cached) && (await integrityOf(cached)) === nodeIntegrity) return cached;
  await mkdir(dir, { recursive: true });
  const scratch = await mkdtemp(join(dir, 'fetch-'));
  try {
    log(`fetching ${nodePackage}@${NODE_VERSION} from the npm registry`);
    // npm checks the tarball against the registry's integrity; we check it against our pin
    await run('npm', ['pack', `${nodePackage}@${NODE_VERSION}`, '--pack-destination', scratch, '--silent'], {
      maxBuffer: 1 << 24,
    });
    const fetched = join(scratch, `${nodePackage}-${NODE_VERSION}.tgz`);
    const integrity = await integrityOf(fetched);
    if (integrity !== nodeIntegrity) {
      throw new Error(
        `${nodePackage}@${NODE_VERSION}: integrity ${integrity} is not the pinned ${nodeIntegrity} (scripts/image/inputs.mjs)`,
      );
    }
    await rename(fetched, cached);
    return cached;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function aptConfig(root, debianArch) {
  return `Dir::Etc::main "/dev/null";
Dir::Etc::parts "${root}/empty.d";
Dir::Etc::sourcelist "/dev/null";
Dir::Etc::sourceparts "${root}/sources.list.d";
Dir::Etc::preferences "/dev/null";
Dir::Etc::preferencesparts "${root}/empty.d";
Dir::State "${root}/state";
Dir::State::status "${root}/state/status";
Dir::Cache "${root}/cache";
Dir::Log "${root}/log";
APT::Architecture "${debianArch}";
APT::Architectures { "${debianArch}"; };
Acquire::Languages "none";
Acquire::GzipIndexes "true";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT::Sandbox::User "root";
`;
}

function debianSources() {
  const signedBy = `Signed-By: ${DEBIAN_KEYRING}`;
  return `Types: deb
URIs: http://deb.debian.org/debian
Suites: ${DEBIAN_SUITE} ${DEBIAN_SUITE}-updates
Components: main
${signedBy}

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: ${DEBIAN_SUITE}-security
Components: main
${signedBy}
`;
}

/** A private apt for one architecture; returns the environment to run apt-get with. */
async function privateApt(debianArch) {
  if (!existsSync(DEBIAN_KEYRING)) {
    throw new Error(
      `${DEBIAN_KEYRING} is missing: install the debian-archive-keyring package (it checks the Debian archive's signatures)`,
    );
  }
  const root = join(inputCacheDir(), 'apt', debianArch);
  for (const sub of ['empty.d', 'sources.list.d', 'state/lists/partial', 'cache/archives/partial', 'log']) {
    await mkdir(join(root, sub), { recursive: true });
  }
  await writeFile(join(root, 'sources.list.d/debian.sources'), debianSources());
  if (!existsSync(join(root, 'state/status'))) await writeFile(join(root, 'state/status'), '');
  await writeFile(join(root, 'apt.conf'), aptConfig(root, debianArch));
  return { env: { ...process.env, APT_CONFIG: join(root, 'apt.conf') }, root };
}

async function aptGet(args, options) {
  try {
    return await run('apt-get', ['-q', ...args], { ...options, maxBuffer: 1 << 24 });
  } catch (error) {
    if (error.code === 'ENOENT') {
      throw new Error(
        'apt-get is not installed: the image takes its libraries from Debian packages, fetched with ' +
          'apt-get (Debian or Ubuntu); elsewhere build with the Dockerfile',
        { cause: error },
      );
    }
    const detail = `${error.stderr ?? ''}`.trim().split('\n').filter(Boolean).pop() ?? error.message;
    throw new Error(`apt-get ${args.join(' ')}: ${detail}`, { cause: error });
  }
}

/** The pinned Debian packages for `platform`; returns { [package]: path of the checked .deb }. */
export async function fetchDebianPackages(platform, log = () => {}) {
  const { debianArch } = PLATFORMS[platform];
  const dir = join(inputCacheDir(), 'debian');
  await mkdir(dir, { recursive: true });
  const result = {};
  const missing = [];
  for (const [name, pin] of Object.entries(DEBIAN_PACKAGES)) {
    const arch = pin.architectureAll ? 'all' : debianArch;
    const path = join(dir, `${name}_${pin.version.replace(':', '%3a')}_${arch}.deb`);
    result[name] = path;
    if (existsSync(path) && (await fileDigest(path, 'sha256', 'hex')) === pin.sha256[arch]) continue;
    missing.push({ name, pin, arch, path });
  }
  if (missing.length === 0) return result;

  const apt = await privateApt(debianArch);
  log(`fetching ${missing.map(({ name }) => name).join(', ')} (${debianArch}) with apt-get download`);
  const lists = await readdir(join(apt.root, 'state/lists'));
  if (!lists.some((file) => /_Packages(\.\w+)?$/.test(file)) || process.env.LIQO_IMAGE_APT_UPDATE === '1') {
    await aptGet(['update'], { env: apt.env });
  }
  const scratch = await mkdtemp(join(dir, 'fetch-'));
  try {
    const specs = missing.map(({ name, pin, arch }) => `${name}:${arch}=${pin.version}`);
    try {
      await aptGet(['download', ...specs], { env: apt.env, cwd: scratch });
    } catch {
      // lists from an earlier run may predate a security update: refresh once, then say why
      await aptGet(['update'], { env: apt.env });
      try {
        await aptGet(['download', ...specs], { env: apt.env, cwd: scratch });
      } catch (error) {
        throw new Error(
          `${error.message}\n  Debian's mirrors keep only the newest version of each package: if a pinned version ` +
            `is gone, pin the current one in scripts/image/inputs.mjs (apt-cache policy <package>).`,
          { cause: error },
        );
      }
    }
    const downloaded = await readdir(scratch);
    for (const { name, pin, arch, path } of missing) {
      const file = downloaded.find((f) => f.startsWith(`${name}_`) && f.endsWith(`_${arch}.deb`));
      if (!file) throw new Error(`apt-get download left no .deb for ${name} (${arch})`);
      const sha256 = await fileDigest(join(scratch, file), 'sha256', 'hex');
      if (sha256 !== pin.sha256[arch]) {
        throw new Error(
          `${name} ${pin.version} (${arch}): sha256 ${sha256} is not the pinned ${pin.sha256[arch]} (scripts/image/inputs.mjs)`,
        );
      }
      await rename(join(scratch, file), path);
    }
    return result;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Unpacks a .deb with dpkg-deb into `dir` (created). */
export async function extractDeb(deb, dir) {
  await mkdir(dir, { recursive: true });
  await run('dpkg-deb', ['-x', deb, dir]);
}

/** Unpacks an npm .tgz (its files under package/) into `dir` with tar. */
export async function extractTgz(tgz, dir, members) {
  await mkdir(dir, { recursive: true });
  await run('tar', ['-xzf', tgz, '-C', dir, ...members]);
}
