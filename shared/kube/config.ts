// Kubeconfig loading with kubectl's flags. @kubernetes/client-node is imported lazily:
// it costs ~0.5 s at start-up, and commands that never talk to the cluster must not pay it.
import type { KubeConfig } from '@kubernetes/client-node';

export interface KubeconfigOptions {
  kubeconfig?: string;
  context?: string;
  cluster?: string;
  user?: string;
}

export class KubeconfigError extends Error {}

export async function loadKubeConfig(opts: KubeconfigOptions = {}): Promise<KubeConfig> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  try {
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new KubeconfigError(
      `cannot read kubeconfig ${opts.kubeconfig ?? '(default)'}: ${(err as Error).message}`,
    );
  }
  // loadFromDefault() ignores kubectl's --context/--cluster/--user; apply them here.
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      throw new KubeconfigError(`context "${opts.context}" does not exist in the kubeconfig`);
    }
    kc.setCurrentContext(opts.context);
  }
  if (opts.cluster || opts.user) {
    const current = kc.getContextObject(kc.getCurrentContext());
    if (opts.cluster && !kc.getCluster(opts.cluster)) {
      throw new KubeconfigError(`cluster "${opts.cluster}" does not exist in the kubeconfig`);
    }
    if (opts.user && !kc.getUser(opts.user)) {
      throw new KubeconfigError(`user "${opts.user}" does not exist in the kubeconfig`);
    }
    const name = '__liqo_override__';
    kc.addContext({
      name,
      cluster: opts.cluster ?? current?.cluster ?? '',
      user: opts.user ?? current?.user ?? '',
      ...(current?.namespace ? { namespace: current.namespace } : {}),
    });
    kc.setCurrentContext(name);
  }
  if (!kc.getCurrentCluster()) {
    throw new KubeconfigError(
      'no cluster configured: set KUBECONFIG, pass --kubeconfig, or select a --context',
    );
  }
  return kc;
}
