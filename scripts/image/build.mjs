// npm run image: the one image of this release (webhook and agent), built without Docker or a
// registry, as OCI image-layout archives under dist/image/:
//   liqo-discovery-<version>-linux-<arch>.oci.tar   one per platform (ctr/kind/docker/podman load)
//   liqo-discovery-<version>.oci.tar                with several platforms: all of them, one index
//                                                   (skopeo copy --all … pushes a multi-arch image)
//
//   node scripts/image/build.mjs [--platform linux/amd64,linux/arm64] [--reference <name:tag>]
//                                [--out-dir <dir>] [--rootfs <dir>]
// --platform   default: this machine's
// --reference  default: LIQO_DISCOVERY_IMAGE (shared/api/constants.ts), what install deploys
// --rootfs     write the files of one platform's image into <dir> instead (the Dockerfile's
//              build stage does this, then copies <dir> into an empty image)
// SOURCE_DATE_EPOCH sets every timestamp (default 0): two builds of one tree, same digest.
// Inputs (Node, Debian packages) are cached in ~/.cache/liqo-discovery/image-inputs/
// (LIQO_IMAGE_INPUT_CACHE overrides).
import { transform } from 'esbuild';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { REPO_ROOT } from '../bundles.mjs';
import {
  buildImage,
  hostPlatform,
  sourceDateEpochFromEnv,
  writeBuiltImageArchive,
  writeBuiltImagesArchive,
} from './oci-archive.mjs';
import { PLATFORMS } from './inputs.mjs';
import { imageConfig, imageLayers, materialise } from './rootfs.mjs';

/** LIQO_DISCOVERY_IMAGE as the code defines it (shared/api/constants.ts imports nothing). */
export async function releaseImageReference() {
  const source = await readFile(join(REPO_ROOT, 'shared/api/constants.ts'), 'utf8');
  const { code } = await transform(source, { loader: 'ts', format: 'esm' });
  const constants = await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
  if (typeof constants.LIQO_DISCOVERY_IMAGE !== 'string') {
    throw new Error('shared/api/constants.ts exports no LIQO_DISCOVERY_IMAGE');
  }
  return constants.LIQO_DISCOVERY_IMAGE;
}

function parsePlatforms(text) {
  return text.split(',').map((item) => {
    const match = /^linux\/(amd64|arm64)$/.exec(item.trim());
    if (!match) throw new Error(`--platform: "${item}" is not one of linux/amd64, linux/arm64`);
    return match[1];
  });
}

const run = promisify(execFile);

/** Both bundles into `outDir`, built from the repository root (bundle-programs.mjs says why). */
async function bundlePrograms(outDir) {
  await run(process.execPath, [join(REPO_ROOT, 'scripts/image/bundle-programs.mjs'), outDir], {
    cwd: REPO_ROOT,
    maxBuffer: 1 << 24,
  });
}

const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const logToStderr = (line) => process.stderr.write(`${line}\n`);

/**
 * Builds the image for `platforms` into `outDir`; returns what it wrote: { reference,
 * archives: [{ path, platforms, digest, compressedBytes, uncompressedBytes, archiveBytes }] }.
 */
export async function buildReleaseImage({ platforms, reference, outDir, sourceDateEpoch, log = () => {} }) {
  const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8'));
  const bundleDir = await mkdtemp(join(tmpdir(), 'liqo-image-bundles-'));
  try {
    log('bundling the webhook and the agent');
    await bundlePrograms(bundleDir);
    const built = [];
    const archives = [];
    for (const platform of platforms) {
      const { layers, cleanup } = await imageLayers({ platform, repoRoot: REPO_ROOT, bundleDir, log });
      try {
        log(`building linux/${platform}`);
        const image = await buildImage({
          layers,
          config: imageConfig(version),
          platform: PLATFORMS[platform].oci,
          sourceDateEpoch,
        });
        built.push(image);
        const path = join(outDir, `liqo-discovery-${version}-linux-${platform}.oci.tar`);
        const written = await writeBuiltImageArchive({ out: path, reference, image, sourceDateEpoch });
        archives.push({
          path,
          platforms: [`linux/${platform}`],
          digest: written.manifestDigest,
          compressedBytes: [...image.blobs.values()].reduce((sum, blob) => sum + blob.length, 0),
          uncompressedBytes: image.layers.reduce((sum, layer) => sum + layer.uncompressedSize, 0),
          archiveBytes: written.archiveBytes,
        });
      } finally {
        await cleanup();
      }
    }
    if (built.length > 1) {
      const path = join(outDir, `liqo-discovery-${version}.oci.tar`);
      const written = await writeBuiltImagesArchive({ out: path, reference, images: built, sourceDateEpoch });
      archives.push({
        path,
        platforms: platforms.map((p) => `linux/${p}`),
        digest: written.indexDigest,
        archiveBytes: written.archiveBytes,
      });
    }
    return { reference, archives };
  } finally {
    await rm(bundleDir, { recursive: true, force: true });
  }
}

async function writeRootfs({ platform, dir, log }) {
  const bundleDir = await mkdtemp(join(tmpdir(), 'liqo-image-bundles-'));
  try {
    await bundlePrograms(bundleDir);
    const { layers, cleanup } = await imageLayers({ platform, repoRoot: REPO_ROOT, bundleDir, log });
    try {
      await materialise(layers, dir);
    } finally {
      await cleanup();
    }
  } finally {
    await rm(bundleDir, { recursive: true, force: true });
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      platform: { type: 'string' },
      reference: { type: 'string' },
      'out-dir': { type: 'string' },
      rootfs: { type: 'string' },
    },
  });
  const platforms = parsePlatforms(values.platform ?? `linux/${hostPlatform().architecture}`);
  if (values.rootfs) {
    if (platforms.length !== 1) throw new Error('--rootfs: name one --platform');
    await writeRootfs({ platform: platforms[0], dir: values.rootfs, log: logToStderr });
    logToStderr(`wrote the image's files (linux/${platforms[0]}) into ${values.rootfs}`);
    return;
  }
  const reference = values.reference ?? (await releaseImageReference());
  const outDir = values['out-dir'] ?? join(REPO_ROOT, 'dist/image');
  const result = await buildReleaseImage({
    platforms,
    reference,
    outDir,
    sourceDateEpoch: sourceDateEpochFromEnv(),
  });
  console.log(`image: ${result.reference}`);
  for (const archive of result.archives) {
    const sizes =
      archive.compressedBytes === undefined
        ? `archive ${megabytes(archive.archiveBytes)}`
        : `compressed ${megabytes(archive.compressedBytes)}, unpacked ${megabytes(archive.uncompressedBytes)}`;
    console.log(
      `  ${relative(process.cwd(), archive.path)}  ${archive.platforms.join(',')}  ${archive.digest}  ${sizes}`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`npm run image: ${error.message}`);
    process.exit(1);
  });
}
