// The one way this repo follows a Kubernetes collection: list, then watch from the list's
// resourceVersion, the way client-go's reflector does. A watch that ends is re-opened from the
// last resourceVersion seen (events and bookmarks), so nothing that happened meanwhile is lost;
// when the server answers 410 Gone (that version is too old) it lists again and reports what
// changed since — including DELETED for objects that went away. Failures are retried after a
// bounded exponential back-off (shared/kube/backoff.ts) and logged, never thrown.
//
// Why not @kubernetes/client-node's makeInformer (1.4.0, dist/informer.js + dist/cache.js
// ListWatch), which also lists, watches from a resourceVersion and re-lists on 410:
//  - it gives up on the first error: ListWatch.doneHandler emits 'error' and returns for any
//    failure but 410 (a dropped connection, a refused connect, a failed list), so the caller
//    has to restart it and own the back-off anyway;
//  - it cannot be stopped cleanly: stop() aborts the request, Watch reports that abort as an
//    error, so 'error' fires after stop() (and a restart-on-error handler's start() sets
//    stopped=false again); a stop() while the list or the watch's fetch is in flight is lost —
//    doneHandler looks at `stopped` only before listing and `request` is assigned after
//    `await watch.watch()`, so the watch opened afterwards stays open;
//  - it does not ask for bookmarks (no allowWatchBookmarks), so a quiet, filtered watch (our
//    one ClusterConfig by name) never advances its resourceVersion and each reconnect after
//    the server's compaction window is a 410 and a full list;
//  - a 410 ERROR event is not surfaced (no event, no log), and a handler that throws rejects
//    ListWatch's async watchHandler, a promise Watch's line callback never awaits: an unhandled
//    rejection, which ends a Node 20 process;
//  - makeInformer takes no fieldSelector and it cannot start from a kept resourceVersion.
// Wrapping it would need its private fields (request, resourceVersion); this file is shorter.
// It does use the library's Watch (the streaming request) and CustomObjectsApi (the list).
import type { KubeConfig } from '@kubernetes/client-node';
import { apiStatus, kubeErrorMessage } from './api-errors.js';
import { backoffDelayMs } from './backoff.js';
import { requestTimeoutOptions } from './request-timeout.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchHandle {
  stop(): void;
}

/** What the watch logs through (pino's shape; the agent passes its logger). */
export interface WatchLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WatchOptions {
  fieldSelector?: string;
  labelSelector?: string;
  log: WatchLog;
  /** First delay before re-opening after a failure; doubles per failure in a row. Default 1000 ms. */
  restartDelayMs?: number;
  /** The back-off's bound. Default 30 s. */
  maxRestartDelayMs?: number;
  /** Time limit of the list request. Default 30 s. */
  listTimeoutMs?: number;
  /** Watch from this resourceVersion instead of listing first (e.g. one kept from before). */
  startFromResourceVersion?: string;
}

interface WatchedObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

const DEFAULT_RESTART_DELAY_MS = 1000;
const DEFAULT_MAX_RESTART_DELAY_MS = 30_000;

/**
 * Follows a cluster-scoped custom resource collection, e.g.
 * /apis/config.liqo.io/v1alpha1/clusterconfigs. Handlers may see an object again after a
 * re-list, so they must be idempotent; a handler that throws is logged and the watch goes on.
 */
export function watchCollection<T extends WatchedObject>(
  kubeConfig: KubeConfig,
  path: string,
  handler: (type: WatchEventType, obj: T) => void,
  opts: WatchOptions,
): WatchHandle {
  const m = /^\/apis\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
  if (!m) throw new Error(`watchCollection: ${path} is not a cluster-scoped custom resource path`);
  const [, group, version, plural] = m as unknown as [string, string, string, string];
  const log = opts.log;
  const known = new Map<string, T>();
  let resourceVersion = opts.startFromResourceVersion ?? '';
  let stopped = false;
  let failures = 0;
  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;

  const deliver = (type: WatchEventType, obj: T) => {
    const name = obj.metadata?.name;
    if (!name || stopped) return;
    if (type === 'DELETED') known.delete(name);
    else known.set(name, obj);
    try {
      handler(type, obj);
    } catch (err) {
      log.error({ path, err: kubeErrorMessage(err) }, 'watch handler failed');
    }
  };

  /** A fresh list: what is new or changed, and DELETED for what is gone. */
  const relist = async (k8s: typeof import('@kubernetes/client-node')) => {
    const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    const list = (await custom.listClusterCustomObject(
      {
        group,
        version,
        plural,
        ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector } : {}),
        ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
      },
      requestTimeoutOptions(k8s, opts.listTimeoutMs ?? 30_000),
    )) as { items?: T[]; metadata?: { resourceVersion?: string } };
    if (stopped) return;
    const items = list.items ?? [];
    const names = new Set(items.map((o) => o.metadata?.name));
    for (const [name, old] of [...known]) if (!names.has(name)) deliver('DELETED', old);
    for (const obj of items) {
      const before = known.get(obj.metadata?.name ?? '');
      if (!before) deliver('ADDED', obj);
      else if (before.metadata?.resourceVersion !== obj.metadata?.resourceVersion) deliver('MODIFIED', obj);
    }
    resourceVersion = list.metadata?.resourceVersion ?? '';
    failures = 0;
  };

  /** Re-opens after `failed` (back-off) or at once (a watch the server ended normally). */
  const reopen = (why: string, failed: boolean) => {
    controller = undefined;
    if (stopped) return;
    if (failed) failures++;
    const delayMs = failed
      ? backoffDelayMs(
          failures,
          opts.restartDelayMs ?? DEFAULT_RESTART_DELAY_MS,
          opts.maxRestartDelayMs ?? DEFAULT_MAX_RESTART_DELAY_MS,
        )
      : 0;
    log.debug({ path, why, resourceVersion, delayMs }, 'watch ended; re-opening');
    timer = setTimeout(() => void open(), delayMs);
  };

  const open = async () => {
    timer = undefined;
    if (stopped) return;
    const k8s = await import('@kubernetes/client-node');
    try {
      if (!resourceVersion) await relist(k8s);
    } catch (err) {
      log.warn({ path, err: kubeErrorMessage(err) }, 'cannot list; retrying');
      return reopen('list failed', true);
    }
    if (stopped) return;
    let ended = false;
    const end = (why: string, failed: boolean) => {
      if (ended) return;
      ended = true;
      controller?.abort(); // the server may keep the stream open after an ERROR event
      reopen(why, failed);
    };
    const query: Record<string, string | boolean> = { allowWatchBookmarks: true, resourceVersion };
    if (opts.fieldSelector) query['fieldSelector'] = opts.fieldSelector;
    if (opts.labelSelector) query['labelSelector'] = opts.labelSelector;
    const watch = new k8s.Watch(kubeConfig);
    try {
      const c = await watch.watch(
        path,
        query,
        (phase: string, obj: T & { code?: number }) => {
          if (ended) return;
          if (phase === 'ERROR') {
            if (obj.code === 410) {
              log.info({ path, resourceVersion }, 'resourceVersion too old (410 Gone); listing again');
              resourceVersion = '';
              end('410 Gone', false);
            } else end(`server sent an ERROR event (${obj.code ?? '?'})`, true);
            return;
          }
          failures = 0;
          const rv = obj.metadata?.resourceVersion;
          if (phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED') deliver(phase, obj);
          if (rv) resourceVersion = rv; // BOOKMARK too: resume from here
        },
        (err: unknown) => {
          if (apiStatus(err) === 410) resourceVersion = '';
          // a watch the server closed (its timeout) resumes at once from where it was
          end(err ? kubeErrorMessage(err) : 'closed', Boolean(err) && apiStatus(err) !== 410);
        },
      );
      if (stopped || ended) c.abort();
      else controller = c;
    } catch (err) {
      if (apiStatus(err) === 410) resourceVersion = '';
      log.warn({ path, err: kubeErrorMessage(err) }, 'cannot open watch; retrying');
      end('open failed', true);
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
