// What goes into the image, as three layers of tar entries (scripts/image/oci-archive.mjs):
//   base  the few files of Debian packages Node needs (loader, libc, libm, libdl, libpthread,
//         libgcc_s, libstdc++), the CA bundle, /etc/passwd and /etc/group with the distroless
//         "nonroot" user (65532), /tmp, licences, and dpkg status files that image scanners read
//   node  Node's official binary and licence at /nodejs (the distroless nodejs layout)
//   app   our two bundles and the packages they load at run time, under /app
// No shell, no package manager, no other program: the distroless recipe (Debian packages
// unpacked with dpkg-deb, never installed).
import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { entriesFromDirectory } from './oci-archive.mjs';
import { DEBIAN_PACKAGES, NODE_VERSION, PLATFORMS, sharedLibraries } from './inputs.mjs';
import { extractDeb, extractTgz, fetchDebianPackages, fetchNode } from './fetch.mjs';
import { isRuntimeFile, runtimeDependencyDirs } from './runtime-deps.mjs';

const run = promisify(execFile);

export const NONROOT = { uid: 65532, gid: 65532, name: 'nonroot' };
export const NODE_PATH = '/nodejs/bin/node';
export const PROGRAMS = { webhook: '/app/dist/liqo-webhook.cjs', agent: '/app/dist/liqo-agent.cjs' };

const PASSWD = `root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
`;
const GROUP = `root:x:0:
nobody:x:65534:
nonroot:x:65532:
`;
// glibc's default without this file tries DNS before /etc/hosts
const NSSWITCH = `passwd: files
group: files
hosts: files dns
`;
// what image scanners read to know which package database applies
const OS_RELEASE = `PRETTY_NAME="liqo-discovery (distroless, Debian GNU/Linux 12 packages)"
NAME="Debian GNU/Linux"
ID=debian
VERSION_ID="12"
VERSION_CODENAME=bookworm
`;

/** The CA bundle update-ca-certificates would write: every certificate, sorted, concatenated. */
async function caBundle(caRoot) {
  const base = join(caRoot, 'usr/share/ca-certificates');
  const files = (await readdir(base, { recursive: true })).filter((f) => f.endsWith('.crt')).sort();
  if (files.length === 0) throw new Error('the ca-certificates package held no certificates');
  const parts = [];
  for (const file of files) {
    const text = await readFile(join(base, file), 'utf8');
    parts.push(text.endsWith('\n') ? text : `${text}\n`);
  }
  return parts.join('');
}

async function entryFromUnpacked(root, path, into = path) {
  const absolute = join(root, path);
  const stat = await lstat(absolute).catch(() => undefined);
  if (!stat) throw new Error(`${path} is not in the unpacked package (scripts/image/inputs.mjs names it)`);
  if (stat.isSymbolicLink()) return { path: into, type: 'symlink', linkname: await readlink(absolute) };
  return { path: into, type: 'file', source: absolute, mode: stat.mode & 0o111 ? 0o755 : 0o644 };
}

/** The base layer's entries for `platform`; `scratch` is a folder the packages unpack into. */
async function baseEntries(platform, scratch, log) {
  const debs = await fetchDebianPackages(platform, log);
  const unpacked = {};
  for (const [name, deb] of Object.entries(debs)) {
    unpacked[name] = join(scratch, 'deb', name);
    await extractDeb(deb, unpacked[name]);
  }
  const { multiarch, loaderLink } = PLATFORMS[platform];
  const entries = [
    { path: 'etc/passwd', type: 'file', content: PASSWD },
    { path: 'etc/group', type: 'file', content: GROUP },
    { path: 'etc/nsswitch.conf', type: 'file', content: NSSWITCH },
    { path: 'etc/os-release', type: 'file', content: OS_RELEASE },
    {
      path: 'etc/ssl/certs/ca-certificates.crt',
      type: 'file',
      content: await caBundle(unpacked['ca-certificates']),
    },
    { path: 'home/nonroot', type: 'directory', mode: 0o700, uid: NONROOT.uid, gid: NONROOT.gid },
    { path: 'tmp', type: 'directory', mode: 0o1777 },
    await entryFromUnpacked(unpacked.libc6, loaderLink),
    await entryFromUnpacked(unpacked['libstdc++6'], `usr/lib/${multiarch}/libstdc++.so.6`),
  ];
  for (const { pkg, path } of sharedLibraries(platform))
    entries.push(await entryFromUnpacked(unpacked[pkg], path));
  for (const name of Object.keys(DEBIAN_PACKAGES)) {
    // the licence; libstdc++6's and libgcc-s1's doc folders are links to gcc-12-base's
    const doc = `usr/share/doc/${name}`;
    const isLink = (await lstat(join(unpacked[name], doc))).isSymbolicLink();
    entries.push(await entryFromUnpacked(unpacked[name], isLink ? doc : `${doc}/copyright`));
    const { stdout: control } = await run('dpkg-deb', ['-f', debs[name]]);
    entries.push({ path: `var/lib/dpkg/status.d/${name}`, type: 'file', content: control });
  }
  return entries;
}

async function nodeEntries(platform, scratch, log) {
  const tgz = await fetchNode(platform, log);
  const dir = join(scratch, 'node');
  await extractTgz(tgz, dir, ['package/bin/node', 'package/LICENSE']);
  return [
    { path: 'nodejs/bin/node', type: 'file', source: join(dir, 'package/bin/node'), mode: 0o755 },
    { path: 'nodejs/LICENSE', type: 'file', source: join(dir, 'package/LICENSE') },
  ];
}

/** /app: the bundles (already built into `bundleDir`) and client-node's runtime closure. */
async function appEntries(repoRoot, bundleDir) {
  const entries = [];
  for (const program of Object.keys(PROGRAMS)) {
    const file = `liqo-${program}.cjs`;
    entries.push({ path: `app/dist/${file}`, type: 'file', source: join(bundleDir, file), mode: 0o644 });
  }
  for (const packageDir of runtimeDependencyDirs(repoRoot)) {
    for (const entry of await entriesFromDirectory(join(repoRoot, packageDir))) {
      // a nested node_modules holds packages of their own, listed by runtimeDependencyDirs when needed
      if (entry.path === 'node_modules' || entry.path.startsWith('node_modules/')) continue;
      if (entry.type === 'file' && !isRuntimeFile(entry.path)) continue;
      entries.push({ ...entry, path: `app/${packageDir}/${entry.path}` });
    }
  }
  return entries;
}

/**
 * The layers of the image for `platform` ('amd64' | 'arm64'). Returns { layers, cleanup }:
 * the entries point at files in a scratch folder that cleanup() removes.
 */
export async function imageLayers({ platform, repoRoot, bundleDir, log = () => {} }) {
  const scratch = await mkdtemp(join(tmpdir(), 'liqo-image-'));
  try {
    const layers = [
      { entries: await baseEntries(platform, scratch, log) },
      { entries: await nodeEntries(platform, scratch, log) },
      { entries: await appEntries(repoRoot, bundleDir) },
    ];
    return { layers, cleanup: () => rm(scratch, { recursive: true, force: true }) };
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    throw error;
  }
}

/** The image configuration: the webhook by default; the agent's pods set their own command. */
export function imageConfig(version) {
  return {
    entrypoint: [NODE_PATH, '--max-semi-space-size=8', PROGRAMS.webhook],
    user: `${NONROOT.uid}:${NONROOT.gid}`,
    workingDir: '/app',
    // /nodejs/bin first: a pod's `command: [node, …]` finds it
    env: [
      'PATH=/nodejs/bin:/usr/local/bin:/usr/bin:/bin',
      'NODE_ENV=production',
      'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
    ],
    exposedPorts: ['8443/tcp'],
    labels: {
      'org.opencontainers.image.title': 'liqo-discovery',
      'org.opencontainers.image.description':
        `The Liqo discovery admission webhook (entrypoint) and discovery agent (/app/dist/liqo-agent.cjs); ` +
        `Node ${NODE_VERSION} on Debian 12 libraries, distroless-style`,
      'org.opencontainers.image.version': version,
      'org.opencontainers.image.licenses': 'Apache-2.0',
    },
  };
}

/** Writes the layers' entries into a folder, for the Dockerfile's `COPY --from=build /rootfs /`. */
export async function materialise(layers, dir) {
  const { writeFile, copyFile, symlink, chmod, chown } = await import('node:fs/promises');
  const asRoot = process.getuid?.() === 0;
  for (const layer of layers) {
    for (const entry of layer.entries) {
      const target = join(dir, entry.path);
      await mkdir(join(target, '..'), { recursive: true });
      if (entry.type === 'directory') await mkdir(target, { recursive: true });
      else if (entry.type === 'symlink') await symlink(entry.linkname, target);
      else if (entry.content !== undefined) await writeFile(target, entry.content);
      else await copyFile(entry.source, target);
      if (entry.type !== 'symlink') {
        await chmod(target, entry.mode ?? (entry.type === 'directory' ? 0o755 : 0o644));
        if (asRoot && (entry.uid || entry.gid)) await chown(target, entry.uid ?? 0, entry.gid ?? 0);
      }
    }
  }
}
