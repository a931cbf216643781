// Our image as of this tree: `npm run image` when dist/image has no archive or one older than
// the sources baked into it. A stale image with the current manifests fails in confusing ways
// (an agent refusing a flag the manifest passes and crash-looping: seen while writing these tests).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../harness/kubectl.js';
import { REPO_ROOT } from '../harness/liqo-environment.js';

export const IMAGE_ARCHIVE = join(REPO_ROOT, 'dist/image/liqo-discovery-0.1.0-linux-amd64.oci.tar');
const IMAGE_SOURCES = ['agent', 'webhook', 'shared', 'scripts/image', 'package-lock.json'];

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

export async function ensureCurrentImage(log: (line: string) => void): Promise<string> {
  const sourcesChanged = Math.max(...IMAGE_SOURCES.map((p) => newestMtime(join(REPO_ROOT, p))));
  if (existsSync(IMAGE_ARCHIVE) && statSync(IMAGE_ARCHIVE).mtimeMs >= sourcesChanged) return IMAGE_ARCHIVE;
  log('dist/image has no archive, or one older than the sources: npm run image');
  const built = await runCommand('npm', ['run', 'image'], { timeoutMs: 25 * 60_000 });
  if (built.code !== 0) throw new Error(`npm run image failed: ${built.stderr.trim().split('\n').pop()}`);
  return IMAGE_ARCHIVE;
}
