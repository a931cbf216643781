// The rule options the webhook validates with, as it publishes them, so that `--dry-run=client`
// judges an object exactly as the webhook would. The one server-side switch is
// --allow-loopback-auth-url (sandboxes): the webhook notes it on its ValidatingWebhookConfiguration
// (annotation webhook.liqo.io/allow-loopback-auth-url, kept current by its --bootstrap-tls
// upkeep), and this reads it with one LIST.
//
// Why not a real server-side dry run instead: --dry-run=client is kubectl's "check it here";
// it must not need the rights to create the object nor a webhook that answers, and it never sends
// the object. The shared rules stay the one judge; only their switch comes from the cluster.
import {
  ANNOTATION_ALLOW_LOOPBACK_AUTH_URL,
  DISCOVERY_GROUP,
  PLURAL_FOREIGN_CLUSTERS,
} from '../shared/api/constants.js';
import { describeApiFailure } from '../shared/kube/api-errors.js';
import type { LiqoResources } from '../shared/kube/liqo-resources.js';
import type { RuleOptions } from '../shared/rules/types.js';

export interface PublishedRuleOptions {
  options: RuleOptions;
  /** Why the webhook's policy could not be read (its defaults were used then). */
  unreadable?: string;
}

interface WebhookRule {
  apiGroups?: string[];
  resources?: string[];
  operations?: string[];
}

interface ValidatingConfiguration {
  metadata?: { annotations?: Record<string, string> };
  webhooks?: { rules?: WebhookRule[] }[];
}

const matches = (values: string[] | undefined, wanted: string) =>
  (values ?? []).some((v) => v === wanted || v === '*');

/** Whether a configuration sends ForeignCluster writes to a webhook (ours, or any other). */
function validatesForeignClusters(config: ValidatingConfiguration): boolean {
  return (config.webhooks ?? []).some((w) =>
    (w.rules ?? []).some(
      (r) =>
        matches(r.apiGroups, DISCOVERY_GROUP) &&
        matches(r.resources, PLURAL_FOREIGN_CLUSTERS) &&
        (matches(r.operations, 'CREATE') || matches(r.operations, 'UPDATE')),
    ),
  );
}

/**
 * The options the webhook validates ForeignClusters with. Loopback is allowed only when every
 * configuration that validates ForeignClusters and carries the annotation says "true" (no
 * annotation anywhere: a webhook with the default, or one that does not publish it).
 */
export async function readForeignClusterRuleOptions(
  resources: LiqoResources,
  timeoutMs: number,
): Promise<PublishedRuleOptions> {
  const k8s = await import('@kubernetes/client-node');
  const api = resources.kubeConfig.makeApiClient(k8s.AdmissionregistrationV1Api);
  const withTimeout = {
    middleware: [
      {
        pre: (ctx: import('@kubernetes/client-node').RequestContext) => {
          if (timeoutMs > 0) ctx.setSignal(AbortSignal.timeout(timeoutMs));
          return new k8s.Observable(Promise.resolve(ctx));
        },
        post: (resp: import('@kubernetes/client-node').ResponseContext) =>
          new k8s.Observable(Promise.resolve(resp)),
      },
    ],
    middlewareMergeStrategy: 'append' as const,
  };
  let configurations: ValidatingConfiguration[];
  try {
    configurations = (await api.listValidatingWebhookConfiguration({}, withTimeout)).items;
  } catch (err) {
    const failure = describeApiFailure(
      err,
      'list',
      { kind: 'ValidatingWebhookConfiguration' },
      { server: resources.server, timeoutMs },
    );
    return { options: { allowLoopback: false }, unreadable: failure.error.message };
  }
  const published = configurations
    .filter(validatesForeignClusters)
    .map((c) => c.metadata?.annotations?.[ANNOTATION_ALLOW_LOOPBACK_AUTH_URL])
    .filter((v): v is string => v !== undefined);
  return { options: { allowLoopback: published.length > 0 && published.every((v) => v === 'true') } };
}
