// The per-request time limit of a generated @kubernetes/client-node call: a middleware that
// gives each request a fresh AbortSignal.timeout (the client has no timeout option of its own).
type ClientNode = typeof import('@kubernetes/client-node');

/** The option bag of a generated client call (its exact generic type is internal to the library). */
export type RequestOptions = Parameters<
  import('@kubernetes/client-node').CoordinationV1Api['readNamespacedLease']
>[1];

/** Options for one call that aborts it after `timeoutMs`. */
export function requestTimeoutOptions(k8s: ClientNode, timeoutMs: number): RequestOptions {
  return {
    middleware: [
      {
        pre: (ctx) => {
          ctx.setSignal(AbortSignal.timeout(timeoutMs));
          return new k8s.Observable(Promise.resolve(ctx));
        },
        post: (resp) => new k8s.Observable(Promise.resolve(resp)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}
