// A FAKE, for the unit layer only: no API server runs there, so a command's run() gets this
// in-memory LiqoResources through its ClientFactory (plugin/command.ts) and the test reads back
// what the command stored and which requests it sent. It keeps the API server's contract that
// the commands rely on — `get`/`delete` answer "not found" with undefined/false, create refuses
// an existing name, patches are RFC 7386 merges, a server dry run stores nothing, a replace with
// a stale resourceVersion conflicts — and nothing else (no admission, no defaulting, no status
// subresource rules). The e2e layer (test/e2e/plugin*.test.ts) runs the same commands against a
// real kube-apiserver with the webhook, which is where that behaviour is tested.
import type { KubeConfig } from '@kubernetes/client-node';
import {
  CLUSTER_CONFIG_NAME,
  CONFIG_API_VERSION,
  DEFAULT_LIQO_NAMESPACE,
  DISCOVERY_API_VERSION,
  LABEL_CLUSTER_ID,
} from '../../shared/api/constants.js';
import type { ClusterConfig, DnsRegistration, ForeignCluster, SearchDomain } from '../../shared/api/types.js';
import {
  KubeApiError,
  type ListOptions,
  type LiqoResources,
  type ResourceClient,
  type WriteOptions,
} from '../../shared/kube/liqo-resources.js';
import type { ClientFactory, LiqoClientRequest } from '../../plugin/command.js';
import { NO_KUBECONFIG_MESSAGE } from '../../plugin/client-factory.js';
import { UserError } from '../../plugin/global.js';
import { mergePatch } from '../../plugin/peering.js';

type StoredObject = {
  metadata: {
    name?: string;
    labels?: Record<string, string>;
    resourceVersion?: string;
    creationTimestamp?: string;
    generation?: number;
    uid?: string;
  };
};

/** One request a command sent, in order: what a test checks for "nothing was written". */
export interface RecordedRequest {
  verb: 'get' | 'list' | 'create' | 'patch' | 'patchStatus' | 'replace' | 'delete';
  kind: string;
  name?: string;
  dryRun?: boolean;
  body?: unknown;
}

const WRITES: ReadonlySet<RecordedRequest['verb']> = new Set([
  'create',
  'patch',
  'patchStatus',
  'replace',
  'delete',
]);

let nextResourceVersion = 1;

class MemoryResourceClient<T extends StoredObject> implements ResourceClient<T> {
  private readonly objects = new Map<string, T>();

  constructor(
    readonly kind: string,
    private readonly requests: RecordedRequest[],
  ) {}

  /** Stores objects as they would be after a create, without recording a request. */
  seed(...objects: T[]): void {
    for (const o of objects) this.objects.set(nameOf(o), stamp(clone(o)));
  }

  /** What is stored now (a copy), without recording a request. */
  stored(name: string): T | undefined {
    const o = this.objects.get(name);
    return o && clone(o);
  }

  async get(name: string): Promise<T | undefined> {
    this.record({ verb: 'get', name });
    const o = this.objects.get(name);
    return o && clone(o);
  }

  async list(opts?: ListOptions): Promise<T[]> {
    this.record({ verb: 'list' });
    const matches = selectorMatcher(opts?.labelSelector);
    return [...this.objects.values()].filter((o) => matches(o.metadata.labels ?? {})).map(clone);
  }

  async create(obj: T, opts?: WriteOptions): Promise<T> {
    const name = nameOf(obj);
    this.record({ verb: 'create', name, dryRun: Boolean(opts?.dryRun), body: clone(obj) });
    if (this.objects.has(name)) {
      throw new KubeApiError(`cannot create ${this.kind} "${name}": already exists`, 409, 'AlreadyExists');
    }
    const created = stamp(clone(obj));
    if (!opts?.dryRun) this.objects.set(name, created);
    return clone(created);
  }

  async patch(name: string, body: Record<string, unknown>, opts?: WriteOptions): Promise<T> {
    this.record({ verb: 'patch', name, dryRun: Boolean(opts?.dryRun), body: clone(body) });
    return this.write(name, 'patch', (current) => mergePatch(current, body) as T, opts);
  }

  async patchStatus(name: string, body: Record<string, unknown>, opts?: WriteOptions): Promise<T> {
    this.record({ verb: 'patchStatus', name, dryRun: Boolean(opts?.dryRun), body: clone(body) });
    // only .status changes through the status subresource
    const status = (body as { status?: unknown }).status;
    return this.write(
      name,
      'patch status of',
      (current) => mergePatch(current, status === undefined ? {} : { status }) as T,
      opts,
    );
  }

  async replace(obj: T, opts?: WriteOptions): Promise<T> {
    const name = nameOf(obj);
    this.record({ verb: 'replace', name, dryRun: Boolean(opts?.dryRun), body: clone(obj) });
    return this.write(
      name,
      'update',
      (current) => {
        const wanted = obj.metadata.resourceVersion;
        if (wanted && wanted !== current.metadata.resourceVersion) {
          throw new KubeApiError(
            `cannot update ${this.kind} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
            409,
            'Conflict',
          );
        }
        return clone(obj);
      },
      opts,
    );
  }

  async delete(name: string, opts?: WriteOptions): Promise<boolean> {
    this.record({ verb: 'delete', name, dryRun: Boolean(opts?.dryRun) });
    if (!this.objects.has(name)) return false;
    if (!opts?.dryRun) this.objects.delete(name);
    return true;
  }

  private write(name: string, verb: string, change: (current: T) => T, opts?: WriteOptions): T {
    const current = this.objects.get(name);
    if (!current) throw new KubeApiError(`cannot ${verb} ${this.kind} "${name}": not found`, 404, 'NotFound');
    const next = change(clone(current));
    // name, creation time and uid are the server's, whatever the patch said
    next.metadata = {
      ...next.metadata,
      name,
      ...(current.metadata.creationTimestamp
        ? { creationTimestamp: current.metadata.creationTimestamp }
        : {}),
      ...(current.metadata.uid ? { uid: current.metadata.uid } : {}),
      resourceVersion: String(nextResourceVersion++),
    };
    if (!opts?.dryRun) this.objects.set(name, next);
    return clone(next);
  }

  private record(request: Omit<RecordedRequest, 'kind'>): void {
    this.requests.push({ kind: this.kind, ...request });
  }
}

/** The in-memory cluster: our CRDs and the cluster-id ConfigMap. */
export class MemoryLiqoResources implements LiqoResources {
  readonly server = 'memory://liqo-resources';
  readonly liqoNamespace = DEFAULT_LIQO_NAMESPACE;
  /** Every request, in order. */
  readonly requests: RecordedRequest[] = [];
  readonly foreignClusters = new MemoryResourceClient<ForeignCluster>('ForeignCluster', this.requests);
  readonly searchDomains = new MemoryResourceClient<SearchDomain>('SearchDomain', this.requests);
  readonly clusterConfigs = new MemoryResourceClient<ClusterConfig>('ClusterConfig', this.requests);
  readonly dnsRegistrations = new MemoryResourceClient<DnsRegistration>('DNSRegistration', this.requests);
  /** The cluster-id ConfigMap's value; undefined = Liqo not installed. */
  ownClusterId: string | undefined;

  /** No API server behind this fake: code that needs other APIs than ours is tested in e2e. */
  get kubeConfig(): KubeConfig {
    throw new Error('the in-memory LiqoResources has no KubeConfig (no API server in the unit layer)');
  }

  getClusterConfig(): Promise<ClusterConfig | undefined> {
    return this.clusterConfigs.get(CLUSTER_CONFIG_NAME);
  }

  async readOwnClusterId(): Promise<string | undefined> {
    return this.ownClusterId;
  }

  /** No ClusterProperty in the unit layer: the ConfigMap's id is the only one. */
  async readClusterIdConfigMap(): Promise<string | undefined> {
    return this.ownClusterId;
  }

  /** The requests that would change something on a real server (dry runs excluded). */
  writes(): RecordedRequest[] {
    return this.requests.filter((r) => WRITES.has(r.verb) && !r.dryRun);
  }
}

/** A ClientFactory for run() in unit tests; `connections` counts the liqo() calls. */
export interface MemoryClientFactory extends ClientFactory {
  readonly resources: MemoryLiqoResources;
  readonly connections: number;
  readonly requestsMade: LiqoClientRequest[];
}

export function memoryClients(resources = new MemoryLiqoResources()): MemoryClientFactory {
  const requestsMade: LiqoClientRequest[] = [];
  return {
    resources,
    requestsMade,
    get connections() {
      return requestsMade.length;
    },
    hasKubeconfig: () => true,
    liqo: async (request = {}) => {
      requestsMade.push(request);
      return resources;
    },
  };
}

/** A ClientFactory with no kubeconfig: liqo() fails as the real one does without one. */
export function noKubeconfigClients(): ClientFactory {
  return {
    hasKubeconfig: () => false,
    liqo: () => Promise.reject(new UserError(NO_KUBECONFIG_MESSAGE)),
  };
}

function nameOf(o: StoredObject): string {
  const name = o.metadata.name;
  if (!name) throw new KubeApiError('the in-memory LiqoResources needs metadata.name', 422, 'Invalid');
  return name;
}

function stamp<T extends StoredObject>(o: T): T {
  o.metadata.resourceVersion = String(nextResourceVersion++);
  o.metadata.creationTimestamp ??= new Date().toISOString();
  o.metadata.generation ??= 1;
  return o;
}

function clone<T>(o: T): T {
  return structuredClone(o);
}

/** Equality selectors only ("a=b,c", "a!=b"): what the plugin sends. */
function selectorMatcher(selector: string | undefined): (labels: Record<string, string>) => boolean {
  if (!selector) return () => true;
  const terms = selector.split(',').map((t) => t.trim());
  return (labels) =>
    terms.every((term) => {
      const m = /^([^!=]+?)\s*(!=|==|=)\s*(.*)$/.exec(term);
      if (!m) return term in labels;
      const [, key = '', op, value] = m;
      return op === '!=' ? labels[key] !== value : labels[key] === value;
    });
}

/** A stored ForeignCluster as join leaves it (discoveryType Manual), for seeding. */
export function foreignClusterFixture(
  name: string,
  fields: { clusterId?: string; authUrl?: string; join?: boolean; joined?: boolean } = {},
): ForeignCluster {
  const clusterId = fields.clusterId ?? name;
  return {
    apiVersion: DISCOVERY_API_VERSION,
    kind: 'ForeignCluster',
    metadata: { name, labels: { [LABEL_CLUSTER_ID]: clusterId } },
    spec: {
      authUrl: fields.authUrl ?? `https://${name}.example:443`,
      join: fields.join ?? true,
      clusterIdentity: { clusterID: clusterId },
      discoveryType: 'Manual',
      trustMode: 'Trusted',
    },
    ...(fields.joined !== undefined ? { status: { outgoing: { joined: fields.joined } } } : {}),
  };
}

/** ClusterConfig liqo-configuration with this discoveryConfig, for seeding. */
export function clusterConfigFixture(discoveryConfig: Record<string, unknown>): ClusterConfig {
  return {
    apiVersion: CONFIG_API_VERSION,
    kind: 'ClusterConfig',
    metadata: { name: CLUSTER_CONFIG_NAME },
    spec: { discoveryConfig },
  } as ClusterConfig;
}

/** A SearchDomain as `search-domain add` leaves it, for seeding. */
export function searchDomainFixture(name: string, domain: string): SearchDomain {
  return {
    apiVersion: DISCOVERY_API_VERSION,
    kind: 'SearchDomain',
    metadata: { name },
    spec: { domain, autojoin: false },
  };
}
