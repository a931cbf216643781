// Identity pinning (SPEC §"Security"): the first /ids answer of a ForeignCluster pins its
// cluster id and certificate fingerprint; a later answer that differs never replaces them by
// itself. Pure decisions here; the agent and the plugin do the writing.
//
// A different auth URL with the *same* certificate is the same cluster reached another way (a
// LAN address that changed, the same cluster also in DNS): the TLS handshake proved the peer
// holds that certificate's key. A different certificate, or a different cluster id, is a change.
import { CONDITION_IDENTITY_CHANGED } from '../api/constants.js';
import type {
  ChangedIdentity,
  Condition,
  ForeignCluster,
  ObservedIdentity,
  PinnedIdentity,
} from '../api/types.js';
import type { IdentityResult } from '../lookup/types.js';
import { sameAuthUrl } from '../rules/url.js';

// one endpoint, however spelt (shared/rules/url.ts); the agent compares pins with it
export { sameAuthUrl };

export type PinDecision =
  /** Nothing pinned yet: this answer becomes the pin. */
  | { action: 'pin'; pin: PinnedIdentity }
  /** The pinned cluster answered; `urlMoved` when it did from another URL (same certificate). */
  | { action: 'keep'; urlMoved: boolean }
  /** Another identity: keep the pin, tell a person. `what` names what differs. */
  | { action: 'changed'; pinned: PinnedIdentity; observed: ObservedIdentity; what: IdentityDifference[] };

export type IdentityDifference = 'clusterID' | 'certificateFingerprint' | 'authUrl';

/** The parts of an /ids answer that pinning compares. */
export function observedFrom(found: IdentityResult): ObservedIdentity {
  return {
    clusterID: found.identity.clusterId,
    certificateFingerprint: found.certificateSha256,
    authUrl: found.authUrl,
  };
}

export function judgeIdentity(
  pinned: PinnedIdentity | undefined,
  observed: ObservedIdentity,
  now: Date = new Date(),
): PinDecision {
  if (!pinned) return { action: 'pin', pin: { ...observed, pinnedAt: now.toISOString() } };
  const sameUrl = sameAuthUrl(pinned.authUrl, observed.authUrl);
  const what: IdentityDifference[] = [];
  if (pinned.clusterID !== observed.clusterID) what.push('clusterID');
  if (!sameFingerprint(pinned.certificateFingerprint, observed.certificateFingerprint)) {
    what.push('certificateFingerprint');
  }
  if (what.length === 0) return { action: 'keep', urlMoved: !sameUrl };
  if (!sameUrl) what.push('authUrl');
  return { action: 'changed', pinned, observed, what };
}

/** The pin to write for an answer a person accepted (or the first one). */
export function pinFrom(observed: ObservedIdentity, now: Date = new Date()): PinnedIdentity {
  return { ...observed, pinnedAt: now.toISOString() };
}

/** The IdentityChanged condition currently True on this ForeignCluster, if any. */
export function activeIdentityChange(fc: ForeignCluster): Condition | undefined {
  const c = fc.status?.conditions?.find((x) => x.type === CONDITION_IDENTITY_CHANGED);
  return c?.status === 'True' ? c : undefined;
}

/** Whether `changed` already records this observation (so no new Event is due). */
export function sameObservation(changed: ChangedIdentity | undefined, observed: ObservedIdentity): boolean {
  return (
    changed !== undefined &&
    changed.clusterID === observed.clusterID &&
    sameFingerprint(changed.certificateFingerprint, observed.certificateFingerprint) &&
    sameAuthUrl(changed.authUrl, observed.authUrl)
  );
}

/** Condition reason: the most important difference. */
export function changeReason(what: IdentityDifference[]): string {
  return what.includes('clusterID') ? 'ClusterIDChanged' : 'CertificateChanged';
}

/** One line with old and new, and what a person does about it. */
export function changeMessage(name: string, pinned: PinnedIdentity, observed: ObservedIdentity): string {
  return (
    `${observed.authUrl} answered as cluster ${observed.clusterID} with certificate ${observed.certificateFingerprint}; ` +
    `pinned since ${pinned.pinnedAt}: cluster ${pinned.clusterID} at ${pinned.authUrl} with certificate ` +
    `${pinned.certificateFingerprint}. Not joined automatically; to trust the new identity run: ` +
    `kubectl liqo join ${name} --accept-identity`
  );
}

export function sameFingerprint(a: string, b: string): boolean {
  const norm = (f: string) => f.replace(/[^0-9a-f]/gi, '').toUpperCase();
  return norm(a) === norm(b);
}
