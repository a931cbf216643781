// One-cell summaries of what the agent writes into status, for the `list` tables: why a
// ForeignCluster is stuck, and what went wrong in a SearchDomain's last resolution. Without
// them the reasons were only visible in `-o yaml`.
import {
  CONDITION_IDENTITY_CHANGED,
  CONDITION_IDENTITY_RESOLVED,
  type ForeignCluster,
  type SearchDomain,
  type SearchDomainFoundCluster,
} from '../../shared/api/index.js';
import { oneLine } from '../../shared/text.js';

export interface Readiness {
  /** True | False | Unknown, or undefined when the agent has written no condition. */
  ready?: string;
  reason?: string;
  message?: string;
}

/**
 * READY, REASON and MESSAGE of a ForeignCluster. The agent writes one condition,
 * IdentityResolved (whether it could read the cluster's identity from `<authUrl>/ids`); it is
 * what the CRD's READY and REASON printer columns show too, so `kubectl get foreignclusters`
 * and `kubectl liqo list` agree. A ForeignCluster created with its identity (by `join` or by
 * discovery) has nothing to resolve and no condition.
 *
 * IdentityChanged (True) comes first: the cluster answered with another identity than the
 * pinned one, it is not joined automatically, and a person has to decide (SPEC §"Security").
 */
export function foreignClusterReadiness(fc: ForeignCluster): Readiness {
  const changed = fc.status?.conditions?.find((c) => c.type === CONDITION_IDENTITY_CHANGED);
  if (changed?.status === 'True') {
    return {
      ready: 'False',
      reason: CONDITION_IDENTITY_CHANGED,
      ...(changed.message ? { message: oneLine(changed.message) } : {}),
    };
  }
  const condition = fc.status?.conditions?.find((c) => c.type === CONDITION_IDENTITY_RESOLVED);
  if (!condition) return {};
  return {
    ready: condition.status,
    ...(condition.reason ? { reason: condition.reason } : {}),
    ...(condition.message ? { message: oneLine(condition.message) } : {}),
  };
}

export interface SearchDomainSummary {
  /** Clusters the DNS records led to (reachable or not); undefined before the first resolution. */
  found?: number;
  /** What went wrong in the last resolution, in one line; undefined when nothing did. */
  error?: string;
}

/**
 * The agent (agent/searchdomain-discovery.ts) writes `status.error` only when the domain could
 * not be searched at all. A domain with no records, or a record it could not follow, is an
 * entry with an empty authUrl and an error; a cluster it could not reach is an entry with an
 * authUrl, an error and no clusterId. All of them are problems the ERROR column must show.
 */
export function summarizeSearchDomain(sd: SearchDomain): SearchDomainSummary {
  const status = sd.status;
  if (!status) return {};
  const entries = status.clusters ?? [];
  const clusters = entries.filter((e) => e.authUrl);
  const problems: string[] = [];
  if (status.error) problems.push(status.error);
  const recordErrors = entries.filter((e) => !e.authUrl && e.error).map((e) => e.error as string);
  if (recordErrors.length) problems.push(withMore(recordErrors));
  const failed = clusters.filter((e) => e.error && !isLocalCluster(e));
  if (failed.length) {
    const unreachable = failed.filter((e) => !e.clusterId).length;
    const what = unreachable === failed.length ? 'unreachable' : unreachable === 0 ? 'not added' : 'failed';
    problems.push(`${failed.length} of ${clusters.length} ${what}: ${failed[0]?.error}`);
  }
  return {
    found: clusters.length,
    ...(problems.length ? { error: oneLine(problems.join('; ')) } : {}),
  };
}

/**
 * This cluster itself, listed in a domain it publishes into: expected (every member of a shared
 * domain finds itself), so not an error. The agent says so in the entry's error text.
 */
function isLocalCluster(entry: SearchDomainFoundCluster): boolean {
  return Boolean(entry.clusterId) && !entry.foreignCluster && /\blocal cluster\b/.test(entry.error ?? '');
}

function withMore(messages: string[]): string {
  const [first, ...rest] = messages;
  return rest.length ? `${first} (and ${rest.length} more)` : (first ?? '');
}
