// The ClientFactory a real run uses, and the one place where the plugin connects to the cluster:
// the kubeconfig chosen by the global flags (--kubeconfig, --context, --cluster, --user,
// --request-timeout), loaded on the first liqo() and then reused, so a command that never asks
// for a client never loads the client library.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { LiqoResources } from '../shared/kube/liqo-resources.js';
import type { ClientFactory, LiqoClientRequest } from './command.js';
import { debug, parseDuration, UserError, type GlobalOptions } from './global.js';
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

/**
 * Whether a kubeconfig could be loaded, decided without loading the client library: the
 * --kubeconfig file, any file in $KUBECONFIG, ~/.kube/config, or the in-cluster service account.
 */
function kubeconfigAvailable(opts: GlobalOptions, env: CommandIO['env']): boolean {
  if (opts.kubeconfig) return true; // an explicit path that does not exist is an error later
  if (env.KUBECONFIG !== undefined && env.KUBECONFIG !== '') {
    return env.KUBECONFIG.split(delimiter).some((p) => p !== '' && existsSync(p));
  }
  const home = env.HOME ?? homedir();
  if (existsSync(join(home, '.kube', 'config'))) return true;
  return (
    Boolean(env.KUBERNETES_SERVICE_HOST) && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')
  );
}

export const NO_KUBECONFIG_MESSAGE =
  'no kubeconfig: set KUBECONFIG, pass --kubeconfig, or create ~/.kube/config';

/** Loads the kubeconfig and the client library; warnings from the server go to stderr. */
async function connect(opts: GlobalOptions, io: CommandIO): Promise<LiqoResources> {
  // Without this check the client library would fall back to http://localhost:8080.
  if (!kubeconfigAvailable(opts, io.env)) throw new UserError(NO_KUBECONFIG_MESSAGE);
  const { connectLiqo } = await import('../shared/kube/liqo-resources.js');
  const { KubeconfigError } = await import('../shared/kube/config.js');
  try {
    const resources = await connectLiqo({
      ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
      ...(opts.context ? { context: opts.context } : {}),
      ...(opts.cluster ? { cluster: opts.cluster } : {}),
      ...(opts.user ? { user: opts.user } : {}),
      requestTimeoutMs: parseDuration(opts.requestTimeout, '--request-timeout') ?? 0,
      onWarning: (w) => io.stderr.write(`Warning: ${w}\n`),
    });
    debug(opts, io, 1, `using API server ${resources.server}`);
    return resources;
  } catch (err) {
    if (err instanceof KubeconfigError) throw new UserError(err.message);
    throw err;
  }
}
