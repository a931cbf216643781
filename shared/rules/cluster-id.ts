// The cluster id a peer announces at /ids becomes a ForeignCluster's name and the value of its
// discovery.liqo.io/cluster-id label, and is put into label selectors. So it must be a DNS-1123
// label: a lower-case UUID (what Liqo v0.2 makes: a node UID or a random UUIDv4) is one, and so
// is a plain name such as "cluster-a". One check for the agent, the plugin and the webhook.

import { DNS_1123_LABEL, MAX_DNS_LABEL_LENGTH } from './dns-name.js';

export const MAX_CLUSTER_ID_LENGTH = MAX_DNS_LABEL_LENGTH;

export const CLUSTER_ID_ACCEPTED =
  "a lower-case UUID (as Liqo makes them) or a DNS-1123 label: at most 63 lower-case letters, digits and '-', " +
  'starting and ending with a letter or digit';

const UPPER_CASE_UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/** True when `id` can be used as a cluster id: an object name, a label value, a selector term. */
export function isAcceptedClusterId(id: unknown): id is string {
  return typeof id === 'string' && id.length <= MAX_CLUSTER_ID_LENGTH && DNS_1123_LABEL.test(id);
}

/**
 * The id as it may be shown in a message or a condition: quoted when it is short printable
 * ASCII, otherwise only described, so a peer cannot put arbitrary text into our status.
 */
export function showClusterId(id: unknown): string {
  if (typeof id !== 'string') return id === null ? 'null' : `a ${Array.isArray(id) ? 'list' : typeof id}`;
  if (id.length <= MAX_CLUSTER_ID_LENGTH && /^[\x20-\x7e]*$/.test(id)) return JSON.stringify(id);
  return `an id of ${id.length} characters`;
}

/** What is wrong with `id` as a cluster id, or undefined when it is accepted. */
export function clusterIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return `must be a string, got ${showClusterId(id)}`;
  if (id === '') return 'is empty';
  if (id.length > MAX_CLUSTER_ID_LENGTH) {
    return `is ${id.length} characters long; at most ${MAX_CLUSTER_ID_LENGTH}`;
  }
  if (DNS_1123_LABEL.test(id)) return undefined;
  const shown = showClusterId(id);
  if (UPPER_CASE_UUID.test(id)) return `${shown} is a UUID with upper-case letters`;
  if (/[A-Z]/.test(id) && DNS_1123_LABEL.test(id.toLowerCase())) return `${shown} has upper-case letters`;
  if (/^-|-$/.test(id)) return `${shown} starts or ends with '-'`;
  return `${shown} has characters other than lower-case letters, digits and '-'`;
}

/**
 * Undefined when the cluster id `peer` announced is accepted; otherwise one line naming the
 * peer, what is wrong and what is accepted, for a log, a condition or the plugin's error.
 */
export function checkClusterId(id: unknown, peer: string): string | undefined {
  const problem = clusterIdProblem(id);
  if (problem === undefined) return undefined;
  return `${peer} announces a cluster id that is not accepted: ${problem} (accepted: ${CLUSTER_ID_ACCEPTED})`;
}
