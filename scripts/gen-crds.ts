// Writes manifests/crds/*.yaml and their kustomization.yaml from shared/api/schemas.ts.
//   npx tsx scripts/gen-crds.ts          write the files
//   npx tsx scripts/gen-crds.ts --check  exit 1 if a file differs from what would be written
// Why TS first and YAML generated: the webhook and plugin bundles (dist/*.cjs) need the
// schemas with no file to find next to them, and one source cannot drift from the other
// (test/unit/crds.test.ts runs the check).
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { stringify } from 'yaml';
import { CRDS } from '../shared/api/schemas.js';

const HEADER =
  '# Generated from shared/api/schemas.ts by scripts/gen-crds.ts: edit the TypeScript, not this file.\n';

export const CRD_DIRECTORY = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'manifests',
  'crds',
);

/** File name -> content of every file under manifests/crds/. */
export function renderCrdFiles(): Map<string, string> {
  // YAML 1.1 output quotes strings that kubectl's YAML 1.1 parser would read as booleans.
  const options = { version: '1.1' as const, lineWidth: 0 };
  const files = new Map<string, string>();
  for (const { fileName, crd } of CRDS) files.set(fileName, HEADER + '---\n' + stringify(crd, options));
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: CRDS.map(({ fileName }) => fileName),
  };
  files.set('kustomization.yaml', HEADER + stringify(kustomization, options));
  return files;
}

/** Names of the files on disk that differ from what renderCrdFiles() gives. */
export async function staleCrdFiles(directory = CRD_DIRECTORY): Promise<string[]> {
  const stale: string[] = [];
  for (const [name, content] of renderCrdFiles()) {
    const onDisk = await readFile(path.join(directory, name), 'utf8').catch(() => undefined);
    if (onDisk !== content) stale.push(name);
  }
  return stale;
}

async function main(): Promise<void> {
  if (process.argv.includes('--check')) {
    const stale = await staleCrdFiles();
    if (stale.length > 0) {
      process.stderr.write(
        `manifests/crds is out of date (${stale.join(', ')}): run npx tsx scripts/gen-crds.ts\n`,
      );
      process.exit(1);
    }
    return;
  }
  for (const [name, content] of renderCrdFiles()) await writeFile(path.join(CRD_DIRECTORY, name), content);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`gen-crds: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
