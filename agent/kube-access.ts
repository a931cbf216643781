// The agent's connection to the API server: the clients for what only the agent touches (the
// cluster-id ConfigMap, the /ids certificate Secret, the leader Lease, Events) and the CRDs'
// (shared/kube/liqo-resources.ts), every call bounded by one request timeout. Watches are
// shared/kube/watch.ts; leader-only writes, leader-only-writes.ts.
import type { CoordinationV1Api, CoreV1Api, KubeConfig, V1Lease } from '@kubernetes/client-node';
import { connectLiqo, type LiqoResources } from '../shared/kube/liqo-resources.js';
import { requestTimeoutOptions, type RequestOptions } from '../shared/kube/request-timeout.js';

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
  const requestOptions = (): RequestOptions => requestTimeoutOptions(k8s, requestTimeoutMs);
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

// how a failed API call is read: one place for the three programs
export { apiStatus, isConflict, isNotFound, kubeErrorMessage } from '../shared/kube/api-errors.js';

export type { V1Lease };
