// Writes a container image as a reproducible OCI image-layout tarball, without Docker or a
// registry. One call, one image, one platform:
//
//   import { writeOciArchive } from './scripts/image/oci-archive.mjs';
//   const image = await writeOciArchive({
//     out: 'dist/image/pause.oci.tar',
//     reference: 'registry.k8s.io/pause:3.10',        // the name importers give it
//     platform: { os: 'linux', architecture: 'amd64' }, // default: this machine's
//     layers: [
//       { dir: '/tmp/rootfs' },                         // a directory, walked recursively
//       { entries: [                                    // or entries listed by hand
//         { path: 'pause', type: 'file', source: '/usr/local/bin/pause', mode: 0o755 },
//         { path: 'etc/passwd', type: 'file', content: 'root:x:0:0::/:/sbin/nologin\n' },
//         { path: 'home/nonroot', type: 'directory', uid: 65532, gid: 65532 },
//         { path: 'lib64/ld.so', type: 'symlink', linkname: '../lib/ld.so' },
//       ] },
//     ],
//     config: { entrypoint: ['/pause'], cmd: [], user: '65532:65532', env: ['PATH=/'],
//               workingDir: '/', labels: {}, exposedPorts: ['8443/tcp'] },
//     sourceDateEpoch: 0,  // default: $SOURCE_DATE_EPOCH, else 0 (1970-01-01)
//   });
//   // image = { reference, manifestDigest, configDigest, archiveBytes, layers: [...] }
//
// The archive is accepted by `ctr -n k8s.io images import` (named by the
// io.containerd.image.name annotation), `kind load image-archive`, `skopeo copy oci-archive:…`,
// `podman load`, and `docker load` (a docker-style manifest.json sits beside index.json).
//
// Reproducible: the same inputs give the same bytes, hence the same digests. Tar entries are
// sorted by path, every entry has mtime = sourceDateEpoch, uid/gid 0 (unless an entry says
// otherwise), and modes are normalised (0755 for directories and executables, 0644 otherwise)
// so a machine's umask does not leak in. Gzip runs at a fixed level; Node's zlib writes a
// gzip header with mtime 0 and no file name, so the compressed bytes depend only on the input
// and on the zlib that Node bundles (same Node version, same bytes).
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { gzipSync, constants as zlibConstants } from 'node:zlib';
import tarStream from 'tar-stream';

export const MEDIA_TYPES = Object.freeze({
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
});

const GZIP_LEVEL = 6;

/** The platform of this machine in OCI terms (amd64, arm64, ...). */
export function hostPlatform() {
  const architecture = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' }[
    process.arch
  ];
  if (!architecture) throw new Error(`no OCI architecture known for Node's ${process.arch}`);
  return { os: 'linux', architecture };
}

/** SOURCE_DATE_EPOCH from the environment as seconds, else 0. */
export function sourceDateEpochFromEnv() {
  const raw = process.env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return 0;
  if (!/^\d+$/.test(raw)) throw new Error(`SOURCE_DATE_EPOCH must be whole seconds since 1970, got "${raw}"`);
  return Number(raw);
}

function sha256(buffer) {
  return `sha256:${createHash('sha256').update(buffer).digest('hex')}`;
}

function normalisedMode(type, mode) {
  if (type === 'directory') return 0o755;
  if (type === 'symlink') return 0o777;
  return mode & 0o111 ? 0o755 : 0o644;
}

/** Lists a directory tree as layer entries (paths relative to dir, '/'-separated). */
export async function entriesFromDirectory(dir) {
  const entries = [];
  async function walk(relative) {
    const names = (await readdir(join(dir, relative))).sort();
    for (const name of names) {
      const path = relative ? `${relative}/${name}` : name;
      const absolute = join(dir, path);
      const stat = await lstat(absolute);
      if (stat.isDirectory()) {
        entries.push({ path, type: 'directory' });
        await walk(path);
      } else if (stat.isSymbolicLink()) {
        entries.push({ path, type: 'symlink', linkname: await readlink(absolute) });
      } else if (stat.isFile()) {
        entries.push({ path, type: 'file', source: absolute, mode: normalisedMode('file', stat.mode) });
      } else {
        throw new Error(`${absolute}: only files, directories and symlinks can go into an image layer`);
      }
    }
  }
  await walk('');
  return entries;
}

/** Adds the missing parent directories and sorts by path, so the tar lists parents first. */
function completeAndSort(entries) {
  const byPath = new Map();
  for (const entry of entries) {
    const path = entry.path.replace(/^\/+/, '').replace(/\/+$/, '');
    if (!path || path.split('/').includes('..'))
      throw new Error(`layer entry path "${entry.path}" is not usable`);
    if (byPath.has(path)) throw new Error(`layer entry "${path}" is listed twice`);
    byPath.set(path, { ...entry, path });
  }
  for (const path of [...byPath.keys()]) {
    for (let parent = dirname(path); parent !== '.'; parent = dirname(parent)) {
      if (!byPath.has(parent)) byPath.set(parent, { path: parent, type: 'directory' });
    }
  }
  // byte order, not locale order: the same on every machine
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function tarBuffer(entries, mtime) {
  const pack = tarStream.pack();
  const chunks = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk);
  })();
  for (const entry of entries) {
    const header = {
      name: entry.type === 'directory' ? `${entry.path}/` : entry.path,
      type: entry.type,
      mode: entry.mode ?? normalisedMode(entry.type, 0),
      uid: entry.uid ?? 0,
      gid: entry.gid ?? 0,
      uname: '',
      gname: '',
      mtime,
    };
    if (entry.type === 'file') {
      const content =
        entry.content !== undefined ? Buffer.from(entry.content) : await readFile(entry.source ?? '');
      await new Promise((resolve, reject) =>
        pack.entry({ ...header, size: content.length }, content, (error) =>
          error ? reject(error) : resolve(),
        ),
      );
    } else if (entry.type === 'symlink') {
      pack.entry({ ...header, linkname: entry.linkname });
    } else if (entry.type === 'directory') {
      pack.entry(header);
    } else {
      throw new Error(`layer entry "${entry.path}": type must be file, directory or symlink`);
    }
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** Gzip with a fixed level; the header Node writes has mtime 0 and OS "unix". */
export function deterministicGzip(buffer) {
  return gzipSync(buffer, { level: GZIP_LEVEL, strategy: zlibConstants.Z_DEFAULT_STRATEGY });
}

/** Builds one layer: its gzip blob, the blob's digest and the diff id (digest of the tar). */
export async function buildLayer(layer, sourceDateEpoch) {
  const listed = layer.dir ? await entriesFromDirectory(layer.dir) : layer.entries;
  if (!Array.isArray(listed)) throw new Error('a layer needs either dir or entries');
  const tar = await tarBuffer(completeAndSort(listed), new Date(sourceDateEpoch * 1000));
  const blob = deterministicGzip(tar);
  return { blob, digest: sha256(blob), size: blob.length, diffId: sha256(tar), uncompressedSize: tar.length };
}

function imageConfig({ config, platform, layers, created }) {
  const exposedPorts = config.exposedPorts?.length
    ? Object.fromEntries([...config.exposedPorts].sort().map((port) => [port, {}]))
    : undefined;
  return {
    created,
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    config: {
      ...(config.user ? { User: config.user } : {}),
      ...(exposedPorts ? { ExposedPorts: exposedPorts } : {}),
      ...(config.env?.length ? { Env: config.env } : {}),
      ...(config.entrypoint ? { Entrypoint: config.entrypoint } : {}),
      ...(config.cmd ? { Cmd: config.cmd } : {}),
      ...(config.workingDir ? { WorkingDir: config.workingDir } : {}),
      ...(config.labels && Object.keys(config.labels).length
        ? { Labels: Object.fromEntries(Object.entries(config.labels).sort(([a], [b]) => (a < b ? -1 : 1))) }
        : {}),
    },
    rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) },
    history: layers.map((_, index) => ({ created, created_by: `layer ${index + 1} of ${layers.length}` })),
  };
}

/**
 * Builds the blobs of one image (layers, config, manifest) in memory.
 * Returns { blobs: Map<digest, Buffer>, manifestDescriptor, configDigest, layers }.
 */
export async function buildImage({ layers, config = {}, platform = hostPlatform(), sourceDateEpoch }) {
  const epoch = sourceDateEpoch ?? sourceDateEpochFromEnv();
  const created = new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');
  const built = [];
  for (const layer of layers) built.push(await buildLayer(layer, epoch));
  const configBytes = Buffer.from(JSON.stringify(imageConfig({ config, platform, layers: built, created })));
  const configDigest = sha256(configBytes);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: { mediaType: MEDIA_TYPES.config, digest: configDigest, size: configBytes.length },
    layers: built.map((layer) => ({
      mediaType: MEDIA_TYPES.layerGzip,
      digest: layer.digest,
      size: layer.size,
    })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const blobs = new Map([[configDigest, configBytes]]);
  for (const layer of built) blobs.set(layer.digest, layer.blob);
  blobs.set(sha256(manifestBytes), manifestBytes);
  return {
    blobs,
    configDigest,
    manifestDescriptor: {
      mediaType: MEDIA_TYPES.manifest,
      digest: sha256(manifestBytes),
      size: manifestBytes.length,
      platform: {
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
      },
    },
    layers: built.map(({ digest, size, diffId, uncompressedSize }) => ({
      digest,
      size,
      diffId,
      uncompressedSize,
    })),
  };
}

function blobPath(digest) {
  return `blobs/${digest.replace(':', '/')}`;
}

/** Writes the OCI layout (plus docker's manifest.json) of built images as one tar file. */
async function writeLayoutTar({ out, files, mtime }) {
  await mkdir(dirname(out), { recursive: true });
  const pack = tarStream.pack();
  const written = pipeline(pack, createWriteStream(out));
  const sorted = completeAndSort(files.map(([path, content]) => ({ path, type: 'file', content })));
  for (const entry of sorted) {
    const header = {
      name: entry.type === 'directory' ? `${entry.path}/` : entry.path,
      mode: normalisedMode(entry.type, 0),
      uid: 0,
      gid: 0,
      uname: '',
      gname: '',
      mtime,
      type: entry.type,
    };
    if (entry.type === 'directory') pack.entry(header);
    else
      await new Promise((resolve, reject) =>
        pack.entry({ ...header, size: entry.content.length }, entry.content, (error) =>
          error ? reject(error) : resolve(),
        ),
      );
  }
  pack.finalize();
  await written;
}

function nameAnnotations(reference) {
  return { 'io.containerd.image.name': reference, 'org.opencontainers.image.ref.name': reference };
}

/**
 * Builds one image and writes it to `out` as an OCI image-layout tar (see the top of the file).
 * Returns { reference, manifestDigest, configDigest, archiveBytes, layers: [{ digest, size,
 * diffId, uncompressedSize }] }; manifestDigest is the digest a registry reports after a push.
 */
export async function writeOciArchive({ out, reference, layers, config, platform, sourceDateEpoch }) {
  const epoch = sourceDateEpoch ?? sourceDateEpochFromEnv();
  const image = await buildImage({ layers, config, platform, sourceDateEpoch: epoch });
  return writeBuiltImageArchive({ out, reference, image, sourceDateEpoch: epoch });
}

/** writeOciArchive for an image already made by buildImage (same epoch). */
export async function writeBuiltImageArchive({ out, reference, image, sourceDateEpoch }) {
  if (!reference) throw new Error('writeOciArchive: a reference (e.g. example.org/name:tag) is required');
  const epoch = sourceDateEpoch ?? sourceDateEpochFromEnv();
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.index,
    manifests: [{ ...image.manifestDescriptor, annotations: nameAnnotations(reference) }],
  };
  // docker load (before Docker 25) reads only this file; Docker 25+, containerd, podman and
  // skopeo read the OCI index and ignore it.
  const dockerManifest = [
    {
      Config: blobPath(image.configDigest),
      RepoTags: [reference],
      Layers: image.layers.map((layer) => blobPath(layer.digest)),
    },
  ];
  const files = [
    ['oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }))],
    ['index.json', Buffer.from(JSON.stringify(index))],
    ['manifest.json', Buffer.from(JSON.stringify(dockerManifest))],
    ...[...image.blobs].map(([digest, bytes]) => [blobPath(digest), bytes]),
  ];
  await writeLayoutTar({ out, files, mtime: new Date(epoch * 1000) });
  return {
    reference,
    manifestDigest: image.manifestDescriptor.digest,
    configDigest: image.configDigest,
    archiveBytes: (await lstat(out)).size,
    layers: image.layers,
  };
}

/**
 * One reference for several platforms: `images` is [{ layers, config, platform }], built as
 * with writeOciArchive and listed in an image index (what a registry calls a manifest list;
 * `skopeo copy --all oci-archive:<out> docker://…` pushes it whole). index.json names that
 * index. No docker manifest.json: it cannot hold two platforms under one tag (Docker 25+ and
 * podman read the OCI index). Returns { reference, indexDigest, archiveBytes, images: [{
 * platform, manifestDigest, configDigest, layers }] }.
 */
export async function writeMultiPlatformOciArchive({ out, reference, images, sourceDateEpoch }) {
  const epoch = sourceDateEpoch ?? sourceDateEpochFromEnv();
  const built = [];
  for (const spec of images) built.push(await buildImage({ ...spec, sourceDateEpoch: epoch }));
  return writeBuiltImagesArchive({ out, reference, images: built, sourceDateEpoch: epoch });
}

/** writeMultiPlatformOciArchive for images already made by buildImage (same epoch). */
export async function writeBuiltImagesArchive({ out, reference, images: built, sourceDateEpoch }) {
  if (!reference) throw new Error('writeMultiPlatformOciArchive: a reference is required');
  const epoch = sourceDateEpoch ?? sourceDateEpochFromEnv();
  const blobs = new Map();
  for (const image of built) for (const [digest, bytes] of image.blobs) blobs.set(digest, bytes);
  const imageIndex = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.index,
      manifests: built.map((image) => image.manifestDescriptor),
    }),
  );
  const indexDigest = sha256(imageIndex);
  blobs.set(indexDigest, imageIndex);
  const layoutIndex = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.index,
    manifests: [
      {
        mediaType: MEDIA_TYPES.index,
        digest: indexDigest,
        size: imageIndex.length,
        annotations: nameAnnotations(reference),
      },
    ],
  };
  const files = [
    ['oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }))],
    ['index.json', Buffer.from(JSON.stringify(layoutIndex))],
    ...[...blobs].map(([digest, bytes]) => [blobPath(digest), bytes]),
  ];
  await writeLayoutTar({ out, files, mtime: new Date(epoch * 1000) });
  return {
    reference,
    indexDigest,
    archiveBytes: (await lstat(out)).size,
    images: built.map((image) => ({
      platform: image.manifestDescriptor.platform,
      manifestDigest: image.manifestDescriptor.digest,
      configDigest: image.configDigest,
      layers: image.layers,
    })),
  };
}
