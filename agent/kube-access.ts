// The Kubernetes objects only the agent touches (the cluster-id ConfigMap, the /ids certificate
// Secret, the leader Lease). The three CRDs go through shared/kube/liqo-resources.ts, watches
// through shared/kube/watch.ts.
import type { CoordinationV1Api, CoreV1Api, KubeConfig, V1Lease } from '@kubernetes/client-node';
import { connectLiqo, type LiqoResources, type ResourceClient } from '../shared/kube/liqo-resources.js';
import type { Logger } from './logger.js';

export interface AgentKube {
  readonly kubeConfig: KubeConfig;
  readonly liqo: LiqoResources;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  readonly namespace: string;
  /** The time limit of every API call (the list of a watch too). */
  readonly requestTimeoutMs: number;
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
    requestTimeoutMs,
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

// how a failed API call is read: one place for the three programs
export { apiStatus, isConflict, isNotFound, kubeErrorMessage } from '../shared/kube/api-errors.js';

export type { V1Lease };
