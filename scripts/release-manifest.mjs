// The release manifest: every object of manifests/ in one multi-document YAML, in the order of
// its kustomization files (as cert-manager ships cert-manager.yaml). `npm run build` writes it
// to dist/liqo-discovery.yaml and embeds it in the plugin, which applies it with typed
// transforms (plugin/install/); nothing reads manifests/ at run time.
//
// The kustomization files use `resources:` only, so reading them is a list walk; anything else
// is refused here rather than silently ignored. test/unit/release-manifest.test.ts checks the
// result holds the same objects as `kubectl kustomize manifests/`.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/** Each object's YAML text (its comments kept), in kustomization order. */
async function documentsOf(dir) {
  const kustomizationPath = join(dir, 'kustomization.yaml');
  const kustomization = parse(await readFile(kustomizationPath, 'utf8')) ?? {};
  const unsupported = Object.keys(kustomization).filter(
    (k) => !['apiVersion', 'kind', 'resources'].includes(k),
  );
  if (unsupported.length) {
    throw new Error(
      `${kustomizationPath}: ${unsupported.join(', ')} is not supported by the release renderer`,
    );
  }
  const out = [];
  for (const resource of kustomization.resources ?? []) {
    const path = join(dir, resource);
    if (/\.ya?ml$/.test(resource)) {
      for (const doc of parseAllDocuments(await readFile(path, 'utf8'))) {
        if (doc.errors.length) throw new Error(`${path}: ${doc.errors[0].message}`);
        const value = doc.toJS();
        if (!value || typeof value !== 'object' || !value.kind) continue;
        doc.directives.docStart = null; // the separators are ours: one `---` before each object
        out.push(doc.toString().trimEnd());
      }
    } else {
      out.push(...(await documentsOf(path)));
    }
  }
  return out;
}

/** The release manifest's text for the manifests/ directory under `repoRoot`. */
export async function renderReleaseManifest(repoRoot, version) {
  const docs = await documentsOf(join(repoRoot, 'manifests'));
  const header = [
    `# liqo-discovery ${version}: the CRDs, namespace liqo, RBAC, the admission webhook and the`,
    '# discovery agent. Rendered from manifests/ by scripts/release-manifest.mjs.',
    '# Install with `kubectl liqo install` (it applies this in order, registers the webhook only',
    '# once it is available, and creates ClusterConfig liqo-configuration). With',
    '# `kubectl apply -f` the Fail-policy webhook configurations go in before any webhook pod',
    '# is ready, and until one is, writes of ForeignClusters, SearchDomains and ClusterConfigs',
    '# are refused.',
  ].join('\n');
  return `${header}\n${docs.map((d) => `---\n${d}`).join('\n')}\n`;
}
