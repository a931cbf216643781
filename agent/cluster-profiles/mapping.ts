// ForeignCluster → ClusterProfile (KEP-4322, multicluster.x-k8s.io/v1alpha1), as pure functions:
// what the profile of a peer should say, and whether the one on the server already says it.
// Names: the profile has the ForeignCluster's name (both are DNS subdomains, and one namespace
// holds the profiles of one cluster's peers, so the name is unique there).
import {
  ANNOTATION_LAST_SEEN,
  CONDITION_IDENTITY_CHANGED,
  CONDITION_IDENTITY_RESOLVED,
  DISCOVERY_API_VERSION,
  KIND_FOREIGN_CLUSTER,
} from '../../shared/api/constants.js';
import type { Condition, ForeignCluster } from '../../shared/api/types.js';
import {
  CLUSTER_ID_PROPERTY,
  CLUSTER_INVENTORY_API_VERSION,
  CLUSTER_MANAGER_NAME,
  KIND_CLUSTER_PROFILE,
  LABEL_CLUSTER_MANAGER,
} from '../../shared/kube/sig-multicluster.js';

/** Our own property names (KEP-4322 lets a cluster manager add custom ones). */
export const PROPERTY_AUTH_URL = 'discovery.liqo.io/auth-url';
export const PROPERTY_DISCOVERY_TYPE = 'discovery.liqo.io/discovery-type';
/** KEP-4322's one predefined condition type. */
export const CONDITION_CONTROL_PLANE_HEALTHY = 'ControlPlaneHealthy';
/** Ours: whether a peering with that cluster is established in either direction. */
export const CONDITION_JOINED = 'Joined';
/** Label with the ForeignCluster's name (and value) the profile stands for. */
export const LABEL_FOREIGN_CLUSTER = 'discovery.liqo.io/foreign-cluster';

const MAX_PROPERTY_VALUE = 1024;

export interface ProfileCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface ProfileProperty {
  name: string;
  value: string;
  lastObservedTime?: string;
}

export interface ClusterProfile {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    ownerReferences?: Array<{
      apiVersion: string;
      kind: string;
      name: string;
      uid: string;
      blockOwnerDeletion?: boolean;
    }>;
    resourceVersion?: string;
    [key: string]: unknown;
  };
  spec: { displayName?: string; clusterManager: { name: string } };
  status?: { conditions?: ProfileCondition[]; properties?: ProfileProperty[]; [key: string]: unknown };
}

/** A label value may hold 63 characters of [A-Za-z0-9-_.]; longer names are left out. */
function labelValue(name: string): string | undefined {
  return /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(name) && name.length <= 63 ? name : undefined;
}

/** Metav1.Condition's reason grammar: CamelCase words, no spaces. */
function conditionReason(reason: string | undefined, fallback: string): string {
  return reason && /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/.test(reason) && reason.length <= 1024
    ? reason
    : fallback;
}

function findCondition(fc: ForeignCluster, type: string): Condition | undefined {
  return fc.status?.conditions?.find((c) => c.type === type);
}

/**
 * The profile's conditions, each with a transition time (`now` when unknown):
 * - ControlPlaneHealthy: the cluster's auth service answered /ids with the identity we know
 *   (IdentityResolved True and no IdentityChanged True); False when it did not; Unknown before
 *   the first try;
 * - Joined: outgoing or incoming peering established (status.outgoing/incoming.joined).
 */
export function profileConditions(fc: ForeignCluster, now: Date): ProfileCondition[] {
  const at = (c: Condition | undefined) => c?.lastTransitionTime ?? now.toISOString();
  const resolved = findCondition(fc, CONDITION_IDENTITY_RESOLVED);
  const changed = findCondition(fc, CONDITION_IDENTITY_CHANGED);
  let healthy: ProfileCondition;
  if (changed?.status === 'True') {
    healthy = {
      type: CONDITION_CONTROL_PLANE_HEALTHY,
      status: 'False',
      reason: 'IdentityChanged',
      message: changed.message ?? 'the cluster answered with another identity than the pinned one',
      lastTransitionTime: at(changed),
    };
  } else if (resolved) {
    healthy = {
      type: CONDITION_CONTROL_PLANE_HEALTHY,
      status: resolved.status,
      reason: conditionReason(
        resolved.reason,
        resolved.status === 'True' ? 'IdentityResolved' : 'IdentityNotResolved',
      ),
      message: resolved.message ?? '',
      lastTransitionTime: at(resolved),
    };
  } else {
    healthy = {
      type: CONDITION_CONTROL_PLANE_HEALTHY,
      status: 'Unknown',
      reason: 'NotChecked',
      message: "the cluster's auth service has not been asked yet",
      lastTransitionTime: now.toISOString(),
    };
  }
  const outgoing = fc.status?.outgoing?.joined === true;
  const incoming = fc.status?.incoming?.joined === true;
  const joined: ProfileCondition = {
    type: CONDITION_JOINED,
    status: outgoing || incoming ? 'True' : 'False',
    reason:
      outgoing && incoming ? 'Bidirectional' : outgoing ? 'Outgoing' : incoming ? 'Incoming' : 'NotJoined',
    message:
      outgoing || incoming
        ? `peering established (${[outgoing && 'outgoing', incoming && 'incoming'].filter(Boolean).join(', ')})`
        : 'no peering established',
    lastTransitionTime: now.toISOString(),
  };
  return [healthy, joined];
}

/** The peer's cluster id, auth URL and discovery type, as KEP-4322 properties. */
export function profileProperties(fc: ForeignCluster): ProfileProperty[] {
  const seen = fc.metadata.annotations?.[ANNOTATION_LAST_SEEN];
  const observed = seen && !Number.isNaN(Date.parse(seen)) ? { lastObservedTime: seen } : {};
  const out: ProfileProperty[] = [];
  const add = (name: string, value: string | undefined) => {
    if (value && value.length <= MAX_PROPERTY_VALUE) out.push({ name, value, ...observed });
  };
  add(CLUSTER_ID_PROPERTY, fc.spec.clusterIdentity?.clusterID);
  add(PROPERTY_AUTH_URL, fc.spec.authUrl);
  add(PROPERTY_DISCOVERY_TYPE, fc.spec.discoveryType);
  return out;
}

/** The profile `fc` should have in `namespace` (status included; the API writes it separately). */
export function desiredProfile(fc: ForeignCluster, namespace: string, now: Date): ClusterProfile {
  const name = fc.metadata.name ?? '';
  const fcLabel = labelValue(name);
  return {
    apiVersion: CLUSTER_INVENTORY_API_VERSION,
    kind: KIND_CLUSTER_PROFILE,
    metadata: {
      name,
      namespace,
      labels: {
        [LABEL_CLUSTER_MANAGER]: CLUSTER_MANAGER_NAME,
        ...(fcLabel ? { [LABEL_FOREIGN_CLUSTER]: fcLabel } : {}),
      },
      // a namespaced dependent may have a cluster-scoped owner: the garbage collector removes
      // the profile when the ForeignCluster goes (the agent deletes it too, at once)
      ...(fc.metadata.uid
        ? {
            ownerReferences: [
              { apiVersion: DISCOVERY_API_VERSION, kind: KIND_FOREIGN_CLUSTER, name, uid: fc.metadata.uid },
            ],
          }
        : {}),
    },
    spec: {
      displayName: fc.spec.clusterIdentity?.clusterName || name,
      clusterManager: { name: CLUSTER_MANAGER_NAME },
    },
    status: { conditions: profileConditions(fc, now), properties: profileProperties(fc) },
  };
}

/**
 * The desired conditions with the transition times of the current ones kept where the status
 * did not change (a transition time moves only on a transition).
 */
export function keepTransitionTimes(
  desired: ProfileCondition[],
  current: ProfileCondition[] | undefined,
): ProfileCondition[] {
  return desired.map((d) => {
    const old = current?.find((c) => c.type === d.type);
    return old && old.status === d.status && old.lastTransitionTime
      ? { ...d, lastTransitionTime: old.lastTransitionTime }
      : d;
  });
}

const specKey = (p: ClusterProfile) =>
  JSON.stringify([p.spec.displayName ?? '', p.metadata.labels ?? {}, p.metadata.ownerReferences ?? []]);
const statusKey = (p: ClusterProfile) =>
  JSON.stringify([
    (p.status?.conditions ?? []).map((c) => [c.type, c.status, c.reason, c.message, c.lastTransitionTime]),
    (p.status?.properties ?? []).map((x) => [x.name, x.value, x.lastObservedTime ?? '']),
  ]);

/** Whether the object part (labels, owner, display name) differs. */
export function specDiffers(current: ClusterProfile, desired: ClusterProfile): boolean {
  const ours = (p: ClusterProfile): ClusterProfile => ({
    ...p,
    metadata: {
      ...p.metadata,
      labels: Object.fromEntries(
        Object.entries(p.metadata.labels ?? {}).filter(([k]) => k in (desired.metadata.labels ?? {})),
      ),
      ownerReferences: (p.metadata.ownerReferences ?? []).map(({ apiVersion, kind, name, uid }) => ({
        apiVersion,
        kind,
        name,
        uid,
      })),
    },
  });
  return specKey(ours(current)) !== specKey(ours(desired));
}

/** Whether the status differs (the desired conditions already carry the kept transition times). */
export function statusDiffers(current: ClusterProfile, desired: ClusterProfile): boolean {
  return statusKey(current) !== statusKey(desired);
}
