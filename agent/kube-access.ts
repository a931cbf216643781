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
  /** Delay before re-opening a watch that ended; default 1000 ms. */
  restartDelayMs?: number;
}

/**
 * Watches `path` (e.g. /apis/config.liqo.io/v1alpha1/clusterconfigs) and re-opens the watch
 * whenever it ends. Each (re)start replays the current objects as ADDED, so handlers must be
 * idempotent; objects deleted while no watch was open are caught by the periodic passes.
 */
export function watchResource<T>(
  kube: AgentKube,
  path: string,
  handler: (type: WatchEventType, obj: T) => void,
  opts: WatchOptions,
): WatchHandle {
  let stopped = false;
  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  const watch = new kube.k8s.Watch(kube.kubeConfig);

  const restart = (why: string) => {
    controller = undefined;
    if (stopped) return;
    opts.log.debug({ path, why }, 'watch ended; re-opening');
    timer = setTimeout(open, opts.restartDelayMs ?? 1000);
  };
  const open = () => {
    if (stopped) return;
    let ended = false;
    const end = (why: string) => {
      if (ended) return;
      ended = true;
      restart(why);
    };
    const query: Record<string, string | boolean> = { allowWatchBookmarks: true };
    if (opts.fieldSelector) query['fieldSelector'] = opts.fieldSelector;
    if (opts.labelSelector) query['labelSelector'] = opts.labelSelector;
    watch
      .watch(
        path,
        query,
        (phase: string, obj: T) => {
          if (phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED') {
            try {
              handler(phase, obj);
            } catch (err) {
              opts.log.error({ path, err: errorMessage(err) }, 'watch handler failed');
            }
          } else if (phase === 'ERROR') {
            end('server sent an ERROR event');
          }
        },
        (err: unknown) => end(err ? errorMessage(err) : 'closed'),
      )
      .then(
        (c) => {
          if (stopped) c.abort();
          else controller = c;
        },
        (err: unknown) => {
          opts.log.warn({ path, err: errorMessage(err) }, 'cannot open watch; retrying');
          end('open failed');
        },
      );
  };
  open();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      controller?.abort();
    },
  };
}

export type { V1Lease };
