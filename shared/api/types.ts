// TypeScript shapes of the three CRDs (SPEC §1), wire-compatible with Liqo v0.2.
import type { AuthStatus, DiscoveryType, DnsRegistrationLayout, TrustMode } from './constants.js';

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ClusterIdentity {
  clusterID: string;
  clusterName?: string;
}

export interface ForeignClusterSpec {
  authUrl: string;
  join?: boolean;
  clusterIdentity?: ClusterIdentity;
  namespace?: string;
  discoveryType?: DiscoveryType;
  trustMode?: TrustMode;
  [key: string]: unknown;
}

export interface ForeignClusterStatus {
  ttl?: number;
  authStatus?: AuthStatus;
  outgoing?: { joined: boolean; [key: string]: unknown };
  incoming?: { joined: boolean; [key: string]: unknown };
  conditions?: Condition[];
  /** The identity the first /ids answer pinned (SPEC §"Security"); changed only by a person. */
  pinnedIdentity?: PinnedIdentity;
  /** The other identity seen while condition IdentityChanged is True; removed when accepted. */
  changedIdentity?: ChangedIdentity;
  [key: string]: unknown;
}

/** What identifies a cluster: its id and the certificate its auth service presents, and where. */
export interface ObservedIdentity {
  clusterID: string;
  /** Colon-separated upper-case hex SHA-256 of the certificate /ids was served with. */
  certificateFingerprint: string;
  authUrl: string;
}

export interface PinnedIdentity extends ObservedIdentity {
  /** RFC 3339 time of the pinning answer. */
  pinnedAt: string;
}

export interface ChangedIdentity extends ObservedIdentity {
  /** RFC 3339 time the other identity was first seen. */
  seenAt: string;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface ForeignCluster {
  apiVersion: string;
  kind: 'ForeignCluster';
  metadata: ObjectMeta;
  spec: ForeignClusterSpec;
  status?: ForeignClusterStatus;
}

export interface SearchDomainSpec {
  domain: string;
  autojoin?: boolean;
  [key: string]: unknown;
}

export interface SearchDomainFoundCluster {
  clusterId?: string;
  clusterName?: string;
  authUrl: string;
  foreignCluster?: string;
  error?: string;
}

export interface SearchDomainStatus {
  lastResolved?: string;
  clusters?: SearchDomainFoundCluster[];
  /** Entries beyond the ones listed in `clusters` (which is bounded). */
  clustersOmitted?: number;
  error?: string;
  [key: string]: unknown;
}

export interface SearchDomain {
  apiVersion: string;
  kind: 'SearchDomain';
  metadata: ObjectMeta;
  spec: SearchDomainSpec;
  status?: SearchDomainStatus;
}

export interface DiscoveryConfig {
  enableDiscovery?: boolean;
  enableAdvertisement?: boolean;
  authService?: string;
  domain?: string;
  ttl?: number;
  clusterName?: string;
  autojoin?: boolean;
  autojoinUntrusted?: boolean;
  name?: string;
  service?: string;
  port?: number;
  [key: string]: unknown;
}

export interface ClusterConfig {
  apiVersion: string;
  kind: 'ClusterConfig';
  metadata: ObjectMeta;
  spec: { discoveryConfig?: DiscoveryConfig; [key: string]: unknown };
  status?: Record<string, unknown>;
}

/** Where the TSIG key's secret (base64, as BIND's `secret "..."`) is kept. */
export interface TsigSecretRef {
  name: string;
  /** Default: the Liqo namespace (the agent may read Secrets there only). */
  namespace?: string;
  /** Key in the Secret's data; default "secret". */
  key?: string;
}

export interface DnsRegistrationTsig {
  /** The key's name as the server knows it (BIND's `key "<name>"`). */
  keyName: string;
  algorithm?: string;
  secretRef: TsigSecretRef;
}

export interface DnsRegistrationSpec {
  /** The zone the records go in, e.g. liqo.example.com. */
  zone: string;
  /** The zone's primary server, "host:port" (port 53 when absent). */
  server: string;
  tsig: DnsRegistrationTsig;
  /** The instance label (default: the cluster name /ids serves). */
  instance?: string;
  /** The auth URL to publish (default: where this agent serves /ids). */
  authUrl?: string;
  ttl?: number;
  layouts?: DnsRegistrationLayout[];
  /** Also write b._dns-sd._udp / lb._dns-sd._udp browse-domain records (RFC 6763 §11). */
  browseDomains?: boolean;
  refreshIntervalSeconds?: number;
  /** RFC 9664 lease; default 3 × refreshIntervalSeconds. */
  leaseSeconds?: number;
  /** false: the agent removes the records and keeps the object. */
  enabled?: boolean;
  [key: string]: unknown;
}

export interface DnsRegistrationStatus {
  conditions?: Condition[];
  observedGeneration?: number;
  /** The records the zone holds for this cluster, one presentation-format line each. */
  records?: string[];
  /** Where, under which instance and with which auth URL the records were last written. */
  zone?: string;
  server?: string;
  instance?: string;
  authUrl?: string;
  /** When the last successful UPDATE was answered. */
  lastRegistered?: string;
  /** The cluster id owning the name when the server refused ours (prerequisite failed). */
  owner?: string;
  [key: string]: unknown;
}

export interface DnsRegistration {
  apiVersion: string;
  kind: 'DNSRegistration';
  metadata: ObjectMeta;
  spec: DnsRegistrationSpec;
  status?: DnsRegistrationStatus;
}

export type LiqoObject = ForeignCluster | SearchDomain | ClusterConfig | DnsRegistration;

/** The identity a cluster's auth service answers on GET /ids (SPEC §2). */
export interface ClusterIdentityResponse {
  clusterId: string;
  clusterName?: string;
  guestNamespace?: string;
}
