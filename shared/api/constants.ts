// Every group, kind, label, annotation and default the programs share, written once.
// Modelled on Liqo v0.2's pkg/discovery/const.go so objects stay wire-compatible.

export const DISCOVERY_GROUP = 'discovery.liqo.io';
export const CONFIG_GROUP = 'config.liqo.io';
export const API_VERSION = 'v1alpha1';
export const DISCOVERY_API_VERSION = `${DISCOVERY_GROUP}/${API_VERSION}`;
export const CONFIG_API_VERSION = `${CONFIG_GROUP}/${API_VERSION}`;

export const KIND_FOREIGN_CLUSTER = 'ForeignCluster';
export const KIND_SEARCH_DOMAIN = 'SearchDomain';
export const KIND_CLUSTER_CONFIG = 'ClusterConfig';
export const KIND_DNS_REGISTRATION = 'DNSRegistration';

export const PLURAL_FOREIGN_CLUSTERS = 'foreignclusters';
export const PLURAL_SEARCH_DOMAINS = 'searchdomains';
export const PLURAL_CLUSTER_CONFIGS = 'clusterconfigs';
export const PLURAL_DNS_REGISTRATIONS = 'dnsregistrations';

/** Labels kept equal to the spec (Liqo v0.2 looks clusters up by these). */
export const LABEL_CLUSTER_ID = 'discovery.liqo.io/cluster-id';
export const LABEL_DISCOVERY_TYPE = 'discovery.liqo.io/discovery-type';
export const LABEL_SEARCH_DOMAIN = 'discovery.liqo.io/searchdomain';

/** Liqo v0.2's garbage collector reads this plain, unprefixed key (Unix seconds). */
export const ANNOTATION_LAST_UPDATE = 'LastUpdate';
/** SHA-256 fingerprint of the peer certificate seen when the identity was fetched. */
export const ANNOTATION_CERT_FINGERPRINT = 'discovery.liqo.io/certificate-sha256';
/** RFC 3339 time the agent last saw this peer (LAN or WAN). */
export const ANNOTATION_LAST_SEEN = 'discovery.liqo.io/last-seen';
/**
 * The `spec.join` value the discovery agent last wrote ("true"/"false"). When spec.join no
 * longer equals it, a user changed it and the agent leaves it alone.
 */
export const ANNOTATION_AGENT_JOIN = 'discovery.liqo.io/agent-join';
/**
 * On the ValidatingWebhookConfiguration: "true" when the webhook runs with
 * --allow-loopback-auth-url, "false" otherwise. The webhook (--bootstrap-tls) keeps it current;
 * `kubectl liqo join --dry-run=client` reads it to judge authUrl as the webhook would.
 */
export const ANNOTATION_ALLOW_LOOPBACK_AUTH_URL = 'webhook.liqo.io/allow-loopback-auth-url';
/**
 * The release of the program that keeps this object: the webhook writes it on its
 * ValidatingWebhookConfiguration, the agent on its Lease. `kubectl liqo version` reads it where
 * the programs do not run as our Deployment/DaemonSet (the sandbox, a webhook run by hand).
 */
export const ANNOTATION_VERSION = 'discovery.liqo.io/version';
/** The agent's leader-election Lease in the Liqo namespace (its --lease-name default). */
export const AGENT_LEASE_NAME = 'liqo-discovery-agent';
/** Condition type the agent sets on a ForeignCluster whose identity it fills from /ids. */
export const CONDITION_IDENTITY_RESOLVED = 'IdentityResolved';
/**
 * Condition type (and Event reason) the agent sets when a cluster answers with another identity
 * than the one pinned in status.pinnedIdentity (SPEC §"Security"): another cluster id, another
 * certificate, or a known cluster id advertised from another URL with another certificate.
 */
export const CONDITION_IDENTITY_CHANGED = 'IdentityChanged';

export const DISCOVERY_TYPES = ['LAN', 'WAN', 'Manual', 'IncomingPeering'] as const;
export type DiscoveryType = (typeof DISCOVERY_TYPES)[number];
export const TRUST_MODES = ['Unknown', 'Trusted', 'Untrusted'] as const;
export type TrustMode = (typeof TRUST_MODES)[number];
export const AUTH_STATUSES = ['Pending', 'Accepted', 'Refused', 'EmptyRefused'] as const;
export type AuthStatus = (typeof AUTH_STATUSES)[number];

export const DEFAULT_JOIN = false;
export const DEFAULT_DISCOVERY_TYPE: DiscoveryType = 'Manual';
export const DEFAULT_TRUST_MODE: TrustMode = 'Unknown';
export const DEFAULT_SEARCH_DOMAIN_AUTOJOIN = false;

/** The one ClusterConfig the components read. */
export const CLUSTER_CONFIG_NAME = 'liqo-configuration';
export const DEFAULT_LIQO_NAMESPACE = 'liqo';
export const CLUSTER_ID_CONFIGMAP = 'cluster-id';
export const CLUSTER_ID_CONFIGMAP_KEY = 'cluster-id';

/** ClusterConfig spec.discoveryConfig defaults (the Helm chart's values of Liqo v0.2). */
export const DISCOVERY_CONFIG_DEFAULTS = {
  enableDiscovery: true,
  enableAdvertisement: true,
  authService: '_liqo_auth._tcp',
  domain: 'local.',
  ttl: 90,
  autojoin: true,
  autojoinUntrusted: true,
  name: 'MyLiqo',
  service: '_liqo_api._tcp',
  port: 6443,
} as const;
export const MIN_DISCOVERY_TTL = 30;
/** Upper bound on discoveryConfig.ttl (one day): peers keep a gone cluster this long. */
export const MAX_DISCOVERY_TTL = 86400;

/** mDNS service types: Liqo v0.2's (not RFC 6763-valid) and the RFC-valid one we add. */
export const MDNS_SERVICE_LIQO_V02 = '_liqo_auth._tcp';
export const MDNS_SERVICE_RFC = '_liqo._tcp';
export const MDNS_DOMAIN = 'local';
/** DNS-SD service label searched under a SearchDomain besides the bare domain. */
export const DNS_SD_SERVICE_PREFIX = '_liqo._tcp';

/** The identity endpoint path under an auth URL. */
export const IDS_PATH = '/ids';

/**
 * The one image of this release (webhook and agent are two programs in it): what `kubectl liqo
 * install` deploys unless told `--image`, and what manifests/ names (a unit test keeps them equal).
 */
export const LIQO_DISCOVERY_IMAGE = 'ghcr.io/liqo-discovery/liqo-discovery:0.1.0';

/**
 * DNSRegistration (issue 19 part 1): the agent keeps this cluster's records in a DNS zone by
 * RFC 2136 UPDATE signed with TSIG. Condition `Registered` says whether the zone holds them.
 */
export const CONDITION_REGISTERED = 'Registered';
/** On a DNSRegistration while the zone may hold its records: deleting it removes them first. */
export const FINALIZER_DNS_RECORDS = 'discovery.liqo.io/dns-records';
/** The two record layouts of SPEC §4: the guide's bare-domain one and RFC 6763's DNS-SD one. */
export const DNS_REGISTRATION_LAYOUTS = ['bare', 'dns-sd'] as const;
export type DnsRegistrationLayout = (typeof DNS_REGISTRATION_LAYOUTS)[number];
/** TSIG algorithms (RFC 8945 §6) a DNSRegistration may name; BIND's names without the dot. */
export const TSIG_ALGORITHMS = [
  'hmac-sha256',
  'hmac-sha384',
  'hmac-sha512',
  'hmac-sha224',
  'hmac-sha1',
] as const;
export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];
/**
 * DNSRegistration spec defaults the webhook (and the CRD schema) fill. `instance` and `authUrl`
 * have none here: the agent fills them from what it serves (cluster name, /ids URL), and
 * `leaseSeconds` follows `refreshIntervalSeconds` (LEASE_REFRESHES of them) unless set.
 */
export const DNS_REGISTRATION_DEFAULTS = {
  port: 53,
  tsigAlgorithm: 'hmac-sha256' as TsigAlgorithm,
  secretKey: 'secret',
  ttl: 60,
  layouts: [...DNS_REGISTRATION_LAYOUTS] as DnsRegistrationLayout[],
  browseDomains: false,
  refreshIntervalSeconds: 300,
  enabled: true,
} as const;
/** A record lease (RFC 9664) spans this many refreshes unless spec.leaseSeconds says otherwise. */
export const DNS_REGISTRATION_LEASE_REFRESHES = 3;
export const MIN_DNS_REGISTRATION_TTL = 1;
export const MAX_DNS_REGISTRATION_TTL = 86400;
export const MIN_DNS_REGISTRATION_REFRESH_SECONDS = 5;
export const MAX_DNS_REGISTRATION_REFRESH_SECONDS = 86400;
/**
 * The TSIG Secret the agent may read by default (manifests/agent/rbac.yaml names it in Role
 * DNS_TSIG_ROLE_NAME; `dns-registration enable` adds another name there when given one).
 */
export const DEFAULT_DNS_TSIG_SECRET = 'liqo-dns-tsig';
export const DNS_TSIG_ROLE_NAME = 'liqo-discovery-agent-dns-tsig';
