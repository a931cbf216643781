// The objects of the release manifest, typed by kind, and the names install relies on.
import type {
  V1DaemonSet,
  V1Deployment,
  V1MutatingWebhookConfiguration,
  V1PodTemplateSpec,
  V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';

/** Any object of the manifest: what the API needs to address it, and the rest as it came. */
export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

export type DeploymentObject = ManifestObject & V1Deployment & { kind: 'Deployment' };
export type DaemonSetObject = ManifestObject & V1DaemonSet & { kind: 'DaemonSet' };
export type WebhookConfigurationObject = ManifestObject &
  (V1MutatingWebhookConfiguration | V1ValidatingWebhookConfiguration) & {
    kind: 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration';
  };
export type WorkloadObject = DeploymentObject | DaemonSetObject;

/** The names in manifests/ that install waits on or reads (a unit test checks they match). */
export const WEBHOOK_DEPLOYMENT = 'liqo-webhook';
export const WEBHOOK_CONFIGURATION = 'liqo-webhook';
/** The webhook's self-bootstrapped CA (its --tls-secret-name), in the liqo namespace. */
export const WEBHOOK_TLS_SECRET = 'liqo-webhook-tls';
export const AGENT_DAEMONSET = 'liqo-discovery-agent';
/** Labels that mark every object of the agent (left out by --without-agent). */
export const AGENT_NAME_LABEL = 'liqo-discovery-agent';

export const isDeployment = (o: ManifestObject): o is DeploymentObject => o.kind === 'Deployment';
export const isDaemonSet = (o: ManifestObject): o is DaemonSetObject => o.kind === 'DaemonSet';
export const isWorkload = (o: ManifestObject): o is WorkloadObject => isDeployment(o) || isDaemonSet(o);
export const isWebhookConfiguration = (o: ManifestObject): o is WebhookConfigurationObject =>
  o.kind === 'MutatingWebhookConfiguration' || o.kind === 'ValidatingWebhookConfiguration';
export const isCrd = (o: ManifestObject): boolean => o.kind === 'CustomResourceDefinition';

export function podTemplate(o: WorkloadObject): V1PodTemplateSpec {
  const template = o.spec?.template;
  if (!template) throw new Error(`${o.kind} ${o.metadata.name} has no pod template`);
  return template;
}

/** `deployment.apps/liqo-webhook`, as kubectl names objects in its output. */
export function describeObject(o: Pick<ManifestObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  const group = o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : '';
  return `${o.kind.toLowerCase()}${group}/${o.metadata.name}`;
}

/** A deep copy, so transforms never change the parsed manifest they were given. */
export function copyObjects<T>(objects: T[]): T[] {
  return structuredClone(objects);
}
