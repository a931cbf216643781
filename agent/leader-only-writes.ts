// Writes only while leading: the agent's kube access whose custom-resource writes first ask the
// leader elector (agent/leader-election.ts), so a replica that is no longer surely the leader
// sends nothing. Every ResourceClient of LiqoResources is guarded, those added later too.
import type { LiqoResources, ResourceClient } from '../shared/kube/liqo-resources.js';
import type { AgentKube } from './kube-access.js';
import type { Logger } from './logger.js';

const WRITE_METHODS = ['create', 'patch', 'patchStatus', 'replace', 'delete'] as const;
type WriteMethod = (typeof WRITE_METHODS)[number];

/** What a write is about, for the elector's refusal and the debug log: "patch ForeignCluster x". */
export function describeWrite(
  verb: WriteMethod,
  kind: string,
  args: readonly unknown[],
): { what: string; name?: string } {
  const first = args[0];
  const name =
    typeof first === 'string'
      ? first
      : (first as { metadata?: { name?: string } } | undefined)?.metadata?.name;
  return { what: `${verb} ${kind} ${name ?? ''}`.trim(), ...(name !== undefined ? { name } : {}) };
}

function isResourceClient(v: unknown): v is ResourceClient<unknown> {
  const c = v as Partial<ResourceClient<unknown>> | null;
  return typeof c === 'object' && c !== null && typeof c.kind === 'string' && typeof c.patch === 'function';
}

/**
 * The same kube access whose CRD writes first call `mayWrite` (which throws when this replica
 * may not write). Each write let through is logged at debug level as `write` with its verb, kind
 * and name.
 */
export function withGuardedWrites(kube: AgentKube, mayWrite: (what: string) => void, log: Logger): AgentKube {
  const guard = <T>(client: ResourceClient<T>): ResourceClient<T> => {
    // reads (and anything else) go to the client itself, whatever its shape (object or class)
    const out = Object.create(client) as ResourceClient<T>;
    for (const verb of WRITE_METHODS) {
      const original = client[verb] as (...args: unknown[]) => Promise<unknown>;
      (out as unknown as Record<string, unknown>)[verb] = (...args: unknown[]) => {
        const { what, name } = describeWrite(verb, client.kind, args);
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
  const liqo = Object.create(kube.liqo) as Record<string, unknown>;
  for (const [key, value] of Object.entries(kube.liqo)) if (isResourceClient(value)) liqo[key] = guard(value);
  return { ...kube, liqo: liqo as unknown as LiqoResources };
}
