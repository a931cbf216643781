// The Mutating- and ValidatingWebhookConfiguration `liqo-webhook` for a webhook running
// outside the cluster (sandbox, e2e): the API server reaches it by `url` on loopback. Taken
// from manifests/ when they hold them (so tests check what ships), with each clientConfig
// turned into a url; until then built here with the same names and rules. No caBundle: the
// webhook's --bootstrap-tls writes it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  CONFIG_GROUP,
  DISCOVERY_GROUP,
  API_VERSION,
  PLURAL_CLUSTER_CONFIGS,
  PLURAL_FOREIGN_CLUSTERS,
  PLURAL_SEARCH_DOMAINS,
} from '../../shared/api/constants.js';

export const WEBHOOK_CONFIGURATION_NAME = 'liqo-webhook';

export type FailurePolicy = 'Fail' | 'Ignore';

const rules = [
  {
    apiGroups: [DISCOVERY_GROUP],
    apiVersions: [API_VERSION],
    operations: ['CREATE', 'UPDATE'],
    resources: [PLURAL_FOREIGN_CLUSTERS, PLURAL_SEARCH_DOMAINS],
    scope: 'Cluster',
  },
  {
    apiGroups: [CONFIG_GROUP],
    apiVersions: [API_VERSION],
    operations: ['CREATE', 'UPDATE'],
    resources: [PLURAL_CLUSTER_CONFIGS],
    scope: 'Cluster',
  },
];

function webhookEntry(name: string, url: string, failurePolicy: FailurePolicy): Record<string, unknown> {
  return {
    name,
    clientConfig: { url },
    rules,
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    failurePolicy,
    matchPolicy: 'Equivalent',
    timeoutSeconds: 10,
  };
}

const CONFIGURATION_KINDS = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

interface ManifestObject {
  kind?: string;
  webhooks?: Array<
    Record<string, unknown> & { clientConfig?: { service?: { path?: string }; url?: string } }
  >;
  [key: string]: unknown;
}

/** The webhook configurations found under `manifestsDir` (any depth), or [] when none. */
export function webhookConfigurationsFromManifests(manifestsDir: string): ManifestObject[] {
  if (!existsSync(manifestsDir)) return [];
  const found: ManifestObject[] = [];
  for (const entry of readdirSync(manifestsDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.ya?ml$/.test(entry.name)) continue;
    const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
    if (!CONFIGURATION_KINDS.some((kind) => text.includes(kind))) continue;
    for (const doc of parseAllDocuments(text)) {
      const obj = doc.toJS() as ManifestObject | null;
      if (obj && CONFIGURATION_KINDS.includes(obj.kind ?? '')) found.push(obj);
    }
  }
  return found;
}

function pointAtUrl(obj: ManifestObject, baseUrl: string, failurePolicy: FailurePolicy): ManifestObject {
  const fallbackPath = obj.kind === 'MutatingWebhookConfiguration' ? '/mutate' : '/validate';
  return {
    ...obj,
    webhooks: (obj.webhooks ?? []).map((w) => ({
      ...w,
      clientConfig: { url: `${baseUrl}${w.clientConfig?.service?.path ?? fallbackPath}` },
      failurePolicy,
    })),
  };
}

/**
 * Both configurations as one kubectl-appliable List (JSON is YAML): from manifests/ when
 * they are there, else the built-in ones below.
 */
export function webhookConfigurationsList(
  baseUrl: string,
  failurePolicy: FailurePolicy = 'Fail',
  manifestsDir?: string,
): string {
  const shipped = manifestsDir ? webhookConfigurationsFromManifests(manifestsDir) : [];
  if (shipped.length === CONFIGURATION_KINDS.length) {
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: shipped.map((o) => pointAtUrl(o, baseUrl, failurePolicy)),
    });
  }
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: WEBHOOK_CONFIGURATION_NAME },
        webhooks: [
          {
            ...webhookEntry(`mutate.${DISCOVERY_GROUP}`, `${baseUrl}/mutate`, failurePolicy),
            reinvocationPolicy: 'IfNeeded',
          },
        ],
      },
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: WEBHOOK_CONFIGURATION_NAME },
        webhooks: [webhookEntry(`validate.${DISCOVERY_GROUP}`, `${baseUrl}/validate`, failurePolicy)],
      },
    ],
  });
}
