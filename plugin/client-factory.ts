// The ClientFactory a real run uses: the kubeconfig chosen by the global flags (--kubeconfig,
// --context, --cluster, --user, --request-timeout), loaded on the first liqo() and then reused,
// so a command that never asks for a client never loads the client library.
import type { LiqoResources } from '../shared/kube/liqo-resources.js';
import type { ClientFactory, LiqoClientRequest } from './command.js';
import { connect, kubeconfigAvailable, type GlobalOptions } from './global.js';
import type { CommandIO } from './io.js';

export function kubeconfigClientFactory(flags: GlobalOptions, io: CommandIO): ClientFactory {
  const connections = new Map<string, Promise<LiqoResources>>();
  return {
    hasKubeconfig: () => kubeconfigAvailable(flags, io.env),
    liqo(request: LiqoClientRequest = {}) {
      const requestTimeout =
        flags.requestTimeout ??
        (request.defaultRequestTimeoutMs !== undefined ? `${request.defaultRequestTimeoutMs}ms` : undefined);
      const key = requestTimeout ?? '';
      let connection = connections.get(key);
      if (!connection) {
        connection = connect({ ...flags, ...(requestTimeout !== undefined ? { requestTimeout } : {}) }, io);
        // a failed connection is not kept: the next call tries again and says why again
        connection.catch(() => connections.delete(key));
        connections.set(key, connection);
      }
      return connection;
    },
  };
}
