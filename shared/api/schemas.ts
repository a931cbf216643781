// The CRDs (SPEC §1, and DNSRegistration of issue 19) as data. This file is the source of truth: the YAML under
// manifests/crds/ is generated from it (`npx tsx scripts/gen-crds.ts`; a unit test fails when
// they drift), so bundles in dist/ carry the schemas with no file to find at run time, and
// the plugin's `install` can apply them as objects. Wire-compatible with Liqo v0.2's CRDs
// (every spec and status field, the hyphenated `remote-peering-request-name` included), plus
// our status fields, printer columns, short names, a status subresource and CEL rules.
import {
  AUTH_STATUSES,
  CONDITION_IDENTITY_RESOLVED,
  CONDITION_REGISTERED,
  DNS_REGISTRATION_DEFAULTS,
  DNS_REGISTRATION_LAYOUTS,
  KIND_DNS_REGISTRATION,
  MAX_DNS_REGISTRATION_REFRESH_SECONDS,
  MAX_DNS_REGISTRATION_TTL,
  MIN_DNS_REGISTRATION_REFRESH_SECONDS,
  MIN_DNS_REGISTRATION_TTL,
  PLURAL_DNS_REGISTRATIONS,
  TSIG_ALGORITHMS,
  CONFIG_GROUP,
  DEFAULT_DISCOVERY_TYPE,
  DEFAULT_JOIN,
  DEFAULT_SEARCH_DOMAIN_AUTOJOIN,
  DEFAULT_TRUST_MODE,
  DISCOVERY_CONFIG_DEFAULTS,
  DISCOVERY_GROUP,
  DISCOVERY_TYPES,
  KIND_CLUSTER_CONFIG,
  KIND_FOREIGN_CLUSTER,
  KIND_SEARCH_DOMAIN,
  MAX_DISCOVERY_TTL,
  MIN_DISCOVERY_TTL,
  PLURAL_CLUSTER_CONFIGS,
  PLURAL_FOREIGN_CLUSTERS,
  PLURAL_SEARCH_DOMAINS,
  API_VERSION,
  TRUST_MODES,
} from './constants.js';

/** The subset of apiextensions.k8s.io/v1 JSONSchemaProps we use. */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  format?: string;
  properties?: Record<string, JSONSchemaProps>;
  required?: string[];
  items?: JSONSchemaProps;
  enum?: readonly (string | number | boolean)[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  minItems?: number;
  pattern?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: { rule: string; message: string; fieldPath?: string; reason?: string }[];
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    scope: 'Cluster';
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames?: string[];
      categories: string[];
    };
    versions: {
      name: string;
      served: true;
      storage: true;
      schema: { openAPIV3Schema: JSONSchemaProps };
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: {
        name: string;
        type: string;
        jsonPath: string;
        description?: string;
        priority?: number;
      }[];
    }[];
  };
}

/**
 * A DNS name (RFC 1123 labels, "_" allowed for DNS-SD style labels, optional trailing dot).
 * Written in the syntax RE2 (CEL) and JavaScript share; shared/rules/dns-name.ts applies the
 * same rule with per-label messages, and a unit test checks the two agree.
 */
export const DNS_NAME_REGEX =
  '^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?([.][A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*[.]?$';
/** The same DNS-SD service type rule as shared/rules/clusterconfig.ts. */
export const SERVICE_TYPE_REGEX = '^_[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?[.]_(tcp|udp)$';
/** Kubernetes label values; a cluster id becomes the discovery.liqo.io/cluster-id label. */
export const CLUSTER_ID_REGEX = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$';
export const MAX_AUTH_URL_SCHEMA_LENGTH = 2048;
const MAX_DNS_NAME_WITH_DOT = 254;

/** CEL: a DNS name of at most 253 characters (254 with the trailing dot), not an IPv4 address. */
function dnsNameRules(field: string): NonNullable<JSONSchemaProps['x-kubernetes-validations']> {
  return [
    {
      rule: `self.matches('${DNS_NAME_REGEX}') && (size(self) <= 253 || self.endsWith('.')) && !self.matches('^[0-9.]+$')`,
      message:
        `${field} must be a DNS name such as example.com: dot-separated labels of letters, digits, '-' and '_' ` +
        "(1-63 characters, no '-' at either end), at most 253 characters, not an IP address",
    },
  ];
}

const string = (description: string, extra: Partial<JSONSchemaProps> = {}): JSONSchemaProps => ({
  type: 'string',
  description,
  ...extra,
});
const boolean = (description: string, extra: Partial<JSONSchemaProps> = {}): JSONSchemaProps => ({
  type: 'boolean',
  description,
  ...extra,
});

/** corev1.ObjectReference, as controller-gen wrote it into Liqo's CRDs. */
function objectReference(description: string): JSONSchemaProps {
  const field = (name: string): JSONSchemaProps => string(`${name} of the referent.`);
  return {
    type: 'object',
    description,
    properties: {
      apiVersion: field('API version'),
      fieldPath: field('Field path inside'),
      kind: field('Kind'),
      name: field('Name'),
      namespace: field('Namespace'),
      resourceVersion: field('Resource version'),
      uid: field('UID'),
    },
  };
}

function resourceLink(description: string): JSONSchemaProps {
  return {
    type: 'object',
    description,
    required: ['available'],
    properties: {
      available: boolean('Whether the resource exists.'),
      reference: objectReference('The resource.'),
    },
  };
}

function peeringStatus(direction: 'outgoing' | 'incoming'): JSONSchemaProps {
  const common: Record<string, JSONSchemaProps> = {
    joined: boolean(`Whether the ${direction} peering is established.`),
    availableIdentity: boolean('Whether an identity for the remote cluster is available.'),
    identityRef: objectReference('The identity used for this peering.'),
    advertisementStatus: string('Phase of the Advertisement: Accepted or Refused.'),
  };
  const specific: Record<string, JSONSchemaProps> =
    direction === 'outgoing'
      ? {
          'remote-peering-request-name': string(
            'Name of our PeeringRequest on the remote cluster (the key is hyphenated, as in Liqo).',
          ),
          advertisement: objectReference('Our Advertisement sent to the remote cluster.'),
        }
      : { peeringRequest: objectReference('The PeeringRequest the remote cluster sent us.') };
  return { type: 'object', required: ['joined'], properties: { ...common, ...specific } };
}

const conditions: JSONSchemaProps = {
  type: 'array',
  description: 'Observations of the object, e.g. whether its identity was resolved from /ids.',
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
  maxItems: 32,
  items: {
    type: 'object',
    required: ['type', 'status'],
    properties: {
      type: string('Condition type.', { maxLength: 316 }),
      status: string('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
      reason: string('Machine-readable reason, CamelCase.', { maxLength: 1024 }),
      message: string('Human-readable detail.', { maxLength: 32768 }),
      lastTransitionTime: string('When the status last changed.', { format: 'date-time' }),
      observedGeneration: {
        type: 'integer',
        format: 'int64',
        minimum: 0,
        description: 'Generation observed.',
      },
    },
  },
};

export const foreignClusterSchema: JSONSchemaProps = {
  type: 'object',
  description: 'ForeignCluster is a remote cluster this cluster knows of; each one can be peered with.',
  required: ['spec'],
  properties: {
    apiVersion: string('APIVersion of this representation of the object.'),
    kind: string('Kind of this object.'),
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      required: ['authUrl'],
      properties: {
        authUrl: string('Base URL of the remote auth service, https://<host>:<port>.', {
          maxLength: MAX_AUTH_URL_SCHEMA_LENGTH,
          'x-kubernetes-validations': [
            {
              rule: 'size(self) > 0',
              message:
                'spec.authUrl must not be empty: give the remote auth service URL, e.g. https://192.168.1.10:30740',
            },
            {
              rule: "size(self) == 0 || self.matches('^(?i)https://[^/?#@]+(/)?$')",
              message:
                'spec.authUrl must be an https URL with a host and no user info, path, query or fragment: https://<host>[:<port>]',
            },
          ],
        }),
        join: boolean('Peer with this cluster.', { default: DEFAULT_JOIN }),
        clusterIdentity: {
          type: 'object',
          description: 'Identity of the remote cluster, as its /ids endpoint reports it.',
          required: ['clusterID'],
          properties: {
            clusterID: string('Unique identifier of the remote cluster; cannot change once set.', {
              maxLength: 63,
              'x-kubernetes-validations': [
                {
                  rule: `self.matches('${CLUSTER_ID_REGEX}') && size(self) > 0`,
                  message:
                    "spec.clusterIdentity.clusterID must be a non-empty id of at most 63 letters, digits, '-', '_' " +
                    "or '.', starting and ending with a letter or digit (it becomes a label value), such as a UUID",
                },
              ],
            }),
            clusterName: string('Display name of the remote cluster.', { maxLength: 253 }),
          },
        },
        namespace: string('Namespace where Liqo runs in the remote cluster (its guestNamespace).', {
          maxLength: 63,
        }),
        discoveryType: string('How the cluster was found.', {
          enum: DISCOVERY_TYPES,
          default: DEFAULT_DISCOVERY_TYPE,
        }),
        trustMode: string('Whether the remote auth service presents a certificate that verifies.', {
          enum: TRUST_MODES,
          default: DEFAULT_TRUST_MODE,
        }),
      },
      'x-kubernetes-validations': [
        {
          rule:
            '!has(oldSelf.clusterIdentity) || (has(self.clusterIdentity) && ' +
            'self.clusterIdentity.clusterID == oldSelf.clusterIdentity.clusterID)',
          message:
            'spec.clusterIdentity.clusterID cannot change or be removed once set; accepted: the same id ' +
            '(create a new ForeignCluster for another cluster)',
          fieldPath: '.clusterIdentity.clusterID',
        },
      ],
    },
    status: {
      type: 'object',
      properties: {
        outgoing: peeringStatus('outgoing'),
        incoming: peeringStatus('incoming'),
        ttl: {
          type: 'integer',
          format: 'int32',
          description: 'Seconds a LAN or WAN cluster is kept after it was last seen.',
        },
        network: {
          type: 'object',
          required: ['localNetworkConfig', 'remoteNetworkConfig', 'tunnelEndpoint'],
          properties: {
            localNetworkConfig: resourceLink('Our NetworkConfig for this peering.'),
            remoteNetworkConfig: resourceLink('The remote NetworkConfig.'),
            tunnelEndpoint: resourceLink('The TunnelEndpoint of this peering.'),
          },
        },
        authStatus: string('Result of the authentication to the remote cluster.', {
          enum: AUTH_STATUSES,
          default: 'Pending',
        }),
        conditions,
        pinnedIdentity: observedIdentity(
          'The identity the first /ids answer pinned; a later different answer sets condition IdentityChanged instead of replacing it.',
          'pinnedAt',
          'When it was pinned.',
        ),
        changedIdentity: observedIdentity(
          'The other identity seen while condition IdentityChanged is True; `kubectl liqo join NAME --accept-identity` pins it.',
          'seenAt',
          'When it was first seen.',
        ),
      },
    },
  },
};

function observedIdentity(description: string, timeField: string, timeDescription: string): JSONSchemaProps {
  return {
    type: 'object',
    description,
    required: ['clusterID', 'certificateFingerprint', 'authUrl'],
    properties: {
      clusterID: string('Cluster id /ids answered.', { maxLength: 63 }),
      certificateFingerprint: string('SHA-256 of the certificate /ids was served with.', { maxLength: 128 }),
      authUrl: string('Auth URL the answer came from.', { maxLength: MAX_AUTH_URL_SCHEMA_LENGTH }),
      [timeField]: string(timeDescription, { format: 'date-time' }),
    },
  };
}

/**
 * SearchDomain.status lists this many clusters at most (a domain may name thousands; an object
 * must stay far below etcd's 1.5 MiB); the rest are counted in status.clustersOmitted.
 */
export const MAX_SEARCH_DOMAIN_STATUS_CLUSTERS = 1000;
/** Each entry's error is cut to this many characters in SearchDomain.status. */
export const MAX_SEARCH_DOMAIN_STATUS_ERROR = 512;

const foundCluster: JSONSchemaProps = {
  type: 'object',
  required: ['authUrl'],
  properties: {
    clusterId: string('Cluster id reported by /ids.'),
    clusterName: string('Cluster name reported by /ids.'),
    authUrl: string('Auth URL built from the SRV and address records.'),
    foreignCluster: string('Name of the ForeignCluster made for it.'),
    error: string('Why this entry could not be used, if it could not.'),
  },
};

export const searchDomainSchema: JSONSchemaProps = {
  type: 'object',
  description: 'SearchDomain is a DNS domain searched for Liqo clusters; its name is usually the domain.',
  required: ['spec'],
  properties: {
    apiVersion: string('APIVersion of this representation of the object.'),
    kind: string('Kind of this object.'),
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      required: ['domain'],
      properties: {
        domain: string('DNS domain where to search for clusters.', {
          maxLength: MAX_DNS_NAME_WITH_DOT,
          'x-kubernetes-validations': dnsNameRules('spec.domain'),
        }),
        autojoin: boolean('Join the clusters found.', { default: DEFAULT_SEARCH_DOMAIN_AUTOJOIN }),
      },
    },
    status: {
      type: 'object',
      properties: {
        lastResolved: string('When the domain was last resolved.', { format: 'date-time' }),
        clusters: {
          type: 'array',
          description: `The clusters found at the last resolution (at most ${MAX_SEARCH_DOMAIN_STATUS_CLUSTERS}; those that worked first).`,
          'x-kubernetes-list-type': 'atomic',
          maxItems: MAX_SEARCH_DOMAIN_STATUS_CLUSTERS,
          items: foundCluster,
        },
        clustersOmitted: {
          type: 'integer',
          minimum: 0,
          description: `How many more entries the last resolution gave than status.clusters lists.`,
        },
        error: string('Why the last resolution failed, if it did.'),
      },
    },
  },
};

/**
 * Every discoveryConfig field has a schema default too, and so do spec and discoveryConfig
 * themselves, so the API server fills the same defaults as the webhook when the webhook is down.
 */
const discoveryConfig: JSONSchemaProps = {
  type: 'object',
  description: 'LAN discovery (mDNS) settings; the only part of ClusterConfig these tools read or check.',
  default: {},
  properties: {
    enableDiscovery: boolean('Browse the LAN for clusters.', {
      default: DISCOVERY_CONFIG_DEFAULTS.enableDiscovery,
    }),
    enableAdvertisement: boolean('Advertise this cluster on the LAN.', {
      default: DISCOVERY_CONFIG_DEFAULTS.enableAdvertisement,
    }),
    authService: string('mDNS service type of the auth service.', {
      default: DISCOVERY_CONFIG_DEFAULTS.authService,
      maxLength: 68,
      'x-kubernetes-validations': [
        {
          rule: `self.matches('${SERVICE_TYPE_REGEX}')`,
          message:
            'spec.discoveryConfig.authService must be a DNS-SD service type such as _liqo._tcp or _liqo_auth._tcp',
        },
      ],
    }),
    domain: string('mDNS domain.', {
      default: DISCOVERY_CONFIG_DEFAULTS.domain,
      maxLength: MAX_DNS_NAME_WITH_DOT,
      'x-kubernetes-validations': dnsNameRules('spec.discoveryConfig.domain'),
    }),
    ttl: {
      type: 'integer',
      format: 'int32',
      description: 'TTL in seconds of the records this cluster advertises.',
      minimum: MIN_DISCOVERY_TTL,
      maximum: MAX_DISCOVERY_TTL,
      default: DISCOVERY_CONFIG_DEFAULTS.ttl,
    },
    clusterName: string('Name of this cluster, reported by /ids.'),
    autojoin: boolean('Join LAN clusters whose certificate verifies.', {
      default: DISCOVERY_CONFIG_DEFAULTS.autojoin,
    }),
    autojoinUntrusted: boolean('Join LAN clusters with a self-signed certificate.', {
      default: DISCOVERY_CONFIG_DEFAULTS.autojoinUntrusted,
    }),
    name: string('Unused by Liqo v0.2; kept for compatibility.', { default: DISCOVERY_CONFIG_DEFAULTS.name }),
    service: string('Unused by Liqo v0.2; kept for compatibility.', {
      default: DISCOVERY_CONFIG_DEFAULTS.service,
    }),
    port: {
      type: 'integer',
      description: 'Unused by Liqo v0.2; kept for compatibility.',
      minimum: 1,
      maximum: 65535,
      default: DISCOVERY_CONFIG_DEFAULTS.port,
    },
    authServiceAddress: string('Liqo v0.2.1: overrides the home auth address.'),
    authServicePort: string('Liqo v0.2.1: overrides the home auth port.'),
  },
};

/** Liqo's own parts of ClusterConfig: declared as objects, everything inside preserved as is. */
function preserved(description: string): JSONSchemaProps {
  return { type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true };
}

export const clusterConfigSchema: JSONSchemaProps = {
  type: 'object',
  description: 'ClusterConfig is the configuration of a Liqo cluster (one object, liqo-configuration).',
  properties: {
    apiVersion: string('APIVersion of this representation of the object.'),
    kind: string('Kind of this object.'),
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      description: 'Only discoveryConfig is checked here; every other part is kept untouched.',
      default: {},
      'x-kubernetes-preserve-unknown-fields': true,
      properties: {
        discoveryConfig,
        advertisementConfig: preserved("Liqo's advertisement settings (preserved)."),
        agentConfig: preserved("Liqo's agent settings (preserved)."),
        authConfig: preserved("Liqo's auth settings (preserved)."),
        liqonetConfig: preserved("Liqo's network settings (preserved)."),
        dispatcherConfig: preserved("Liqo's CRD replication settings (preserved)."),
        apiServerConfig: preserved("Liqo v0.2.1's API server settings (preserved)."),
      },
    },
    status: preserved('Empty in Liqo v0.2.'),
  },
};

/** "host" or "host:port", host a DNS name, an IPv4 address or a bracketed IPv6 address. */
export const DNS_SERVER_REGEX = '^([A-Za-z0-9_.-]+|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?$';
/** An instance label: one DNS label of letters, digits and '-' (no '-' at either end). */
export const DNS_INSTANCE_REGEX = '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$';
/** Kubernetes object names (RFC 1123 subdomain), for the Secret reference. */
const OBJECT_NAME_REGEX = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

const integer = (description: string, extra: Partial<JSONSchemaProps> = {}): JSONSchemaProps => ({
  type: 'integer',
  format: 'int32',
  description,
  ...extra,
});

export const dnsRegistrationSchema: JSONSchemaProps = {
  type: 'object',
  description:
    "DNSRegistration makes the discovery agent keep this cluster's DNS-SD records in a DNS zone (RFC 2136 UPDATE signed with TSIG), so that SearchDomains and `kubectl liqo discover --domain` elsewhere find it.",
  required: ['spec'],
  properties: {
    apiVersion: string('APIVersion of this representation of the object.'),
    kind: string('Kind of this object.'),
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      required: ['zone', 'server', 'tsig'],
      properties: {
        zone: string('The zone the records go in, e.g. liqo.example.com.', {
          maxLength: MAX_DNS_NAME_WITH_DOT,
          'x-kubernetes-validations': dnsNameRules('spec.zone'),
        }),
        server: string("The zone's primary server, host:port (port 53 when absent).", {
          maxLength: 262,
          'x-kubernetes-validations': [
            {
              rule: `self.matches('${DNS_SERVER_REGEX.replace(/\\/g, '\\\\')}')`,
              message:
                'spec.server must be host:port with a DNS name, IPv4 or [IPv6] host, e.g. ns1.example.com:53 or [2001:db8::1]:53',
            },
          ],
        }),
        tsig: {
          type: 'object',
          description: 'The TSIG key (RFC 8945) the server accepts updates of the zone with.',
          required: ['keyName', 'secretRef'],
          properties: {
            keyName: string('The key\'s name as the server knows it (BIND: key "<name>").', {
              maxLength: MAX_DNS_NAME_WITH_DOT,
              'x-kubernetes-validations': dnsNameRules('spec.tsig.keyName'),
            }),
            algorithm: string('The HMAC algorithm of the key.', {
              enum: TSIG_ALGORITHMS,
              default: DNS_REGISTRATION_DEFAULTS.tsigAlgorithm,
            }),
            secretRef: {
              type: 'object',
              description: 'The Secret holding the key (base64, as in BIND\'s secret "...").',
              required: ['name'],
              properties: {
                name: string('Name of the Secret.', {
                  maxLength: 253,
                  'x-kubernetes-validations': [
                    {
                      rule: `self.matches('${OBJECT_NAME_REGEX}')`,
                      message:
                        "spec.tsig.secretRef.name must be a Secret name: lower-case letters, digits, '-' and '.'",
                    },
                  ],
                }),
                namespace: string('Namespace of the Secret; default the Liqo namespace.', { maxLength: 63 }),
                key: string("Key in the Secret's data.", {
                  maxLength: 253,
                  default: DNS_REGISTRATION_DEFAULTS.secretKey,
                }),
              },
            },
          },
        },
        instance: string(
          "The instance label of this cluster's records; default the cluster name /ids serves.",
          {
            maxLength: 63,
            'x-kubernetes-validations': [
              {
                rule: `self.matches('${DNS_INSTANCE_REGEX}')`,
                message:
                  "spec.instance must be one DNS label: 1-63 letters, digits and '-', no '-' at either end",
              },
            ],
          },
        ),
        authUrl: string('The auth URL to publish; default where the agent serves /ids.', {
          maxLength: MAX_AUTH_URL_SCHEMA_LENGTH,
          'x-kubernetes-validations': [
            {
              rule: "self.matches('^(?i)https://[^/?#@]+(/)?$')",
              message:
                'spec.authUrl must be an https URL with a host and no user info, path, query or fragment: https://<host>[:<port>]',
            },
          ],
        }),
        ttl: integer('TTL in seconds of the records.', {
          minimum: MIN_DNS_REGISTRATION_TTL,
          maximum: MAX_DNS_REGISTRATION_TTL,
          default: DNS_REGISTRATION_DEFAULTS.ttl,
        }),
        layouts: {
          type: 'array',
          description:
            "Which layouts to write: bare (the guide's <zone> PTR) and dns-sd (RFC 6763 _liqo._tcp).",
          'x-kubernetes-list-type': 'set',
          minItems: 1,
          maxItems: DNS_REGISTRATION_LAYOUTS.length,
          items: string('A layout.', { enum: DNS_REGISTRATION_LAYOUTS }),
          default: [...DNS_REGISTRATION_DEFAULTS.layouts],
        },
        browseDomains: boolean('Also write the browse-domain records b._dns-sd._udp and lb._dns-sd._udp.', {
          default: DNS_REGISTRATION_DEFAULTS.browseDomains,
        }),
        refreshIntervalSeconds: integer('Seconds between refreshes of the records.', {
          minimum: MIN_DNS_REGISTRATION_REFRESH_SECONDS,
          maximum: MAX_DNS_REGISTRATION_REFRESH_SECONDS,
          default: DNS_REGISTRATION_DEFAULTS.refreshIntervalSeconds,
        }),
        leaseSeconds: integer(
          'RFC 9664 update lease: a server that honours it removes the records when not refreshed this long. Default 3 refresh intervals.',
          {
            minimum: MIN_DNS_REGISTRATION_REFRESH_SECONDS,
            maximum: 4 * MAX_DNS_REGISTRATION_REFRESH_SECONDS,
          },
        ),
        enabled: boolean('Keep the records; false removes them and keeps this object.', {
          default: DNS_REGISTRATION_DEFAULTS.enabled,
        }),
      },
      'x-kubernetes-validations': [
        {
          rule: '!has(self.leaseSeconds) || !has(self.refreshIntervalSeconds) || self.leaseSeconds > self.refreshIntervalSeconds',
          message:
            'spec.leaseSeconds must be longer than spec.refreshIntervalSeconds, or the records would lapse between refreshes',
          fieldPath: '.leaseSeconds',
        },
      ],
    },
    status: {
      type: 'object',
      properties: {
        conditions,
        observedGeneration: {
          type: 'integer',
          format: 'int64',
          minimum: 0,
          description: 'Generation observed.',
        },
        records: {
          type: 'array',
          description: 'The records the zone holds for this cluster, in presentation format.',
          'x-kubernetes-list-type': 'atomic',
          maxItems: 64,
          items: string('One record.', { maxLength: 2048 }),
        },
        zone: string('The zone the records were last written to.'),
        server: string('The server (host:port) they were written through.'),
        instance: string('The instance label registered.'),
        authUrl: string('The auth URL registered.'),
        lastRegistered: string('When the server last accepted the records.', { format: 'date-time' }),
        owner: string('The cluster id that owns the name, when the server refused ours.'),
      },
    },
  },
};

const AGE = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
type PrinterColumn = NonNullable<
  CustomResourceDefinition['spec']['versions'][number]['additionalPrinterColumns']
>[number];

/** A printer column of text or true/false; priority 1 shows only with -o wide. */
const textColumn = (name: string, jsonPath: string, priority?: number): PrinterColumn => ({
  name,
  type: 'string',
  jsonPath,
  ...(priority === undefined ? {} : { priority }),
});
const flagColumn = (name: string, jsonPath: string, priority?: number): PrinterColumn => ({
  ...textColumn(name, jsonPath, priority),
  type: 'boolean',
});

/** The status, reason and (wide) message columns of one condition, the status under `header`. */
function conditionColumns(type: string, header: string, meaning: string) {
  const condition = `.status.conditions[?(@.type=="${type}")]`;
  return {
    status: {
      name: header,
      type: 'string',
      jsonPath: condition + '.status',
      description: `The ${type} condition: ${meaning}`,
    },
    reason: textColumn('Reason', condition + '.reason'),
    message: textColumn('Message', condition + '.message', 1),
  };
}

const identityColumns = conditionColumns(
  CONDITION_IDENTITY_RESOLVED,
  'Ready',
  'whether the identity was read from authUrl',
);

function crd(
  group: string,
  kind: string,
  plural: string,
  schema: JSONSchemaProps,
  shortNames: string[],
  columns: CustomResourceDefinition['spec']['versions'][number]['additionalPrinterColumns'],
): CustomResourceDefinition {
  const names: CustomResourceDefinition['spec']['names'] = {
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    categories: ['liqo'],
  };
  if (shortNames.length > 0) names.shortNames = shortNames;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}`, labels: { 'app.kubernetes.io/part-of': 'liqo-discovery' } },
    spec: {
      group,
      scope: 'Cluster',
      names,
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: schema },
          subresources: { status: {} },
          additionalPrinterColumns: columns,
        },
      ],
    },
  };
}

export const foreignClusterCrd = crd(
  DISCOVERY_GROUP,
  KIND_FOREIGN_CLUSTER,
  PLURAL_FOREIGN_CLUSTERS,
  foreignClusterSchema,
  ['fc'],
  [
    textColumn('Cluster-ID', '.spec.clusterIdentity.clusterID'),
    textColumn('Cluster-Name', '.spec.clusterIdentity.clusterName'),
    // Why a ForeignCluster is stuck, without -o yaml (as cert-manager's Certificate shows
    // READY). The agent's one condition says whether the identity could be read from /ids.
    identityColumns.status,
    identityColumns.reason,
    flagColumn('Join', '.spec.join'),
    textColumn('Discovery', '.spec.discoveryType'),
    textColumn('Trust', '.spec.trustMode'),
    textColumn('Auth-URL', '.spec.authUrl'),
    flagColumn('Outgoing', '.status.outgoing.joined', 1),
    flagColumn('Incoming', '.status.incoming.joined', 1),
    textColumn('Auth-Status', '.status.authStatus', 1),
    AGE,
    identityColumns.message,
  ],
);

export const searchDomainCrd = crd(
  DISCOVERY_GROUP,
  KIND_SEARCH_DOMAIN,
  PLURAL_SEARCH_DOMAINS,
  searchDomainSchema,
  ['sd'],
  [
    textColumn('Domain', '.spec.domain'),
    flagColumn('Autojoin', '.spec.autojoin'),
    {
      name: 'Resolved',
      type: 'date',
      jsonPath: '.status.lastResolved',
      description: 'When the domain was last resolved',
    },
    textColumn('Error', '.status.error', 1),
    AGE,
  ],
);

// No short name: the one object is typed rarely, and a two-letter name risks clashing.
export const clusterConfigCrd = crd(
  CONFIG_GROUP,
  KIND_CLUSTER_CONFIG,
  PLURAL_CLUSTER_CONFIGS,
  clusterConfigSchema,
  [],
  [
    flagColumn('Discovery', '.spec.discoveryConfig.enableDiscovery'),
    flagColumn('Advertisement', '.spec.discoveryConfig.enableAdvertisement'),
    textColumn('Cluster-Name', '.spec.discoveryConfig.clusterName'),
    textColumn('Service', '.spec.discoveryConfig.authService', 1),
    AGE,
  ],
);

const registeredColumns = conditionColumns(
  CONDITION_REGISTERED,
  'Registered',
  "whether the zone holds this cluster's records",
);

export const dnsRegistrationCrd = crd(
  DISCOVERY_GROUP,
  KIND_DNS_REGISTRATION,
  PLURAL_DNS_REGISTRATIONS,
  dnsRegistrationSchema,
  ['dnsreg'],
  [
    textColumn('Zone', '.spec.zone'),
    textColumn('Server', '.spec.server'),
    flagColumn('Enabled', '.spec.enabled'),
    registeredColumns.status,
    registeredColumns.reason,
    textColumn('Instance', '.status.instance', 1),
    textColumn('Auth-URL', '.status.authUrl', 1),
    AGE,
    registeredColumns.message,
  ],
);

/** The CRDs in the order they are installed; file names as controller-gen would write them. */
export const CRDS: readonly { fileName: string; crd: CustomResourceDefinition }[] = [
  { fileName: `${DISCOVERY_GROUP}_${PLURAL_FOREIGN_CLUSTERS}.yaml`, crd: foreignClusterCrd },
  { fileName: `${DISCOVERY_GROUP}_${PLURAL_SEARCH_DOMAINS}.yaml`, crd: searchDomainCrd },
  { fileName: `${CONFIG_GROUP}_${PLURAL_CLUSTER_CONFIGS}.yaml`, crd: clusterConfigCrd },
  { fileName: `${DISCOVERY_GROUP}_${PLURAL_DNS_REGISTRATIONS}.yaml`, crd: dnsRegistrationCrd },
];

/** openAPIV3Schema by kind, for ajv checks (shared/rules/schema-check.ts). */
export const openAPISchemasByKind: Readonly<Record<string, JSONSchemaProps>> = {
  [KIND_FOREIGN_CLUSTER]: foreignClusterSchema,
  [KIND_SEARCH_DOMAIN]: searchDomainSchema,
  [KIND_CLUSTER_CONFIG]: clusterConfigSchema,
  [KIND_DNS_REGISTRATION]: dnsRegistrationSchema,
};
