// Typed access to our three CRDs and the cluster-id ConfigMap, for the plugin and the agent.
// @kubernetes/client-node is imported lazily (see config.ts); every failure becomes a
// KubeApiError whose message is one line a user can act on — for an admission refusal, the
// webhook's own message.
import type { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import {
  CLUSTER_CONFIG_NAME,
  CLUSTER_ID_CONFIGMAP,
  CLUSTER_ID_CONFIGMAP_KEY,
  CONFIG_GROUP,
  DEFAULT_LIQO_NAMESPACE,
  DISCOVERY_GROUP,
  API_VERSION,
  KIND_CLUSTER_CONFIG,
  KIND_DNS_REGISTRATION,
  KIND_FOREIGN_CLUSTER,
  KIND_SEARCH_DOMAIN,
  PLURAL_CLUSTER_CONFIGS,
  PLURAL_DNS_REGISTRATIONS,
  PLURAL_FOREIGN_CLUSTERS,
  PLURAL_SEARCH_DOMAINS,
} from '../api/constants.js';
import type { ClusterConfig, DnsRegistration, ForeignCluster, SearchDomain } from '../api/types.js';
import { loadKubeConfig, type KubeconfigOptions } from './config.js';
import { describeApiFailure } from './api-errors.js';
import { CLUSTER_ID_PROPERTY, readClusterProperty } from './sig-multicluster.js';

export { KubeApiError } from './api-errors.js';

export interface LiqoClientOptions extends KubeconfigOptions {
  /** Bound on each request (kubectl's --request-timeout); none by default. */
  requestTimeoutMs?: number;
  /** Where the cluster-id ConfigMap lives; default "liqo". */
  liqoNamespace?: string;
  /** Called with each `Warning:` header the API server (or a webhook) sent. */
  onWarning?: (message: string) => void;
  /** Use this configuration instead of loading one (e.g. the agent's in-cluster config). */
  kubeConfig?: KubeConfig;
}

export interface WriteOptions {
  /** Server-side dry run (`dryRun=All`): admission runs, nothing is stored. */
  dryRun?: boolean;
}

export interface ListOptions {
  labelSelector?: string;
}

/** One CRD kind, cluster-scoped. `get` and `delete` treat "not found" as an answer, not an error. */
export interface ResourceClient<T> {
  readonly kind: string;
  get(name: string): Promise<T | undefined>;
  list(opts?: ListOptions): Promise<T[]>;
  create(obj: T, opts?: WriteOptions): Promise<T>;
  /** RFC 7386 JSON merge patch (`kubectl patch --type merge`). */
  patch(name: string, mergePatch: Record<string, unknown>, opts?: WriteOptions): Promise<T>;
  /** Merge patch of the status subresource. */
  patchStatus(name: string, mergePatch: Record<string, unknown>, opts?: WriteOptions): Promise<T>;
  /** PUT of the whole object; its metadata.resourceVersion makes it a compare-and-swap. */
  replace(obj: T, opts?: WriteOptions): Promise<T>;
  /** Resolves false when there was nothing to delete. */
  delete(name: string, opts?: WriteOptions): Promise<boolean>;
}

export interface LiqoResources {
  readonly kubeConfig: KubeConfig;
  /** The API server URL, for messages. */
  readonly server: string;
  readonly liqoNamespace: string;
  readonly foreignClusters: ResourceClient<ForeignCluster>;
  readonly searchDomains: ResourceClient<SearchDomain>;
  readonly clusterConfigs: ResourceClient<ClusterConfig>;
  readonly dnsRegistrations: ResourceClient<DnsRegistration>;
  /** Reads ClusterConfig `liqo-configuration`, undefined when absent. */
  getClusterConfig(): Promise<ClusterConfig | undefined>;
  /**
   * This cluster's id as the agent serves it in /ids: ConfigMap `cluster-id`, else (KEP-2149)
   * ClusterProperty `cluster.clusterset.k8s.io`; undefined when neither is there.
   */
  readOwnClusterId(): Promise<string | undefined>;
  /** The id in ConfigMap `cluster-id` only (what install publishes, and compares). */
  readClusterIdConfigMap(): Promise<string | undefined>;
}

interface KindCoordinates {
  kind: string;
  group: string;
  plural: string;
}

const COORDINATES = {
  ForeignCluster: { kind: KIND_FOREIGN_CLUSTER, group: DISCOVERY_GROUP, plural: PLURAL_FOREIGN_CLUSTERS },
  SearchDomain: { kind: KIND_SEARCH_DOMAIN, group: DISCOVERY_GROUP, plural: PLURAL_SEARCH_DOMAINS },
  ClusterConfig: { kind: KIND_CLUSTER_CONFIG, group: CONFIG_GROUP, plural: PLURAL_CLUSTER_CONFIGS },
  DNSRegistration: { kind: KIND_DNS_REGISTRATION, group: DISCOVERY_GROUP, plural: PLURAL_DNS_REGISTRATIONS },
} as const satisfies Record<string, KindCoordinates>;

export async function connectLiqo(opts: LiqoClientOptions = {}): Promise<LiqoResources> {
  const k8s = await import('@kubernetes/client-node');
  const kubeConfig = opts.kubeConfig ?? (await loadKubeConfig(opts));
  const server = kubeConfig.getCurrentCluster()?.server ?? '(unknown server)';
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const liqoNamespace = opts.liqoNamespace ?? DEFAULT_LIQO_NAMESPACE;

  // Per-request middleware: the timeout (an AbortSignal) and the Warning headers.
  const middleware = {
    pre: (ctx: import('@kubernetes/client-node').RequestContext) => {
      if (opts.requestTimeoutMs && opts.requestTimeoutMs > 0) {
        ctx.setSignal(AbortSignal.timeout(opts.requestTimeoutMs));
      }
      return new k8s.Observable(Promise.resolve(ctx));
    },
    post: (resp: import('@kubernetes/client-node').ResponseContext) => {
      const warning = resp.headers['warning'];
      if (warning && opts.onWarning) for (const w of parseWarnings(warning)) opts.onWarning(w);
      return new k8s.Observable(Promise.resolve(resp));
    },
  };
  const base = { middleware: [middleware], middlewareMergeStrategy: 'append' as const };
  const mergePatchOptions = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch, base);
  const ctx: CallContext = { server, timeoutMs: opts.requestTimeoutMs };

  const foreignClusters = makeClient<ForeignCluster>(
    custom,
    COORDINATES.ForeignCluster,
    base,
    mergePatchOptions,
    ctx,
  );
  const searchDomains = makeClient<SearchDomain>(
    custom,
    COORDINATES.SearchDomain,
    base,
    mergePatchOptions,
    ctx,
  );
  const clusterConfigs = makeClient<ClusterConfig>(
    custom,
    COORDINATES.ClusterConfig,
    base,
    mergePatchOptions,
    ctx,
  );
  const dnsRegistrations = makeClient<DnsRegistration>(
    custom,
    COORDINATES.DNSRegistration,
    base,
    mergePatchOptions,
    ctx,
  );

  const readClusterIdConfigMap = async (): Promise<string | undefined> => {
    const target = { kind: 'ConfigMap', name: CLUSTER_ID_CONFIGMAP, namespace: liqoNamespace };
    try {
      const cm = await readConfigMap(core, liqoNamespace, base);
      const id = cm.data?.[CLUSTER_ID_CONFIGMAP_KEY]?.trim();
      return id ? id : undefined;
    } catch (err) {
      const failure = describeApiFailure(err, 'get', target, ctx);
      if (failure.notFound) return undefined;
      throw failure.error;
    }
  };

  return {
    kubeConfig,
    server,
    liqoNamespace,
    foreignClusters,
    searchDomains,
    clusterConfigs,
    dnsRegistrations,
    getClusterConfig: () => clusterConfigs.get(CLUSTER_CONFIG_NAME),
    readClusterIdConfigMap,
    // the agent's rule (agent/cluster-id.ts): the ConfigMap wins, the ClusterProperty fills in
    readOwnClusterId: async () => {
      const fromConfigMap = await readClusterIdConfigMap();
      if (fromConfigMap !== undefined) return fromConfigMap;
      const read = await readClusterProperty(custom, CLUSTER_ID_PROPERTY, base).catch((err: unknown) => {
        const target = { kind: 'ClusterProperty', name: CLUSTER_ID_PROPERTY };
        throw describeApiFailure(err, 'get', target, ctx).error;
      });
      const value = read.crdInstalled ? read.property?.spec?.value?.trim() : undefined;
      return value ? value : undefined;
    },
  };
}

interface CallContext {
  server: string;
  timeoutMs: number | undefined;
}

// The option bags are typed loosely on purpose: their exact generic type is internal to the
// client library and differs between its Promise and Observable layers.
type CallOptions = Parameters<CustomObjectsApi['getClusterCustomObject']>[1];

function readConfigMap(core: CoreV1Api, namespace: string, options: CallOptions) {
  return core.readNamespacedConfigMap({ name: CLUSTER_ID_CONFIGMAP, namespace }, options);
}

function makeClient<T extends { metadata: { name?: string } }>(
  api: CustomObjectsApi,
  coords: KindCoordinates,
  options: CallOptions,
  mergePatchOptions: CallOptions,
  ctx: CallContext,
): ResourceClient<T> {
  const where = { group: coords.group, version: API_VERSION, plural: coords.plural };
  const dry = (o?: WriteOptions) => (o?.dryRun ? { dryRun: 'All' } : {});
  async function call<R>(verb: string, name: string | undefined, fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      throw describeApiFailure(err, verb, { kind: coords.kind, name }, ctx).error;
    }
  }
  return {
    kind: coords.kind,
    async get(name) {
      try {
        return (await api.getClusterCustomObject({ ...where, name }, options)) as T;
      } catch (err) {
        const failure = describeApiFailure(err, 'get', { kind: coords.kind, name }, ctx);
        if (failure.notFound) return undefined;
        throw failure.error;
      }
    },
    list: (opts) =>
      call('list', undefined, async () => {
        const list = (await api.listClusterCustomObject(
          { ...where, ...(opts?.labelSelector ? { labelSelector: opts.labelSelector } : {}) },
          options,
        )) as { items?: T[] };
        return list.items ?? [];
      }),
    create: (obj, o) =>
      call('create', obj.metadata.name, async () => {
        return (await api.createClusterCustomObject({ ...where, body: obj, ...dry(o) }, options)) as T;
      }),
    patch: (name, body, o) =>
      call('patch', name, async () => {
        return (await api.patchClusterCustomObject(
          { ...where, name, body, ...dry(o) },
          mergePatchOptions,
        )) as T;
      }),
    patchStatus: (name, body, o) =>
      call('patch status of', name, async () => {
        return (await api.patchClusterCustomObjectStatus(
          { ...where, name, body, ...dry(o) },
          mergePatchOptions,
        )) as T;
      }),
    replace: (obj, o) =>
      call('update', obj.metadata.name, async () => {
        const name = obj.metadata.name ?? '';
        return (await api.replaceClusterCustomObject({ ...where, name, body: obj, ...dry(o) }, options)) as T;
      }),
    async delete(name, o) {
      try {
        await api.deleteClusterCustomObject({ ...where, name, ...dry(o) }, options);
        return true;
      } catch (err) {
        const failure = describeApiFailure(err, 'delete', { kind: coords.kind, name }, ctx);
        if (failure.notFound) return false;
        throw failure.error;
      }
    },
  };
}

/** `299 - "message"` (RFC 7234), possibly several joined by ", " by the HTTP layer. */
export function parseWarnings(header: string): string[] {
  const out: string[] = [];
  const re = /\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(header); m; m = re.exec(header)) out.push((m[1] ?? '').replace(/\\(.)/g, '$1'));
  return out.length ? out : [header];
}
