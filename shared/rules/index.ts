// Every rule of every kind in one table (rulesByKind): defaulting, validation and the
// uniqueness rule (uniqueness.ts, for which the caller supplies the other stored objects: the
// webhook from its watch cache, the plugin from a list). The webhook picks them by kind, the
// plugin and the agent call the same functions (DESIGN: a rule lives once, in shared/rules).
import {
  KIND_CLUSTER_CONFIG,
  KIND_DNS_REGISTRATION,
  KIND_FOREIGN_CLUSTER,
  KIND_SEARCH_DOMAIN,
} from '../api/constants.js';
import type { ClusterConfig, ForeignCluster, SearchDomain } from '../api/types.js';
import { defaultClusterConfig, validateClusterConfig } from './clusterconfig.js';
import { defaultForeignCluster, validateForeignCluster } from './foreigncluster.js';
import { defaultSearchDomain, validateSearchDomain } from './searchdomain.js';
import { dnsRegistrationRules } from './dnsregistration.js';
import type { KindRules } from './types.js';
import { uniqueClusterId, uniqueDomain } from './uniqueness.js';

export type RuledKind =
  | typeof KIND_FOREIGN_CLUSTER
  | typeof KIND_SEARCH_DOMAIN
  | typeof KIND_CLUSTER_CONFIG
  | typeof KIND_DNS_REGISTRATION;

export const foreignClusterRules: KindRules<ForeignCluster> = {
  kind: KIND_FOREIGN_CLUSTER,
  applyDefaults: defaultForeignCluster,
  validate: validateForeignCluster,
  unique: uniqueClusterId,
};

export const searchDomainRules: KindRules<SearchDomain> = {
  kind: KIND_SEARCH_DOMAIN,
  applyDefaults: defaultSearchDomain,
  validate: validateSearchDomain,
  unique: uniqueDomain,
};

export const clusterConfigRules: KindRules<ClusterConfig> = {
  kind: KIND_CLUSTER_CONFIG,
  applyDefaults: defaultClusterConfig,
  validate: validateClusterConfig,
};

/**
 * Every rule by kind, the one table: defaulting, validation and uniqueness. Typed for untrusted
 * input (an AdmissionReview's object): every function accepts any value without throwing.
 */
export const rulesByKind: Readonly<Record<RuledKind, KindRules<unknown>>> = {
  ForeignCluster: foreignClusterRules,
  SearchDomain: searchDomainRules,
  ClusterConfig: clusterConfigRules,
  DNSRegistration: dnsRegistrationRules,
};

/** The rules for `kind`, or undefined for a kind we do not handle. */
export function rulesFor(kind: unknown): KindRules<unknown> | undefined {
  return typeof kind === 'string' && Object.hasOwn(rulesByKind, kind)
    ? rulesByKind[kind as RuledKind]
    : undefined;
}

export * from './types.js';
export { dnsRegistrationRules } from './dnsregistration.js';
export { defaultClusterConfig, validateClusterConfig, SERVICE_TYPE_PATTERN } from './clusterconfig.js';
export {
  clusterIdOf,
  defaultForeignCluster,
  validateForeignCluster,
  isValidClusterId,
} from './foreigncluster.js';
export {
  defaultSearchDomain,
  validateSearchDomain,
  domainKey,
  domainProblem,
  sameDomain,
} from './searchdomain.js';
export { clusterIdKeyOf, domainKeyOf, namedObjects, uniqueClusterId, uniqueDomain } from './uniqueness.js';
export {
  authUrlMatchKey,
  checkAuthUrl,
  normaliseAuthUrl,
  parseAuthUrl,
  sameAuthUrl,
  AUTH_URL_ACCEPTED,
  AUTH_URL_HOST_ACCEPTED,
  MAX_AUTH_URL_LENGTH,
} from './url.js';
export type { AuthUrl, AuthUrlCheck, AuthUrlParse, AuthUrlProblem, IdsConnectTarget } from './url.js';
export {
  canonicalIPv4,
  classifyHost,
  describeAddressClass,
  judgeHost,
  REFUSED_ADDRESS_CLASSES,
} from './address.js';
export type { AddressClass, HostClassification, HostVerdict } from './address.js';
export { dnsNameProblem, DNS_DOMAIN_ACCEPTED, withoutTrailingDot } from './dns-name.js';
export {
  checkClusterId,
  clusterIdProblem,
  isAcceptedClusterId,
  CLUSTER_ID_ACCEPTED,
  MAX_CLUSTER_ID_LENGTH,
} from './cluster-id.js';
export { ratchetErrors, onlyMetadataChanged } from './ratchet.js';
export { MAX_WARNING_LENGTH } from './object.js';
