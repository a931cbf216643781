// The Kubernetes objects only the agent touches (the cluster-id ConfigMap, the /ids certificate
// Secret, the leader Lease) and a restartable watch. The three CRDs go through
// shared/kube/liqo-resources.ts.
import type { CoordinationV1Api, CoreV1Api, KubeConfig, V1Lease } from '@kubernetes/client-node';
import { connectLiqo, type LiqoResources, type ResourceClient } from '../shared/kube/liqo-resources.js';
import type { Logger } from './logger.js';
import { errorMessage } from './logger.js';

export interface AgentKube {
  readonly kubeConfig: KubeConfig;
  readonly liqo: LiqoResources;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  readonly namespace: string;
  readonly k8s: typeof import('@kubernetes/client-node');
  /** Options for a core/coordination call: a fresh time limit of `requestTimeoutMs` each. */
  requestOptions(): RequestOptions;
}

// The option bag of a generated client call (its exact generic type is internal to the library).
type RequestOptions = Parameters<CoordinationV1Api['readNamespacedLease']>[1];

/**
 * `requestTimeoutMs` bounds every API call (the leader-election table keeps it under the renew
 * deadline, so no write of a replica that lost the Lease can still be under way when another
 * takes over).
 */
export async function connectAgentKube(
  kubeConfig: KubeConfig,
  namespace: string,
  requestTimeoutMs: number,
): Promise<AgentKube> {
  const k8s = await import('@kubernetes/client-node');
  const liqo = await connectLiqo({ kubeConfig, liqoNamespace: namespace, requestTimeoutMs });
  const requestOptions = (): RequestOptions => ({
    middleware: [
      {
        pre: (ctx: import('@kubernetes/client-node').RequestContext) => {
          ctx.setSignal(AbortSignal.timeout(requestTimeoutMs));
          return new k8s.Observable(Promise.resolve(ctx));
        },
        post: (resp: import('@kubernetes/client-node').ResponseContext) =>
          new k8s.Observable(Promise.resolve(resp)),
      },
    ],
    middlewareMergeStrategy: 'append',
  });
  return {
    kubeConfig,
    liqo,
    core: kubeConfig.makeApiClient(k8s.CoreV1Api),
    coordination: kubeConfig.makeApiClient(k8s.CoordinationV1Api),
    namespace,
    k8s,
    requestOptions,
  };
}

const WRITE_METHODS = ['create', 'patch', 'patchStatus', 'replace', 'delete'] as const;

/**
 * The same kube access whose CRD writes first ask `mayWrite` (the leader elector): a replica
 * that is no longer surely the leader sends nothing. Each write is logged at debug level as
 * `write` with its verb, kind and name.
 */
export function withGuardedWrites(kube: AgentKube, mayWrite: (what: string) => void, log: Logger): AgentKube {
  const guard = <T extends { metadata: { name?: string } }>(client: ResourceClient<T>): ResourceClient<T> => {
    const out: ResourceClient<T> = { ...client };
    for (const verb of WRITE_METHODS) {
      const original = client[verb] as (...args: unknown[]) => Promise<unknown>;
      (out as unknown as Record<string, unknown>)[verb] = (...args: unknown[]) => {
        const first = args[0];
        const name = typeof first === 'string' ? first : (first as T | undefined)?.metadata?.name;
        const what = `${verb} ${client.kind} ${name ?? ''}`.trim();
        try {
          mayWrite(what);
        } catch (err) {
          return Promise.reject(err instanceof Error ? err : new Error(String(err)));
        }
        log.debug({ verb, kind: client.kind, name }, 'write');
        return original.apply(client, args);
      };
    }
    return out;
  };
  const liqo = kube.liqo;
  return {
    ...kube,
    liqo: {
      ...liqo,
      foreignClusters: guard(liqo.foreignClusters),
      searchDomains: guard(liqo.searchDomains),
      clusterConfigs: guard(liqo.clusterConfigs),
    },
  };
}

/** The HTTP status of a failed API call, if it was one. */
export function apiStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown; status?: unknown };
  for (const v of [e.code, e.statusCode, e.status]) if (typeof v === 'number') return v;
  // liqo-resources' KubeApiError
  const cause = (err as { cause?: unknown }).cause;
  return cause && cause !== err ? apiStatus(cause) : undefined;
}

/** One line for a failed API call: the Status message when the server sent one. */
export function kubeErrorMessage(err: unknown): string {
  const status = apiStatus(err);
  const body = (err as { body?: unknown })?.body;
  let message: string | undefined;
  if (typeof body === 'string') {
    try {
      message = (JSON.parse(body) as { message?: string }).message;
    } catch {
      message = undefined;
    }
  } else if (body && typeof body === 'object') message = (body as { message?: string }).message;
  if (status !== undefined && message) return `HTTP ${status}: ${message}`;
  return errorMessage(err);
}

export const isNotFound = (err: unknown): boolean => apiStatus(err) === 404;
export const isConflict = (err: unknown): boolean => apiStatus(err) === 409;

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchHandle {
  stop(): void;
}

export interface WatchOptions {
  fieldSelector?: string;
  labelSelector?: string;
  log: Logger;
  /** Delay before re-opening a watch that ended with an error; default 1000 ms. */
  restartDelayMs?: number;
  /** Watch from this resourceVersion instead of listing first (e.g. one kept from before). */
  startFromResourceVersion?: string;
}

interface WatchedObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

/**
 * Follows a cluster-scoped collection (e.g. /apis/config.liqo.io/v1alpha1/clusterconfigs) the
 * way client-go's reflector does: list, then watch from the list's resourceVersion; a watch that
 * ends is re-opened from the last resourceVersion seen (events and bookmarks), so nothing that
 * happened meanwhile is lost; when the server answers 410 Gone (that version is too old) it
 * lists again and reports what changed since — including DELETED for objects that went away.
 * Handlers may see an object again after a re-list, so they must be idempotent.
 */
export function watchResource<T extends WatchedObject>(
  kube: AgentKube,
  path: string,
  handler: (type: WatchEventType, obj: T) => void,
  opts: WatchOptions,
): WatchHandle {
  const m = /^\/apis\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
  if (!m) throw new Error(`watchResource: ${path} is not a cluster-scoped custom resource path`);
  const [, group, version, plural] = m as unknown as [string, string, string, string];
  const custom = kube.kubeConfig.makeApiClient(kube.k8s.CustomObjectsApi);
  const watch = new kube.k8s.Watch(kube.kubeConfig);
  const known = new Map<string, T>();
  let resourceVersion = opts.startFromResourceVersion ?? '';
  let stopped = false;
  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;

  const deliver = (type: WatchEventType, obj: T) => {
    const name = obj.metadata?.name;
    if (!name) return;
    if (type === 'DELETED') known.delete(name);
    else known.set(name, obj);
    try {
      handler(type, obj);
    } catch (err) {
      opts.log.error({ path, err: errorMessage(err) }, 'watch handler failed');
    }
  };

  /** A fresh list: what is new or changed, and DELETED for what is gone. */
  const relist = async () => {
    const list = (await custom.listClusterCustomObject(
      {
        group,
        version,
        plural,
        ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector } : {}),
        ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
      },
      kube.requestOptions(),
    )) as { items?: T[]; metadata?: { resourceVersion?: string } };
    const items = list.items ?? [];
    const names = new Set(items.map((o) => o.metadata?.name));
    for (const [name, old] of [...known]) if (!names.has(name)) deliver('DELETED', old);
    for (const obj of items) {
      const before = known.get(obj.metadata?.name ?? '');
      if (!before) deliver('ADDED', obj);
      else if (before.metadata?.resourceVersion !== obj.metadata?.resourceVersion) deliver('MODIFIED', obj);
    }
    resourceVersion = list.metadata?.resourceVersion ?? '';
  };

  const reopen = (why: string, delayMs: number) => {
    controller = undefined;
    if (stopped) return;
    opts.log.debug({ path, why, resourceVersion }, 'watch ended; re-opening');
    timer = setTimeout(() => void open(), delayMs);
  };

  const open = async () => {
    if (stopped) return;
    try {
      if (!resourceVersion) await relist();
    } catch (err) {
      opts.log.warn({ path, err: kubeErrorMessage(err) }, 'cannot list; retrying');
      return reopen('list failed', opts.restartDelayMs ?? 1000);
    }
    if (stopped) return;
    let ended = false;
    let gone = false;
    const end = (why: string, delayMs: number) => {
      if (ended) return;
      ended = true;
      controller?.abort(); // the server may keep the stream open after an ERROR event
      reopen(why, delayMs);
    };
    const query: Record<string, string | boolean> = { allowWatchBookmarks: true, resourceVersion };
    if (opts.fieldSelector) query['fieldSelector'] = opts.fieldSelector;
    if (opts.labelSelector) query['labelSelector'] = opts.labelSelector;
    try {
      const c = await watch.watch(
        path,
        query,
        (phase: string, obj: T & { code?: number }) => {
          if (phase === 'ERROR') {
            if (obj.code === 410) {
              gone = true;
              opts.log.info({ path, resourceVersion }, 'resourceVersion too old (410 Gone); listing again');
              resourceVersion = '';
              end('410 Gone', 0);
            } else end(`server sent an ERROR event (${obj.code ?? '?'})`, opts.restartDelayMs ?? 1000);
            return;
          }
          const rv = obj.metadata?.resourceVersion;
          if (phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED') deliver(phase, obj);
          if (rv) resourceVersion = rv; // BOOKMARK too: resume from here
        },
        (err: unknown) => {
          if (apiStatus(err) === 410) resourceVersion = '';
          // a watch the server closed (timeout) resumes at once from where it was
          end(err ? errorMessage(err) : 'closed', err && !gone ? (opts.restartDelayMs ?? 1000) : 0);
        },
      );
      if (stopped) c.abort();
      else controller = c;
    } catch (err) {
      if (apiStatus(err) === 410) resourceVersion = '';
      opts.log.warn({ path, err: errorMessage(err) }, 'cannot open watch; retrying');
      end('open failed', opts.restartDelayMs ?? 1000);
    }
  };
  void open();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      controller?.abort();
    },
  };
}

export type { V1Lease };
