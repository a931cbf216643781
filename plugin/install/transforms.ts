// Typed transforms from the release manifest to what `install` applies: each takes objects and
// returns changed copies, so the dry run prints exactly what a real install sends.
import type { V1Container } from '@kubernetes/client-node';
import { UserError } from '../global.js';
import { enableClusterProfiles } from './cluster-profiles.js';
import {
  AGENT_NAME_LABEL,
  copyObjects,
  isCrd,
  isDaemonSet,
  isDeployment,
  isWebhookConfiguration,
  isWorkload,
  podTemplate,
  WEBHOOK_DEPLOYMENT,
  type ManifestObject,
  type WebhookConfigurationObject,
  type WorkloadObject,
} from './objects.js';

export const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

export interface InstallSettings {
  image: string;
  imagePullPolicy?: PullPolicy;
  /** Leave out the agent's objects. */
  withoutAgent?: boolean;
  /** The agent's /ids port on its node (host network). */
  idsPort?: number;
  /** The agent's health port on its node (host network). */
  agentHealthPort?: number;
  /** Replaces the agent's nodeSelector: the nodes that may run an agent. */
  agentNodeSelector?: Record<string, string>;
  /** Register a webhook running outside the cluster at this https base URL instead. */
  webhookUrl?: string;
  /** PEM CA to put in the webhook configurations (for --webhook-url, or the in-cluster CA). */
  caBundle?: string;
  /** --cluster-profiles: the namespace where the agent keeps ClusterProfiles (KEP-4322). */
  clusterProfilesNamespace?: string;
}

function containersOf(o: WorkloadObject): V1Container[] {
  const spec = podTemplate(o).spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

function mapWorkloads(objects: ManifestObject[], change: (w: WorkloadObject) => void): ManifestObject[] {
  const out = copyObjects(objects);
  for (const o of out) if (isWorkload(o)) change(o);
  return out;
}

export function setImage(objects: ManifestObject[], image: string): ManifestObject[] {
  return mapWorkloads(objects, (w) => containersOf(w).forEach((c) => (c.image = image)));
}

export function setImagePullPolicy(objects: ManifestObject[], policy: PullPolicy): ManifestObject[] {
  return mapWorkloads(objects, (w) => containersOf(w).forEach((c) => (c.imagePullPolicy = policy)));
}

const isAgentObject = (o: ManifestObject) =>
  o.metadata.labels?.['app.kubernetes.io/name'] === AGENT_NAME_LABEL;

export function leaveOutAgent(objects: ManifestObject[]): ManifestObject[] {
  return copyObjects(objects.filter((o) => !isAgentObject(o)));
}

/** Sets `--<flag>=<port>` and the container port named `portName` of the agent's container. */
function setAgentPort(
  objects: ManifestObject[],
  flag: string,
  portName: string,
  port: number,
): ManifestObject[] {
  return mapWorkloads(objects, (w) => {
    if (!isDaemonSet(w) || !isAgentObject(w)) return;
    for (const c of containersOf(w)) {
      c.args = (c.args ?? []).map((a) => (a.startsWith(`--${flag}=`) ? `--${flag}=${port}` : a));
      for (const p of c.ports ?? []) if (p.name === portName) p.containerPort = port;
    }
    const annotations = podTemplate(w).metadata?.annotations;
    if (portName === 'health' && annotations?.['prometheus.io/port']) {
      annotations['prometheus.io/port'] = String(port);
    }
  });
}

export const setAgentIdsPort = (objects: ManifestObject[], port: number) =>
  setAgentPort(objects, 'ids-port', 'ids', port);
export const setAgentHealthPort = (objects: ManifestObject[], port: number) =>
  setAgentPort(objects, 'health-port', 'health', port);

export function setAgentNodeSelector(
  objects: ManifestObject[],
  selector: Record<string, string>,
): ManifestObject[] {
  return mapWorkloads(objects, (w) => {
    if (!isDaemonSet(w) || !isAgentObject(w)) return;
    const spec = podTemplate(w).spec;
    if (spec) spec.nodeSelector = { ...selector };
  });
}

/** With the webhook outside the cluster: no webhook Deployment, Service or PodDisruptionBudget. */
export function pointWebhooksAtUrl(objects: ManifestObject[], baseUrl: string): ManifestObject[] {
  const base = baseUrl.replace(/\/+$/, '');
  const inCluster = (o: ManifestObject) =>
    ['Deployment', 'Service', 'PodDisruptionBudget'].includes(o.kind) &&
    o.metadata.name === WEBHOOK_DEPLOYMENT;
  const out = copyObjects(objects.filter((o) => !inCluster(o)));
  for (const o of out) {
    if (!isWebhookConfiguration(o)) continue;
    for (const w of o.webhooks ?? []) {
      const path = w.clientConfig.service?.path ?? (o.kind.startsWith('Mutating') ? '/mutate' : '/validate');
      w.clientConfig = { url: `${base}${path}` };
    }
  }
  return out;
}

/** Puts a PEM CA bundle into every webhook of the configurations (base64, as the API wants). */
export function setCaBundle<T extends ManifestObject>(objects: T[], pem: string): T[] {
  const out = copyObjects(objects);
  for (const o of out) {
    if (!isWebhookConfiguration(o)) continue;
    for (const w of (o as WebhookConfigurationObject).webhooks ?? []) {
      w.clientConfig.caBundle = Buffer.from(pem).toString('base64');
    }
  }
  return out;
}

/** Every transform the settings ask for, in one call. */
export function configure(objects: ManifestObject[], s: InstallSettings): ManifestObject[] {
  let out = setImage(objects, s.image);
  if (s.imagePullPolicy) out = setImagePullPolicy(out, s.imagePullPolicy);
  if (s.withoutAgent) out = leaveOutAgent(out);
  if (s.idsPort !== undefined) out = setAgentIdsPort(out, s.idsPort);
  if (s.agentHealthPort !== undefined) out = setAgentHealthPort(out, s.agentHealthPort);
  if (s.agentNodeSelector) out = setAgentNodeSelector(out, s.agentNodeSelector);
  if (s.clusterProfilesNamespace) out = enableClusterProfiles(out, s.clusterProfilesNamespace);
  if (s.webhookUrl) out = pointWebhooksAtUrl(out, s.webhookUrl);
  if (s.caBundle) out = setCaBundle(out, s.caBundle);
  return out;
}

/**
 * The order install applies in, as steps: the namespace and CRDs; everything that cannot
 * block anyone (accounts, RBAC, Services, budgets); the webhook Deployment, waited for; the
 * webhook configurations only then; the agent last.
 */
export interface InstallPlan {
  namespaces: ManifestObject[];
  crds: ManifestObject[];
  base: ManifestObject[];
  webhook: WorkloadObject[];
  webhookConfigurations: WebhookConfigurationObject[];
  agent: WorkloadObject[];
}

export function planInstall(objects: ManifestObject[]): InstallPlan {
  const plan: InstallPlan = {
    namespaces: [],
    crds: [],
    base: [],
    webhook: [],
    webhookConfigurations: [],
    agent: [],
  };
  for (const o of objects) {
    if (o.kind === 'Namespace') plan.namespaces.push(o);
    else if (isCrd(o)) plan.crds.push(o);
    else if (isWebhookConfiguration(o)) plan.webhookConfigurations.push(o);
    else if (isDeployment(o) && o.metadata.name === WEBHOOK_DEPLOYMENT) plan.webhook.push(o);
    else if (isWorkload(o)) plan.agent.push(o);
    else plan.base.push(o);
  }
  return plan;
}

/** Every object in the order install sends them; `created` (the ClusterConfig) after the CRDs. */
export function applyOrder(plan: InstallPlan, created: ManifestObject[] = []): ManifestObject[] {
  return [
    ...plan.namespaces,
    ...plan.crds,
    ...created,
    ...plan.base,
    ...plan.webhook,
    ...plan.webhookConfigurations,
    ...plan.agent,
  ];
}

/**
 * The order uninstall deletes in: the webhook configurations first (from then on no write waits
 * on a webhook being removed), then the workloads and the rest in reverse; the CRDs (and with
 * them every object of their kinds) and the namespace only when asked.
 */
export function removeOrder(
  plan: InstallPlan,
  also: { crds: boolean; namespaces: boolean },
): ManifestObject[] {
  return [
    ...plan.webhookConfigurations,
    ...plan.agent,
    ...plan.webhook,
    ...[...plan.base].reverse(),
    ...(also.crds ? plan.crds : []),
    ...(also.namespaces ? plan.namespaces : []),
  ];
}

// ---- checking the flags' values ----

/** One line naming the flag and what would work, or undefined when the value is fine. */
export function imageProblem(image: string): string | undefined {
  // distribution's reference grammar, in short: [host[:port]/]path[:tag][@digest]
  const reference =
    /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
  return reference.test(image)
    ? undefined
    : `--image "${image}" is not an image reference (e.g. registry.example/liqo-discovery:0.1.0)`;
}

export function parseNodeSelector(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',').map((p) => p.trim())) {
    const m = /^([A-Za-z0-9][-A-Za-z0-9_./]*)=([-A-Za-z0-9_.]*)$/.exec(part);
    if (!m) {
      throw new UserError(
        `--agent-node-selector "${text}": "${part}" is not key=value (e.g. kubernetes.io/os=linux,liqo.io/lan=true)`,
      );
    }
    out[m[1]!] = m[2]!;
  }
  return out;
}
