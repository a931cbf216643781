// The release manifest embedded in this build of the plugin (dist/liqo-discovery.yaml, made by
// `npm run build` from manifests/), parsed into objects.
import { UserError } from '../global.js';
import type { ManifestObject } from './objects.js';

export async function parseManifest(text: string): Promise<ManifestObject[]> {
  const { parseAllDocuments } = await import('../output/yaml.js');
  const objects: ManifestObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new UserError(`release manifest: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as ManifestObject | null;
    if (value && typeof value === 'object' && value.kind) objects.push(value);
  }
  return objects;
}

export async function releaseObjects(): Promise<ManifestObject[]> {
  let text: string;
  try {
    text = (await import('liqo-release-manifest')).default;
  } catch {
    // only when run from source: the bundler is what provides the module
    throw new UserError(
      'this copy of the plugin has no release manifest: run it from `npm run build` (dist/)',
    );
  }
  return parseManifest(text);
}
