// Identity pinning in the plugin (SPEC §"Security"): `join` pins the identity it read, refuses
// to go on when /ids now answers with another one than pinned, and `join NAME --accept-identity`
// is the person's decision that re-pins to the current answer and clears IdentityChanged.
import {
  CONDITION_IDENTITY_CHANGED,
  DISCOVERY_API_VERSION,
  KIND_FOREIGN_CLUSTER,
  LABEL_CLUSTER_ID,
  ANNOTATION_CERT_FINGERPRINT,
  type ForeignCluster,
} from '../shared/api/index.js';
import type { Condition } from '../shared/api/types.js';
import {
  activeIdentityChange,
  judgeIdentity,
  observedFrom,
  pinFrom,
} from '../shared/discovery/identity-pin.js';
import type { LiqoResources } from '../shared/kube/liqo-resources.js';
import type { IdentityResult } from '../shared/lookup/types.js';
import { normaliseAuthUrl } from '../shared/rules/index.js';
import { foreignClusterId, refuseDuplicate } from './foreign-clusters.js';
import { UserError } from './global.js';

/** Refuses a plain `join` of a ForeignCluster whose identity changed (flagged, or seen now). */
export function refuseChangedIdentity(fc: ForeignCluster, found: IdentityResult): void {
  const name = fc.metadata.name ?? '';
  const flagged = activeIdentityChange(fc);
  if (flagged) {
    throw new UserError(
      `ForeignCluster "${name}": identity changed (${flagged.reason ?? CONDITION_IDENTITY_CHANGED}), see its ` +
        `IdentityChanged condition; to trust the new identity run: kubectl liqo join ${name} --accept-identity`,
    );
  }
  const decision = judgeIdentity(fc.status?.pinnedIdentity, observedFrom(found));
  if (decision.action === 'changed') {
    throw new UserError(
      `ForeignCluster "${name}": ${found.authUrl} answers as cluster ${decision.observed.clusterID} with certificate ` +
        `${decision.observed.certificateFingerprint}, but cluster ${decision.pinned.clusterID} with certificate ` +
        `${decision.pinned.certificateFingerprint} is pinned; to trust the new identity run: ` +
        `kubectl liqo join ${name} --accept-identity`,
    );
  }
}

/** Writes the pin of a ForeignCluster that has none yet (a first answer read by `join`). */
export async function pinIfUnpinned(
  resources: LiqoResources,
  fc: ForeignCluster,
  found: IdentityResult,
): Promise<void> {
  if (fc.status?.pinnedIdentity || !fc.metadata.name) return;
  if (foreignClusterId(fc) && foreignClusterId(fc) !== found.identity.clusterId) return;
  await resources.foreignClusters.patchStatus(fc.metadata.name, {
    status: { pinnedIdentity: pinFrom(observedFrom(found)) },
  });
}

/** The URL to read the identity being accepted from: where the changed one was seen. */
export function acceptUrl(fc: ForeignCluster): string {
  return fc.status?.changedIdentity?.authUrl ?? fc.spec.authUrl;
}

export interface AcceptOutcome {
  /** The ForeignCluster now pinned to the answer. */
  name: string;
  action: 'configured' | 'created';
  /** The old object, deleted because its cluster id no longer answers there. */
  deleted?: string;
  foreignCluster: ForeignCluster;
}

/**
 * Re-pins `fc` to `found` (the current /ids answer), moves authUrl there, sets join and clears
 * IdentityChanged. When the answer is another cluster id (ids cannot change in an object), a
 * ForeignCluster for the new id takes the old one's place and the old one is deleted.
 */
export async function acceptIdentity(
  resources: LiqoResources,
  fc: ForeignCluster,
  found: IdentityResult,
  newName?: string,
): Promise<AcceptOutcome> {
  const oldName = fc.metadata.name ?? '';
  const { identity, trustMode, certificateSha256 } = found;
  const authUrl = normaliseAuthUrl(found.authUrl);
  const pinnedIdentity = pinFrom({ ...observedFrom(found), authUrl });
  const cleared = {
    pinnedIdentity,
    changedIdentity: null,
    conditions: acceptedConditions(fc.status?.conditions, pinnedIdentity.clusterID, authUrl),
  };
  const clusterIdentity = {
    clusterID: identity.clusterId,
    ...(identity.clusterName ? { clusterName: identity.clusterName } : {}),
  };
  const currentId = foreignClusterId(fc);
  const all = await resources.foreignClusters.list();
  if (!currentId || currentId === identity.clusterId) {
    if (!currentId) refuseDuplicate({ ...fc, spec: { ...fc.spec, clusterIdentity } }, oldName, all);
    await resources.foreignClusters.patch(oldName, {
      metadata: {
        annotations: { [ANNOTATION_CERT_FINGERPRINT]: certificateSha256 },
        labels: { [LABEL_CLUSTER_ID]: identity.clusterId },
      },
      spec: {
        authUrl,
        join: true,
        clusterIdentity,
        trustMode,
        ...(identity.guestNamespace ? { namespace: identity.guestNamespace } : {}),
      },
    });
    const stored = await resources.foreignClusters.patchStatus(oldName, { status: cleared });
    return { name: oldName, action: 'configured', foreignCluster: stored };
  }
  // another cluster answers there now: it gets its own object, with the old one's place
  const name = newName ?? identity.clusterId;
  const labels = { ...(fc.metadata.labels ?? {}), [LABEL_CLUSTER_ID]: identity.clusterId };
  refuseDuplicate({ ...fc, metadata: { name }, spec: { ...fc.spec, clusterIdentity } }, name, all);
  const created = await resources.foreignClusters.create({
    apiVersion: DISCOVERY_API_VERSION,
    kind: KIND_FOREIGN_CLUSTER,
    metadata: {
      name,
      labels,
      annotations: { [ANNOTATION_CERT_FINGERPRINT]: certificateSha256 },
      ...(fc.metadata.ownerReferences ? { ownerReferences: fc.metadata.ownerReferences } : {}),
    },
    spec: {
      authUrl,
      join: true,
      clusterIdentity,
      ...(identity.guestNamespace ? { namespace: identity.guestNamespace } : {}),
      discoveryType: fc.spec.discoveryType ?? 'Manual',
      trustMode,
    },
  });
  const stored = await resources.foreignClusters.patchStatus(created.metadata.name ?? name, {
    status: {
      pinnedIdentity,
      ...(typeof fc.status?.ttl === 'number' ? { ttl: fc.status.ttl } : {}),
    },
  });
  await resources.foreignClusters.delete(oldName);
  return { name, action: 'created', deleted: oldName, foreignCluster: stored };
}

function acceptedConditions(
  existing: Condition[] | undefined,
  clusterId: string,
  authUrl: string,
): Condition[] {
  const others = (existing ?? []).filter((c) => c.type !== CONDITION_IDENTITY_CHANGED);
  return [
    ...others,
    {
      type: CONDITION_IDENTITY_CHANGED,
      status: 'False',
      reason: 'Accepted',
      message: `kubectl liqo join --accept-identity pinned cluster ${clusterId} at ${authUrl}`,
      lastTransitionTime: new Date().toISOString(),
    },
  ];
}
