// The contracts of the three look-ups (SPEC §2). Each implementation lives in its own file
// (ids.ts, dns.ts, mdns.ts); the plugin and the agent program against these shapes.
import type { ClusterIdentityResponse } from '../api/types.js';
import type { AddressPolicy } from '../net/address-policy.js';

// ---- /ids ----
export interface FetchIdentityOptions {
  /** Whole-request bound: connect, TLS and body. Default 5000. */
  timeoutMs?: number;
  /** Extra trusted CAs (PEM). */
  caBundle?: string | Buffer;
  /** Refuse instead of falling back to an unverified connection. */
  strict?: boolean;
  /** Body cap; default 64 KiB. */
  maxBodyBytes?: number;
  signal?: AbortSignal;
  /**
   * Addresses to connect to instead of resolving the URL's host with the system resolver (the
   * agent resolves SearchDomain targets with its own DNS server). The host name is still used
   * for SNI and certificate verification.
   */
  addresses?: string[];
  /**
   * The connect-time address policy (SPEC §"Security") applied to the addresses the host
   * resolves to. Default: the always-refused classes, loopback allowed. The agent passes
   * `{ allowLoopback: false }` unless run with --allow-loopback. 'off' is for the benchmark's
   * no-policy anchor only.
   */
  addressPolicy?: AddressPolicy | 'off';
}

export interface IdentityResult {
  authUrl: string;
  identity: ClusterIdentityResponse;
  trustMode: 'Trusted' | 'Untrusted';
  /** Why verification failed when Untrusted (e.g. "self-signed certificate"). */
  untrustedReason?: string;
  /** Colon-separated upper-case hex SHA-256 of the peer certificate. */
  certificateSha256: string;
  certificateNotAfter: Date;
}

export type IdentityErrorCode =
  | 'INVALID_URL'
  /** The host is, or resolves to, an address the policy refuses; no connection was made. */
  | 'ADDRESS_REFUSED'
  | 'REFUSED'
  | 'TIMEOUT'
  | 'DNS'
  | 'NETWORK'
  | 'CERT_EXPIRED'
  | 'TLS'
  | 'UNTRUSTED'
  | 'REDIRECT'
  | 'HTTP_STATUS'
  | 'NOT_JSON'
  | 'MISSING_CLUSTER_ID'
  | 'TOO_LARGE'
  | 'ABORTED'
  /** The answer's clusterId cannot name a ForeignCluster (the agent's check, shared/rules/cluster-id.ts). */
  | 'INVALID_CLUSTER_ID'
  /** Anything else that went wrong (a bug rather than the peer). */
  | 'ERROR';

// ---- DNS-SD ----
export interface DnsResolveOptions {
  /** "host:port" or "host"; default: the system's resolvers. */
  servers?: string[];
  /** Per try of one query; default 2000. */
  queryTimeoutMs?: number;
  /** Tries per query and server (the resolver's own retry); default 2. */
  tries?: number;
  /** Total deadline for the whole domain; default 10000. */
  deadlineMs?: number;
  /** Queries in flight at once; default 128. */
  concurrency?: number;
  signal?: AbortSignal;
  /** Uniform [0, 1) source for the RFC 2782 weighted choice; default Math.random (tests pin it). */
  random?: () => number;
}

export interface DnsEndpointCandidate {
  target: string;
  port: number;
  priority: number;
  weight: number;
  addresses: string[];
  authUrl: string;
}

export interface DnsDiscoveredEndpoint extends DnsEndpointCandidate {
  domain: string;
  /** The PTR target (service instance name), without the trailing dot. */
  instance: string;
  txt: Record<string, string>;
  /** The other SRV answers, in RFC 2782 order, to try if the first fails. */
  fallbacks: DnsEndpointCandidate[];
  /** Smallest TTL seen on the chain, seconds. */
  ttl: number;
  /** Other instance names with the same SRV set (e.g. listed under both D and _liqo._tcp.D). */
  aliases?: string[];
}

export interface DnsEntryError {
  domain: string;
  instance?: string;
  message: string;
}

export interface DnsResolveResult {
  endpoints: DnsDiscoveredEndpoint[];
  errors: DnsEntryError[];
  /**
   * False when the domain could not be searched at all: unusable input, or no DNS server answered
   * for either PTR name (refused, timed out, failed). True once one answered, even "no records".
   */
  searched: boolean;
}

// ---- mDNS ----
export interface MdnsPeer {
  /** Service instance name (Liqo v0.2: the cluster id). */
  instance: string;
  /** e.g. "_liqo_auth._tcp.local" */
  serviceType: string;
  host: string;
  port: number;
  addresses: string[];
  /** https://<address>:<port> of the preferred address (IPv4 first, IPv6 bracketed). */
  authUrl: string;
  authUrls: string[];
  txt: Record<string, string>;
  /** From TXT `id`, else the instance name (Liqo v0.2's convention). */
  clusterId: string;
  clusterName?: string;
  /**
   * The PTR's TTL, seconds, as received. A one-shot browse mostly hears answers to its legacy
   * unicast query, which RFC 6762 §6.7 caps at 10 s; a continuous browser sees the real one.
   */
  ttl: number;
}

export interface BrowseOptions {
  /** IPv4/IPv6 addresses or interface names; default all multicast-capable interfaces. */
  interfaces?: string[];
  /** One-shot settle time; default ~1000 ms. */
  settleMs?: number;
  /** Own cluster id, never reported. */
  skipClusterId?: string;
  /** Default both _liqo_auth._tcp and _liqo._tcp. */
  serviceTypes?: string[];
  signal?: AbortSignal;
  /** One-shot: called with each peer as soon as it is resolved (rows appear as they arrive). */
  onPeer?: (peer: MdnsPeer) => void;
}

export interface AdvertiseOptions {
  clusterId: string;
  clusterName?: string;
  port: number;
  /** Host name to claim under .local; default derived from the cluster id. */
  hostname?: string;
  interfaces?: string[];
  /** Record TTL seconds (RFC 6762 §10 defaults when absent). */
  ttl?: number;
  serviceTypes?: string[];
}
