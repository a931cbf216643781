// ForeignCluster defaulting and validation (SPEC §1, §4). Pure: no I/O, never mutates its
// input, never throws. The one rule across objects (one ForeignCluster per cluster id) is in
// uniqueness.ts; the webhook and the plugin supply the other objects.
import {
  DEFAULT_DISCOVERY_TYPE,
  DEFAULT_JOIN,
  DEFAULT_TRUST_MODE,
  DISCOVERY_TYPES,
  LABEL_CLUSTER_ID,
  LABEL_DISCOVERY_TYPE,
  TRUST_MODES,
} from '../api/constants.js';
import { CLUSTER_ID_ACCEPTED, clusterIdProblem } from './cluster-id.js';
import { DNS_1123_LABEL, MAX_DNS_LABEL_LENGTH } from './dns-name.js';
import { AUTH_URL_ACCEPTED, checkAuthUrl, normaliseAuthUrl } from './url.js';
import {
  cloneJson,
  describeValue,
  expectBoolean,
  expectOneOf,
  expectString,
  Findings,
  isAbsent,
  isPlainObject,
  ownValue,
  setOwn,
  type PlainObject,
  requireObjectSpec,
} from './object.js';
import type { RuleOptions, ValidationResult } from './types.js';

/** Kubernetes label values: ≤63 characters, alphanumeric at both ends, '-', '_', '.' inside. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const MAX_LABEL_VALUE_LENGTH = 63;
const NAMESPACE_ACCEPTED = "a namespace name: at most 63 lower-case letters, digits and '-', such as liqo";

/**
 * True when `value` can be a label value, which is what the CRD schema asks of a cluster id (and
 * all the label sync needs). New ids must also pass clusterIdProblem (cluster-id.ts).
 */
export function isValidClusterId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value !== '' &&
    value.length <= MAX_LABEL_VALUE_LENGTH &&
    LABEL_VALUE.test(value)
  );
}

/** spec.clusterIdentity.clusterID of a ForeignCluster, as stored (of any type, or undefined). */
export function clusterIdOf(obj: unknown): unknown {
  return ownValue(ownValue(ownValue(obj, 'spec'), 'clusterIdentity'), 'clusterID');
}

/** Writes `value` into metadata.labels[key], or removes the key when `value` is undefined. */
function syncLabel(obj: PlainObject, key: string, value: string | undefined): void {
  let metadata = ownValue(obj, 'metadata');
  if (isAbsent(metadata)) {
    if (value === undefined) return;
    metadata = {};
    setOwn(obj, 'metadata', metadata);
  }
  if (!isPlainObject(metadata)) return; // wrong shape: left for validation
  let labels = ownValue(metadata, 'labels');
  if (isAbsent(labels)) {
    if (value === undefined) return;
    labels = {};
    setOwn(metadata, 'labels', labels);
  }
  if (!isPlainObject(labels)) return;
  if (value === undefined) delete labels[key];
  else setOwn(labels, key, value);
}

/**
 * Fills `join: false`, `discoveryType: Manual`, `trustMode: Unknown`, normalises `authUrl`
 * and keeps the cluster-id and discovery-type labels equal to the spec. Nothing else moves.
 * `old` is accepted for the KindRules contract; defaults do not depend on it.
 */
export function defaultForeignCluster<T>(obj: T, _old?: T): T {
  const copy = cloneJson(obj);
  if (!isPlainObject(copy)) return copy;
  const spec = ownValue(copy, 'spec');
  if (!isPlainObject(spec)) return copy;
  if (isAbsent(ownValue(spec, 'join'))) setOwn(spec, 'join', DEFAULT_JOIN);
  if (isAbsent(ownValue(spec, 'discoveryType'))) setOwn(spec, 'discoveryType', DEFAULT_DISCOVERY_TYPE);
  if (isAbsent(ownValue(spec, 'trustMode'))) setOwn(spec, 'trustMode', DEFAULT_TRUST_MODE);
  const authUrl = ownValue(spec, 'authUrl');
  if (typeof authUrl === 'string') setOwn(spec, 'authUrl', normaliseAuthUrl(authUrl));

  const clusterId = clusterIdOf(copy);
  if (isValidClusterId(clusterId)) syncLabel(copy, LABEL_CLUSTER_ID, clusterId);
  else if (isAbsent(clusterId)) syncLabel(copy, LABEL_CLUSTER_ID, undefined);
  const discoveryType = ownValue(spec, 'discoveryType');
  if (typeof discoveryType === 'string' && (DISCOVERY_TYPES as readonly string[]).includes(discoveryType)) {
    syncLabel(copy, LABEL_DISCOVERY_TYPE, discoveryType);
  }
  return copy;
}

function validateClusterIdentity(findings: Findings, spec: PlainObject, old: unknown): void {
  const identity = ownValue(spec, 'clusterIdentity');
  const oldId = clusterIdOf(old);
  const hadId = typeof oldId === 'string' && oldId !== '';
  if (isAbsent(identity)) {
    if (hadId) {
      findings.error(
        'spec.clusterIdentity.clusterID',
        `cannot be removed once set (was ${describeValue(oldId)})`,
        `the same cluster id ${describeValue(oldId)}`,
      );
    }
    return;
  }
  if (!isPlainObject(identity)) {
    findings.error(
      'spec.clusterIdentity',
      `must be an object, got ${describeValue(identity)}`,
      '{clusterID, clusterName}',
    );
    return;
  }
  const clusterId = ownValue(identity, 'clusterID');
  const field = 'spec.clusterIdentity.clusterID';
  if (isAbsent(clusterId)) {
    findings.error(field, 'is required when clusterIdentity is given', CLUSTER_ID_ACCEPTED);
  } else if (expectString(findings, field, clusterId, CLUSTER_ID_ACCEPTED)) {
    // stricter than the CRD schema (a label value): the id also names objects (SPEC §Security)
    const problem = clusterIdProblem(clusterId);
    if (problem !== undefined) findings.error(field, problem, CLUSTER_ID_ACCEPTED);
  }
  if (hadId && clusterId !== oldId) {
    findings.error(
      field,
      `cannot change once set (was ${describeValue(oldId)}, now ${describeValue(clusterId)})`,
      `the same cluster id; create a new ForeignCluster for another cluster`,
    );
  }
  const clusterName = ownValue(identity, 'clusterName');
  if (!isAbsent(clusterName))
    expectString(findings, 'spec.clusterIdentity.clusterName', clusterName, 'a display name');
}

function validateLabels(findings: Findings, obj: PlainObject, spec: PlainObject): void {
  const metadata = ownValue(obj, 'metadata');
  if (!isAbsent(metadata) && !isPlainObject(metadata)) {
    findings.error('metadata', `must be an object, got ${describeValue(metadata)}`, 'an object');
    return;
  }
  const labels = ownValue(metadata, 'labels');
  if (!isAbsent(labels) && !isPlainObject(labels)) {
    findings.error('metadata.labels', `must be an object, got ${describeValue(labels)}`, 'a map of strings');
    return;
  }
  const clusterIdLabel = ownValue(labels, LABEL_CLUSTER_ID);
  const clusterId = clusterIdOf(obj);
  if (
    clusterIdLabel !== undefined &&
    clusterIdLabel !== clusterId &&
    (isValidClusterId(clusterId) || isAbsent(clusterId))
  ) {
    findings.error(
      `metadata.labels[${LABEL_CLUSTER_ID}]`,
      `is ${describeValue(clusterIdLabel)} but spec.clusterIdentity.clusterID is ${describeValue(clusterId ?? 'unset')}`,
      'the same value as spec.clusterIdentity.clusterID, or no label (it is set for you)',
    );
  }
  const typeLabel = ownValue(labels, LABEL_DISCOVERY_TYPE);
  const discoveryType = ownValue(spec, 'discoveryType');
  if (typeLabel !== undefined && typeof discoveryType === 'string' && typeLabel !== discoveryType) {
    findings.error(
      `metadata.labels[${LABEL_DISCOVERY_TYPE}]`,
      `is ${describeValue(typeLabel)} but spec.discoveryType is ${describeValue(discoveryType)}`,
      'the same value as spec.discoveryType, or no label (it is set for you)',
    );
  }
}

/** Field errors and warnings for a ForeignCluster; `old` is the stored object on UPDATE. */
export function validateForeignCluster(
  obj: unknown,
  old?: unknown,
  options: RuleOptions = {},
): ValidationResult {
  const findings = new Findings();
  const spec = requireObjectSpec(findings, obj, 'ForeignCluster', 'an object with at least authUrl');
  if (!spec) return findings.result();
  const authUrl = ownValue(spec, 'authUrl');
  if (isAbsent(authUrl)) {
    findings.error('spec.authUrl', 'is required', AUTH_URL_ACCEPTED);
  } else if (expectString(findings, 'spec.authUrl', authUrl, AUTH_URL_ACCEPTED)) {
    const check = checkAuthUrl(authUrl, { allowLoopback: options.allowLoopback === true });
    for (const problem of check.problems) findings.error('spec.authUrl', problem.message, problem.accepted);
    for (const warning of check.warnings) findings.warn(`spec.authUrl: ${warning}`);
  }
  const join = ownValue(spec, 'join');
  if (!isAbsent(join)) expectBoolean(findings, 'spec.join', join);
  const discoveryType = ownValue(spec, 'discoveryType');
  if (!isAbsent(discoveryType)) expectOneOf(findings, 'spec.discoveryType', discoveryType, DISCOVERY_TYPES);
  const trustMode = ownValue(spec, 'trustMode');
  if (!isAbsent(trustMode)) expectOneOf(findings, 'spec.trustMode', trustMode, TRUST_MODES);
  const namespace = ownValue(spec, 'namespace');
  if (!isAbsent(namespace) && expectString(findings, 'spec.namespace', namespace, NAMESPACE_ACCEPTED)) {
    if (namespace !== '' && !(namespace.length <= MAX_DNS_LABEL_LENGTH && DNS_1123_LABEL.test(namespace))) {
      findings.error(
        'spec.namespace',
        `${describeValue(namespace)} is not a namespace name`,
        NAMESPACE_ACCEPTED,
      );
    }
  }
  validateClusterIdentity(findings, spec, old);
  validateLabels(findings, obj as PlainObject, spec); // an object: requireObjectSpec checked it
  return findings.result();
}
