// Cross-object checks (one ForeignCluster per cluster id, one SearchDomain per domain) read the
// API through watch-backed caches — client-node informers — never with a request per
// admission: an admission must answer within timeoutSeconds even when the API server is busy.
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import {
  API_VERSION,
  DISCOVERY_GROUP,
  KIND_FOREIGN_CLUSTER,
  KIND_SEARCH_DOMAIN,
  PLURAL_FOREIGN_CLUSTERS,
  PLURAL_SEARCH_DOMAINS,
} from '../shared/api/constants.js';
import type { FieldError } from '../shared/rules/types.js';
import type { CrossObjectChecks, KindName } from './admission.js';
import { errorText, type Logger } from './logger.js';

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** spec.clusterIdentity.clusterID when it is a non-empty string. */
export function clusterIdOf(obj: unknown): string | undefined {
  const id = record(record(record(obj).spec).clusterIdentity).clusterID;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** spec.domain compared as DNS compares names: case-insensitive, trailing dot ignored. */
export function domainKeyOf(obj: unknown): string | undefined {
  const domain = record(record(obj).spec).domain;
  if (typeof domain !== 'string') return undefined;
  const key = domain.trim().toLowerCase().replace(/\.+$/, '');
  return key === '' ? undefined : key;
}

/** A two-way map name <-> key (cluster id or domain) kept current by watch events. */
class UniqueKeyIndex {
  private readonly keyByName = new Map<string, string>();
  private readonly namesByKey = new Map<string, Set<string>>();

  set(name: string, key: string | undefined): void {
    this.remove(name);
    if (key === undefined) return;
    this.keyByName.set(name, key);
    const names = this.namesByKey.get(key) ?? new Set<string>();
    names.add(name);
    this.namesByKey.set(key, names);
  }

  remove(name: string): void {
    const key = this.keyByName.get(name);
    if (key === undefined) return;
    this.keyByName.delete(name);
    const names = this.namesByKey.get(key);
    names?.delete(name);
    if (names && names.size === 0) this.namesByKey.delete(key);
  }

  /** Names holding `key`, other than `self`, sorted for a stable message. */
  others(key: string, self: string | undefined): string[] {
    return [...(this.namesByKey.get(key) ?? [])].filter((n) => n !== self).sort();
  }
}

function quoteList(kind: string, names: string[]): string {
  return names.map((n) => `${kind} "${n}"`).join(', ');
}

/** The in-memory view of existing objects that the uniqueness rules consult. */
export class CrossObjectIndex {
  private readonly clusterIds = new UniqueKeyIndex();
  private readonly domains = new UniqueKeyIndex();

  setForeignCluster(name: string, obj: unknown): void {
    this.clusterIds.set(name, clusterIdOf(obj));
  }
  removeForeignCluster(name: string): void {
    this.clusterIds.remove(name);
  }
  setSearchDomain(name: string, obj: unknown): void {
    this.domains.set(name, domainKeyOf(obj));
  }
  removeSearchDomain(name: string): void {
    this.domains.remove(name);
  }

  conflicts(kind: KindName, name: string | undefined, obj: unknown): FieldError[] {
    if (kind === KIND_FOREIGN_CLUSTER) {
      const id = clusterIdOf(obj);
      const others = id === undefined ? [] : this.clusterIds.others(id, name);
      if (others.length === 0) return [];
      return [
        {
          field: 'spec.clusterIdentity.clusterID',
          message: `cluster id "${id}" is already used by ${quoteList(KIND_FOREIGN_CLUSTER, others)}`,
          accepted: `one ForeignCluster per cluster id: edit ${quoteList(KIND_FOREIGN_CLUSTER, others)} instead`,
        },
      ];
    }
    if (kind === KIND_SEARCH_DOMAIN) {
      const key = domainKeyOf(obj);
      const others = key === undefined ? [] : this.domains.others(key, name);
      if (others.length === 0) return [];
      return [
        {
          field: 'spec.domain',
          message: `domain "${key}" is already searched by ${quoteList(KIND_SEARCH_DOMAIN, others)}`,
          accepted: `one SearchDomain per domain: edit ${quoteList(KIND_SEARCH_DOMAIN, others)} instead`,
        },
      ];
    }
    return [];
  }
}

/** Used when there is no API access: single-object rules only. */
export const CROSS_OBJECT_CHECKS_OFF: CrossObjectChecks = { state: 'off', conflicts: () => [] };

export interface CrossObjectCache extends CrossObjectChecks {
  readonly index: CrossObjectIndex;
  stop(): Promise<void>;
}

const MAX_RESTART_DELAY_MS = 30_000;

/**
 * Starts one informer per kind; `state` turns "ready" once both have listed. An informer that
 * fails (API down, watch broken) is restarted with backoff; until then the cache keeps its
 * last contents, like controller-runtime's.
 */
export async function startCrossObjectCache(kubeConfig: KubeConfig, log: Logger): Promise<CrossObjectCache> {
  const k8s = await import('@kubernetes/client-node');
  const api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const index = new CrossObjectIndex();
  const listed = { [KIND_FOREIGN_CLUSTER]: false, [KIND_SEARCH_DOMAIN]: false };
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;

  const watched = [
    {
      kind: KIND_FOREIGN_CLUSTER,
      plural: PLURAL_FOREIGN_CLUSTERS,
      set: (name: string, obj: unknown) => index.setForeignCluster(name, obj),
      remove: (name: string) => index.removeForeignCluster(name),
    },
    {
      kind: KIND_SEARCH_DOMAIN,
      plural: PLURAL_SEARCH_DOMAINS,
      set: (name: string, obj: unknown) => index.setSearchDomain(name, obj),
      remove: (name: string) => index.removeSearchDomain(name),
    },
  ] as const;

  const informers = watched.map((w) => {
    const path = `/apis/${DISCOVERY_GROUP}/${API_VERSION}/${w.plural}`;
    let restartDelay = 1000;
    const list = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      const result = (await api.listClusterCustomObject({
        group: DISCOVERY_GROUP,
        version: API_VERSION,
        plural: w.plural,
      })) as KubernetesListObject<KubernetesObject>;
      if (!listed[w.kind]) log.info({ kind: w.kind, count: result.items.length }, 'cache synced');
      listed[w.kind] = true;
      restartDelay = 1000;
      return result;
    };
    const informer = k8s.makeInformer(kubeConfig, path, list);
    const upsert = (obj: KubernetesObject) => {
      if (obj.metadata?.name) w.set(obj.metadata.name, obj);
    };
    informer.on('add', upsert);
    informer.on('update', upsert);
    informer.on('delete', (obj) => {
      if (obj.metadata?.name) w.remove(obj.metadata.name);
    });
    informer.on('error', (err) => {
      if (stopped) return;
      log.warn(
        { kind: w.kind, err: errorText(err), retryInMs: restartDelay },
        'watch of the API failed; keeping the cached objects and retrying',
      );
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!stopped) informer.start().catch(() => undefined);
      }, restartDelay);
      timer.unref();
      timers.add(timer);
      restartDelay = Math.min(restartDelay * 2, MAX_RESTART_DELAY_MS);
    });
    return informer;
  });

  // start() resolves once the list is done and the watch is open (or the error was reported).
  for (const informer of informers) informer.start().catch(() => undefined);

  return {
    index,
    get state() {
      return listed[KIND_FOREIGN_CLUSTER] && listed[KIND_SEARCH_DOMAIN] ? 'ready' : 'syncing';
    },
    conflicts: (kind, name, obj) => index.conflicts(kind, name, obj),
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.all(informers.map((i) => i.stop().catch(() => undefined)));
    },
  };
}
