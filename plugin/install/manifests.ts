// The manifests `install` applies, rendered from manifests/kustomization.yaml. In the bundle
// they are embedded at build time (esbuild's text loader turns every manifests/**/*.yaml into a
// string); run from source (tests under tsx) they are read from the checkout.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { UserError } from '../global.js';

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

async function readManifestText(path: string): Promise<string> {
  const withoutExt = path.replace(/\.yaml$/, '');
  try {
    // the template literal makes esbuild embed every manifests/**/*.yaml
    const mod = (await import(`../../manifests/${withoutExt}.yaml`)) as { default: string };
    if (typeof mod.default === 'string') return mod.default;
  } catch {
    // not bundled: read it from the source tree below
  }
  try {
    return await readFile(fileURLToPath(new URL(`../../manifests/${path}`, import.meta.url)), 'utf8');
  } catch {
    throw new UserError(`install: manifest ${path} is missing from this build of the plugin`);
  }
}

/**
 * Renders a kustomization that uses only `resources:` (files and directories), in its order,
 * leaving out the sub-directories named in `skipDirs` (e.g. "agent").
 */
export async function renderManifests(dir = '', skipDirs: string[] = []): Promise<ManifestObject[]> {
  const { parse, parseAllDocuments } = await import('../output/yaml.js');
  const kustomizationPath = `${dir}kustomization.yaml`;
  const kustomization = parse(await readManifestText(kustomizationPath)) as {
    resources?: string[];
    [key: string]: unknown;
  };
  const unsupported = Object.keys(kustomization).filter(
    (k) => !['apiVersion', 'kind', 'resources'].includes(k),
  );
  if (unsupported.length) {
    throw new UserError(
      `install: ${kustomizationPath} uses ${unsupported.join(', ')}, which the plugin cannot render`,
    );
  }
  const objects: ManifestObject[] = [];
  for (const resource of kustomization.resources ?? []) {
    const path = `${dir}${resource.replace(/^\.\//, '')}`;
    if (path.endsWith('.yaml') || path.endsWith('.yml')) {
      for (const doc of parseAllDocuments(await readManifestText(path))) {
        const obj = doc.toJS() as ManifestObject | null;
        if (obj && typeof obj === 'object' && obj.kind) objects.push(obj);
      }
    } else if (!skipDirs.includes(resource.replace(/^\.\//, '').replace(/\/$/, ''))) {
      objects.push(...(await renderManifests(`${path.replace(/\/$/, '')}/`)));
    }
  }
  return objects;
}

const WEBHOOK_CONFIG_KINDS = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];
const WORKLOAD_KINDS = ['Deployment', 'Service', 'PodDisruptionBudget'];

export interface InstallShape {
  /** Register a webhook that runs outside the cluster at this base URL instead of the in-cluster one. */
  webhookUrl?: string;
  /** PEM CA for --webhook-url (else the webhook's --bootstrap-tls injects its own). */
  caBundle?: string;
}

function isWebhookWorkload(o: ManifestObject): boolean {
  return WORKLOAD_KINDS.includes(o.kind) && /webhook/.test(o.metadata.name);
}

/** Applies --webhook-url to the rendered objects. */
export function shapeManifests(objects: ManifestObject[], shape: InstallShape): ManifestObject[] {
  let out = objects;
  if (shape.webhookUrl) {
    const base = shape.webhookUrl.replace(/\/+$/, '');
    out = out
      .filter((o) => !isWebhookWorkload(o))
      .map((o) => (WEBHOOK_CONFIG_KINDS.includes(o.kind) ? pointAtUrl(o, base, shape.caBundle) : o));
  }
  return out;
}

interface WebhookEntry {
  clientConfig?: { service?: { path?: string }; url?: string; caBundle?: string };
  [key: string]: unknown;
}

function pointAtUrl(o: ManifestObject, base: string, caBundle: string | undefined): ManifestObject {
  const webhooks = ((o.webhooks as WebhookEntry[] | undefined) ?? []).map((w) => {
    const path = w.clientConfig?.service?.path ?? (o.kind.startsWith('Mutating') ? '/mutate' : '/validate');
    return {
      ...w,
      clientConfig: {
        url: `${base}${path}`,
        ...(caBundle ? { caBundle: Buffer.from(caBundle).toString('base64') } : {}),
      },
    };
  });
  return { ...o, webhooks };
}

/** Apply order: namespaces and CRDs first, webhook configurations last (nothing is blocked meanwhile). */
export function applyOrder(objects: ManifestObject[]): ManifestObject[] {
  const rank = (o: ManifestObject) =>
    o.kind === 'Namespace'
      ? 0
      : o.kind === 'CustomResourceDefinition'
        ? 1
        : WEBHOOK_CONFIG_KINDS.includes(o.kind)
          ? 3
          : 2;
  return [...objects].sort((a, b) => rank(a) - rank(b));
}
