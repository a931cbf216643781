// The Mutating- and ValidatingWebhookConfiguration `liqo-webhook` for a webhook running
// outside the cluster (sandbox, e2e): the API server reaches it by `url` on loopback. No
// caBundle here: the webhook's --bootstrap-tls writes it.
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

/** Both configurations as one kubectl-appliable List (JSON is YAML). */
export function webhookConfigurationsList(baseUrl: string, failurePolicy: FailurePolicy = 'Fail'): string {
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
