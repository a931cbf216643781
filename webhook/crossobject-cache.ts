// The stored objects the uniqueness rules (shared/rules/uniqueness.ts: one ForeignCluster per
// cluster id, one SearchDomain per domain) compare against, read from the API through
// watch-backed caches — client-node informers — never with a request per admission: an
// admission must answer within timeoutSeconds even when the API server is busy. This file only
// supplies the objects; the decision and its message are the rule's.
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import {
  API_VERSION,
  DISCOVERY_GROUP,
  KIND_FOREIGN_CLUSTER,
  KIND_SEARCH_DOMAIN,
  PLURAL_FOREIGN_CLUSTERS,
  PLURAL_SEARCH_DOMAINS,
} from '../shared/api/constants.js';
import { rulesByKind } from '../shared/rules/index.js';
import type { NamedObject, UniquenessRule } from '../shared/rules/types.js';
import type { CrossObjectChecks, KindName } from './admission.js';
import { errorText, type Logger } from './logger.js';

/** The stored objects of one kind, found by their unique value (the rule's key) without a scan. */
class UniqueKeyIndex {
  private readonly byName = new Map<string, { key: string; object: unknown }>();
  private readonly namesByKey = new Map<string, Set<string>>();

  constructor(private readonly rule: UniquenessRule) {}

  set(name: string, object: unknown): void {
    this.remove(name);
    const key = this.rule.keyOf(object);
    if (key === undefined) return;
    this.byName.set(name, { key, object });
    const names = this.namesByKey.get(key) ?? new Set<string>();
    names.add(name);
    this.namesByKey.set(key, names);
  }

  remove(name: string): void {
    const entry = this.byName.get(name);
    if (entry === undefined) return;
    this.byName.delete(name);
    const names = this.namesByKey.get(entry.key);
    names?.delete(name);
    if (names && names.size === 0) this.namesByKey.delete(entry.key);
  }

  /** The stored objects whose key is `key`. */
  holding(key: string): NamedObject[] {
    return [...(this.namesByKey.get(key) ?? [])].map((name) => ({
      name,
      object: this.byName.get(name)?.object,
    }));
  }
}

function uniquenessOf(kind: KindName): UniquenessRule {
  const rule = rulesByKind[kind].unique;
  if (!rule) throw new Error(`${kind} has no uniqueness rule to cache objects for`);
  return rule;
}

/** The in-memory view of the stored objects that the uniqueness rules compare against. */
export class CrossObjectIndex {
  private readonly indexes = new Map<KindName, UniqueKeyIndex>([
    [KIND_FOREIGN_CLUSTER, new UniqueKeyIndex(uniquenessOf(KIND_FOREIGN_CLUSTER))],
    [KIND_SEARCH_DOMAIN, new UniqueKeyIndex(uniquenessOf(KIND_SEARCH_DOMAIN))],
  ]);

  set(kind: KindName, name: string, obj: unknown): void {
    this.indexes.get(kind)?.set(name, obj);
  }
  remove(kind: KindName, name: string): void {
    this.indexes.get(kind)?.remove(name);
  }

  /** The stored objects of `kind` that share `key` (for the rule to judge); none for other kinds. */
  holding(kind: KindName, key: string): NamedObject[] {
    return this.indexes.get(kind)?.holding(key) ?? [];
  }
}

/** Used when there is no API access: single-object rules only. */
export const CROSS_OBJECT_CHECKS_OFF: CrossObjectChecks = { state: 'off', holding: () => [] };

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
    { kind: KIND_FOREIGN_CLUSTER, plural: PLURAL_FOREIGN_CLUSTERS },
    { kind: KIND_SEARCH_DOMAIN, plural: PLURAL_SEARCH_DOMAINS },
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
      if (obj.metadata?.name) index.set(w.kind, obj.metadata.name, obj);
    };
    informer.on('add', upsert);
    informer.on('update', upsert);
    informer.on('delete', (obj) => {
      if (obj.metadata?.name) index.remove(w.kind, obj.metadata.name);
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
    holding: (kind, key) => index.holding(kind, key),
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.all(informers.map((i) => i.stop().catch(() => undefined)));
    },
  };
}
