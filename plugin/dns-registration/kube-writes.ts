// What `kubectl liqo dns-registration enable` writes besides the DNSRegistration: the TSIG key
// Secret (--tsig-secret-file) and, for a Secret of another name than liqo-dns-tsig, that name
// in the agent's Role liqo-discovery-agent-dns-tsig (the agent reads Secrets by name only).
// These need the core and RBAC APIs, so they are loaded only when asked for.
import type { KubeConfig } from '@kubernetes/client-node';
import { DNS_TSIG_ROLE_NAME } from '../../shared/api/constants.js';
import { UserError } from '../global.js';

function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function messageOf(err: unknown): string {
  const body = (err as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: string };
      if (parsed.message) return parsed.message;
    } catch {
      // not JSON
    }
  }
  return err instanceof Error ? (err.message.split('\n')[0] ?? err.name) : String(err);
}

/** Creates or updates Secret `name` in `namespace` with `key` = the base64 TSIG secret. */
export async function upsertTsigSecret(
  kubeConfig: KubeConfig,
  where: { name: string; namespace: string; key: string },
  secret: string,
  dryRun: boolean,
): Promise<'created' | 'configured' | 'unchanged'> {
  const k8s = await import('@kubernetes/client-node');
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const dry = dryRun ? { dryRun: 'All' } : {};
  const value = Buffer.from(secret).toString('base64');
  try {
    const existing = await core.readNamespacedSecret({ name: where.name, namespace: where.namespace });
    if (existing.data?.[where.key] === value) return 'unchanged';
    await core.patchNamespacedSecret(
      { name: where.name, namespace: where.namespace, body: { data: { [where.key]: value } }, ...dry },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    return 'configured';
  } catch (err) {
    if (statusOf(err) !== 404) {
      throw new UserError(`Secret ${where.namespace}/${where.name}: ${messageOf(err)}`);
    }
  }
  try {
    await core.createNamespacedSecret({
      namespace: where.namespace,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: where.name,
          namespace: where.namespace,
          labels: { 'app.kubernetes.io/part-of': 'liqo' },
        },
        type: 'Opaque',
        data: { [where.key]: value },
      },
      ...dry,
    });
    return 'created';
  } catch (err) {
    throw new UserError(`cannot create Secret ${where.namespace}/${where.name}: ${messageOf(err)}`);
  }
}

/**
 * Lets the agent read Secret `secretName`: adds the name to the resourceNames of its Role
 * liqo-discovery-agent-dns-tsig. Resolves whether the Role changed.
 */
export async function allowAgentToReadSecret(
  kubeConfig: KubeConfig,
  namespace: string,
  secretName: string,
  dryRun: boolean,
): Promise<boolean> {
  const k8s = await import('@kubernetes/client-node');
  const rbac = kubeConfig.makeApiClient(k8s.RbacAuthorizationV1Api);
  let role;
  try {
    role = await rbac.readNamespacedRole({ name: DNS_TSIG_ROLE_NAME, namespace });
  } catch (err) {
    throw new UserError(
      `cannot read Role ${namespace}/${DNS_TSIG_ROLE_NAME} (is liqo-discovery installed? kubectl liqo install): ${messageOf(err)}`,
    );
  }
  const rules = role.rules ?? [];
  const rule = rules.find((r) => r.resources?.includes('secrets'));
  if (rule?.resourceNames?.includes(secretName)) return false;
  if (rule) rule.resourceNames = [...(rule.resourceNames ?? []), secretName];
  else
    rules.push({
      apiGroups: [''],
      resources: ['secrets'],
      resourceNames: [secretName],
      verbs: ['get', 'list', 'watch'],
    });
  role.rules = rules;
  try {
    await rbac.replaceNamespacedRole({
      name: DNS_TSIG_ROLE_NAME,
      namespace,
      body: role,
      ...(dryRun ? { dryRun: 'All' } : {}),
    });
  } catch (err) {
    throw new UserError(`cannot let the agent read Secret ${namespace}/${secretName}: ${messageOf(err)}`);
  }
  return true;
}
