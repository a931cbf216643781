// What the identity filler writes, decided from what it observed — pure functions, no API
// server, no clock of their own (times are passed in). agent/identity-filler.ts reconciles one
// ForeignCluster (reads it, asks its /ids, plans retries); agent/identity-fill-writes.ts sends
// the writes these functions describe.
import {
  ANNOTATION_CERT_FINGERPRINT,
  CONDITION_IDENTITY_RESOLVED,
  LABEL_CLUSTER_ID,
} from '../shared/api/constants.js';
import type { Condition, ForeignCluster } from '../shared/api/types.js';
import { observedFrom, pinFrom } from '../shared/discovery/identity-pin.js';
import type { IdentityResult } from '../shared/lookup/types.js';
import type { EventDetails } from './events.js';
import { errorMessage } from './logger.js';

/** A condition as the CRD stores it (its schema has observedGeneration). */
export type ObservedCondition = Condition & { observedGeneration?: number };

/** Why an attempt did not fill the identity: the condition's reason and message. */
export interface FillFailure {
  reason: string;
  message: string;
}

/** What one attempt found out: the identity to store, or why not. */
export type FillDecision = { fill: IdentityResult } | { failure: FillFailure };

/** What asking the authUrl's /ids gave: an answer or the error thrown. */
export type FetchOutcome = { found: IdentityResult } | { error: unknown };

export function needsIdentity(fc: ForeignCluster): boolean {
  return Boolean(fc.spec?.authUrl) && !fc.spec.clusterIdentity?.clusterID && !fc.metadata.deletionTimestamp;
}

/** metadata.generation: bumped by the API server on every spec change (not status, not metadata). */
export function generationOf(fc: ForeignCluster): number | undefined {
  const g = fc.metadata.generation;
  return typeof g === 'number' ? g : undefined;
}

/** The conditions with ours replaced (merge patch replaces the whole list); `nowIso` stamps a change. */
export function withCondition(
  existing: ObservedCondition[] | undefined,
  next: ObservedCondition,
  nowIso: string = new Date().toISOString(),
): ObservedCondition[] {
  const others = (existing ?? []).filter((c) => c.type !== next.type);
  const prev = existing?.find((c) => c.type === next.type);
  const keepTime = prev && prev.status === next.status && prev.lastTransitionTime;
  return [...others, { ...next, lastTransitionTime: keepTime || nowIso }];
}

/** Judges the /ids answer for `authUrl`: fill it, or the failure (the error's code as reason). */
export function judgeIdsAnswer(authUrl: string, outcome: FetchOutcome, ownClusterId: string): FillDecision {
  if ('error' in outcome) {
    const code = (outcome.error as { code?: unknown } | null)?.code;
    return {
      failure: {
        reason: typeof code === 'string' ? code : 'FetchFailed',
        message: errorMessage(outcome.error),
      },
    };
  }
  const id = outcome.found.identity.clusterId;
  if (id === ownClusterId) {
    return {
      failure: {
        reason: 'LocalCluster',
        message: `${authUrl} is this cluster itself (cluster id ${id}); point authUrl at another cluster`,
      },
    };
  }
  return { fill: outcome.found };
}

/** The merge patch that stores the identity in spec, guarded by the resourceVersion it was read at. */
export function identityPatch(fc: ForeignCluster, found: IdentityResult): Record<string, unknown> {
  const { identity } = found;
  return {
    metadata: {
      resourceVersion: fc.metadata.resourceVersion,
      labels: { [LABEL_CLUSTER_ID]: identity.clusterId },
      annotations: { [ANNOTATION_CERT_FINGERPRINT]: found.certificateSha256 },
    },
    spec: {
      clusterIdentity: {
        clusterID: identity.clusterId,
        ...(identity.clusterName ? { clusterName: identity.clusterName } : {}),
      },
      ...(identity.guestNamespace ? { namespace: identity.guestNamespace } : {}),
      trustMode: found.trustMode,
    },
  };
}

/** IdentityResolved=True and the pin of the first answer (SPEC §"Security"). */
export function resolvedCondition(
  authUrl: string,
  found: IdentityResult,
  now: Date,
): { condition: ObservedCondition; alsoStatus: Record<string, unknown> } {
  return {
    condition: {
      type: CONDITION_IDENTITY_RESOLVED,
      status: 'True',
      reason: found.trustMode,
      message: `identity of cluster ${found.identity.clusterId} read from ${authUrl}/ids`,
    },
    alsoStatus: { pinnedIdentity: pinFrom(observedFrom(found), now) },
  };
}

/** IdentityResolved=False with the reason and when the next try comes. */
export function notResolvedCondition(failure: FillFailure, retryAtIso: string): ObservedCondition {
  return {
    type: CONDITION_IDENTITY_RESOLVED,
    status: 'False',
    reason: failure.reason,
    message: `${failure.message}; next try at ${retryAtIso}, or at once when the spec changes`,
  };
}

/**
 * The status patch that sets `condition` for the spec `generation` the attempt saw, judged
 * against the object as it is now (`fresh`), and the Event to record when the condition
 * changes status. undefined: write nothing — the spec changed meanwhile (that edit's own
 * attempt follows at once).
 */
export function conditionWrite(
  fresh: ForeignCluster,
  generation: number | undefined,
  condition: ObservedCondition,
  alsoStatus: Record<string, unknown>,
  nowIso: string,
): { statusPatch: { status: Record<string, unknown> }; event?: EventDetails } | undefined {
  if (generation !== undefined && generationOf(fresh) !== generation) return undefined;
  const statusPatch = {
    status: {
      ...alsoStatus,
      conditions: withCondition(
        fresh.status?.conditions,
        { ...condition, ...(generation !== undefined ? { observedGeneration: generation } : {}) },
        nowIso,
      ),
    },
  };
  const before = fresh.status?.conditions?.find((c) => c.type === condition.type)?.status;
  if (before === condition.status) return { statusPatch };
  const resolved = condition.status === 'True';
  return {
    statusPatch,
    event: {
      type: resolved ? 'Normal' : 'Warning',
      reason: resolved ? 'IdentityResolved' : 'IdentityNotResolved',
      message: resolved ? (condition.message ?? '') : `${condition.reason}: ${condition.message ?? ''}`,
    },
  };
}
