// Temporary directories for tests that never outlive them: each is removed by
// removeScratchDirs() (the e2e layer's root afterEach hook calls it, test/e2e/setup.ts), or at
// exit if the run stops before that (harness/processes.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeOnExit } from '../harness/processes.js';

const removers = new Set<() => void>();

/** A new empty directory `<tmpdir>/<prefix>XXXXXX`; its path. */
export function scratchDir(prefix: string): string {
  const path = mkdtempSync(join(tmpdir(), prefix));
  removers.add(removeOnExit(path));
  return path;
}

export function removeScratchDirs(): void {
  for (const remove of removers) remove();
  removers.clear();
}
