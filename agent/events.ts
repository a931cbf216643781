// Kubernetes Events about the objects the agent keeps (core/v1, what `kubectl describe` and
// `kubectl get events` show). The objects are cluster-scoped, and the API server accepts
// Events about cluster-scoped objects only in "default" (as client-go's recorder writes them),
// so that is the one namespace where the agent may write Events (manifests/agent/rbac.yaml). The same reason and message on the same
// object again raises the count of one Event instead of adding another, as client-go's
// recorder does.
import { createHash } from 'node:crypto';
import type { CoreV1Event } from '@kubernetes/client-node';
import type { AgentKube } from './kube-access.js';
import { isAlreadyExists, isConflict } from '../shared/kube/api-errors.js';

export const EVENT_SOURCE_COMPONENT = 'liqo-discovery-agent';
/** Where Events about cluster-scoped objects must live. */
export const EVENT_NAMESPACE = 'default';

export interface EventObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; uid?: string; resourceVersion?: string };
}

export interface EventDetails {
  type: 'Normal' | 'Warning';
  /** CamelCase, e.g. IdentityChanged. */
  reason: string;
  message: string;
}

/** Writes (or counts once more) an Event about `object`. Rejects when the API refuses. */
export async function recordEvent(kube: AgentKube, object: EventObject, event: EventDetails): Promise<void> {
  const objectName = object.metadata.name ?? '';
  const key = createHash('sha256')
    .update(`${object.kind}\0${objectName}\0${object.metadata.uid ?? ''}\0${event.reason}\0${event.message}`)
    .digest('hex')
    .slice(0, 16);
  const name = `${objectName}.${key}`.slice(-253).replace(/^[^a-z0-9]+/, '');
  const namespace = EVENT_NAMESPACE;
  const now = new Date();
  const body: CoreV1Event = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace },
    involvedObject: {
      apiVersion: object.apiVersion,
      kind: object.kind,
      name: objectName,
      ...(object.metadata.uid ? { uid: object.metadata.uid } : {}),
      ...(object.metadata.resourceVersion ? { resourceVersion: object.metadata.resourceVersion } : {}),
    },
    type: event.type,
    reason: event.reason,
    // the API server caps messages at 1 KiB for events.k8s.io; keep core Events as short
    message: event.message.length > 1024 ? `${event.message.slice(0, 1021)}...` : event.message,
    source: { component: EVENT_SOURCE_COMPONENT },
    reportingComponent: EVENT_SOURCE_COMPONENT,
    reportingInstance: EVENT_SOURCE_COMPONENT,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
  try {
    await kube.core.createNamespacedEvent({ namespace, body }, kube.requestOptions());
    return;
  } catch (err) {
    // AlreadyExists is itself a 409: the Event was created before, so count it instead
    if (!isConflict(err) && !isAlreadyExists(err)) throw err;
  }
  const existing = await kube.core.readNamespacedEvent({ name, namespace }, kube.requestOptions());
  existing.count = (existing.count ?? 1) + 1;
  existing.lastTimestamp = now;
  try {
    await kube.core.replaceNamespacedEvent({ name, namespace, body: existing }, kube.requestOptions());
  } catch (err) {
    // someone counted it meanwhile: one count lost is fine
    if (!isConflict(err)) throw err;
  }
}
