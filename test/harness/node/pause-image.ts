// The pause image of the real node (containerd's sandbox_image): the static `pause` program the
// harness builds with Go (kube-tools/pause), alone in one layer, written as an OCI archive with
// the same writer as our release image. Reproducible, so it is made once next to the binaries.
import { existsSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeOciArchive } from '../../../scripts/image/oci-archive.mjs';
import { cacheDirectory } from '../binaries.js';

/** Named under localhost/: nothing pretends it came from a registry, and nothing pulls it. */
export const PAUSE_IMAGE = 'localhost/liqo-discovery/pause:1';

/** The archive's path, written when missing or older than the pause binary. */
export async function ensurePauseImage(pauseBinary: string): Promise<string> {
  const archive = join(cacheDirectory(), 'pause.oci.tar');
  if (existsSync(archive) && statSync(archive).mtimeMs >= statSync(pauseBinary).mtimeMs) return archive;
  const partial = `${archive}.partial-${process.pid}`;
  await writeOciArchive({
    out: partial,
    reference: PAUSE_IMAGE,
    layers: [{ entries: [{ path: 'pause', type: 'file', source: pauseBinary, mode: 0o755 }] }],
    // registry.k8s.io/pause runs as 65535 too: a sandbox needs no privilege
    config: { entrypoint: ['/pause'], user: '65535:65535', workingDir: '/' },
    sourceDateEpoch: 0,
  });
  renameSync(partial, archive);
  return archive;
}
