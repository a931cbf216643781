// Joining: from an identity read at /ids to the ForeignCluster that asks Liqo to peer.
// Shared by `join` and `discover --join / -i`. Idempotent: when the object already says what we
// would write, nothing is sent at all.
import {
  ANNOTATION_CERT_FINGERPRINT,
  DISCOVERY_API_VERSION,
  KIND_FOREIGN_CLUSTER,
  LABEL_CLUSTER_ID,
  LABEL_DISCOVERY_TYPE,
  type ForeignCluster,
} from '../shared/api/index.js';
import type { LiqoResources } from '../shared/kube/liqo-resources.js';
import type { IdentityResult } from '../shared/lookup/types.js';
import { checkClusterId } from '../shared/rules/cluster-id.js';
import {
  foreignClusterRules,
  formatFieldError,
  normaliseAuthUrl,
  sameAuthUrl,
} from '../shared/rules/index.js';
import type { RuleOptions } from '../shared/rules/types.js';
import { findByAuthUrl, findByClusterId, foreignClusterId, refuseDuplicate } from './foreign-clusters.js';
import { UserError, type DryRunMode } from './global.js';
import { pinIfUnpinned, refuseChangedIdentity } from './identity-accept.js';

export type JoinAction = 'created' | 'configured' | 'unchanged';

export interface JoinOutcome {
  name: string;
  action: JoinAction;
  /** The object as stored (or as it would be, on a dry run). */
  foreignCluster: ForeignCluster;
}

export interface JoinRequest {
  identity: IdentityResult;
  /** Object name; default the cluster id (or the existing object's name). */
  name?: string;
  dryRun: DryRunMode;
  /** This cluster's own id, when known: joining it is refused. */
  ownClusterId: string | undefined;
  /** Already-listed ForeignClusters, to spare a request (discover has them). */
  existing?: ForeignCluster[];
  /** For --dry-run=client: the webhook's rule options (plugin/admission-policy.ts) and where warnings go. */
  clientSide?: ClientSideCheck;
}

export interface ClientSideCheck {
  options: RuleOptions;
  /** Why the webhook's options could not be read; said with a refusal. */
  unreadable?: string;
  onWarning: (warning: string) => void;
}

export async function joinCluster(resources: LiqoResources, req: JoinRequest): Promise<JoinOutcome> {
  const { identity } = req.identity;
  const clusterId = identity.clusterId;
  // it becomes the object's name and label: refused before anything is written
  const refusal = checkClusterId(clusterId, `${normaliseAuthUrl(req.identity.authUrl)}/ids`);
  if (refusal) throw new UserError(`refusing to join: ${refusal}`);
  if (req.ownClusterId && clusterId === req.ownClusterId) {
    throw new UserError(
      `refusing to join ${req.identity.authUrl}: it is this cluster itself (cluster id ${clusterId})`,
    );
  }
  const all = req.existing ?? (await resources.foreignClusters.list());
  const current = req.name
    ? (all.find((fc) => fc.metadata.name === req.name) ?? (await resources.foreignClusters.get(req.name)))
    : (all.find((fc) => fc.metadata.name === clusterId) ??
      findByClusterId(all, clusterId) ??
      sameUrlWithoutId(all, req.identity.authUrl));
  if (current) {
    const currentId = foreignClusterId(current);
    if (currentId && currentId !== clusterId) {
      throw new UserError(
        `ForeignCluster "${current.metadata.name}" is cluster ${currentId}, but ${req.identity.authUrl} answers as ` +
          `cluster ${clusterId}; pass --name to keep both`,
      );
    }
    // a pinned identity is replaced only by `join NAME --accept-identity` (SPEC §"Security")
    refuseChangedIdentity(current, req.identity);
    return pinned(resources, req, await updateForeignCluster(resources, current, req, all));
  }
  return pinned(resources, req, await createForeignCluster(resources, req.name ?? clusterId, req, all));
}

/** The identity just read pins the object when nothing does yet (not on a dry run). */
async function pinned(
  resources: LiqoResources,
  req: JoinRequest,
  outcome: JoinOutcome,
): Promise<JoinOutcome> {
  if (req.dryRun === 'none') await pinIfUnpinned(resources, outcome.foreignCluster, req.identity);
  return outcome;
}

/** A ForeignCluster created with only an authUrl (the guide's way) whose identity is not filled yet. */
function sameUrlWithoutId(all: ForeignCluster[], authUrl: string): ForeignCluster | undefined {
  const fc = findByAuthUrl(all, authUrl);
  return fc && !foreignClusterId(fc) ? fc : undefined;
}

async function createForeignCluster(
  resources: LiqoResources,
  name: string,
  req: JoinRequest,
  all: ForeignCluster[],
): Promise<JoinOutcome> {
  const { identity, authUrl, trustMode, certificateSha256 } = req.identity;
  const desired: ForeignCluster = {
    apiVersion: DISCOVERY_API_VERSION,
    kind: KIND_FOREIGN_CLUSTER,
    metadata: {
      name,
      labels: { [LABEL_CLUSTER_ID]: identity.clusterId, [LABEL_DISCOVERY_TYPE]: 'Manual' },
      annotations: { [ANNOTATION_CERT_FINGERPRINT]: certificateSha256 },
    },
    spec: {
      authUrl: normaliseAuthUrl(authUrl),
      join: true,
      clusterIdentity: {
        clusterID: identity.clusterId,
        ...(identity.clusterName ? { clusterName: identity.clusterName } : {}),
      },
      ...(identity.guestNamespace ? { namespace: identity.guestNamespace } : {}),
      discoveryType: 'Manual',
      trustMode,
    },
  };
  refuseDuplicate(desired, name, all);
  if (req.dryRun === 'client') {
    return { name, action: 'created', foreignCluster: checkClientSide(desired, undefined, req.clientSide) };
  }
  const stored = await resources.foreignClusters.create(desired, { dryRun: req.dryRun === 'server' });
  return { name, action: 'created', foreignCluster: stored };
}

async function updateForeignCluster(
  resources: LiqoResources,
  current: ForeignCluster,
  req: JoinRequest,
  all: ForeignCluster[],
): Promise<JoinOutcome> {
  const name = current.metadata.name ?? '';
  const { identity, authUrl, trustMode, certificateSha256 } = req.identity;
  const spec: Record<string, unknown> = {};
  const meta: Record<string, unknown> = {};
  if (current.spec?.join !== true) spec.join = true;
  if (!sameAuthUrl(current.spec?.authUrl ?? '', authUrl)) {
    spec.authUrl = normaliseAuthUrl(authUrl);
  }
  const ci = current.spec?.clusterIdentity;
  if (!ci?.clusterID || (identity.clusterName && ci.clusterName !== identity.clusterName)) {
    spec.clusterIdentity = {
      clusterID: identity.clusterId,
      ...(identity.clusterName ? { clusterName: identity.clusterName } : {}),
    };
  }
  if (identity.guestNamespace && current.spec?.namespace !== identity.guestNamespace) {
    spec.namespace = identity.guestNamespace;
  }
  if (current.spec?.trustMode !== trustMode) spec.trustMode = trustMode;
  if (current.metadata.annotations?.[ANNOTATION_CERT_FINGERPRINT] !== certificateSha256) {
    meta.annotations = { [ANNOTATION_CERT_FINGERPRINT]: certificateSha256 };
  }
  if (!current.metadata.labels?.[LABEL_CLUSTER_ID]) {
    meta.labels = { [LABEL_CLUSTER_ID]: identity.clusterId };
  }
  const patch: Record<string, unknown> = {};
  if (Object.keys(spec).length) patch.spec = spec;
  if (Object.keys(meta).length) patch.metadata = meta;
  if (Object.keys(patch).length === 0) return { name, action: 'unchanged', foreignCluster: current };
  const merged = mergePatch(current, patch) as ForeignCluster;
  // the id is set only where there was none (it cannot change): only then can it be taken
  if (!current.spec?.clusterIdentity?.clusterID && spec.clusterIdentity) refuseDuplicate(merged, name, all);
  if (req.dryRun === 'client') {
    return { name, action: 'configured', foreignCluster: checkClientSide(merged, current, req.clientSide) };
  }
  const stored = await resources.foreignClusters.patch(name, patch, { dryRun: req.dryRun === 'server' });
  return { name, action: 'configured', foreignCluster: stored };
}

/** --dry-run=client: the webhook's own defaulting and validation, with its options, run here. */
function checkClientSide(
  obj: ForeignCluster,
  old: ForeignCluster | undefined,
  check: ClientSideCheck | undefined,
): ForeignCluster {
  const defaulted = foreignClusterRules.applyDefaults(obj, old);
  const result = foreignClusterRules.validate(defaulted, old, check?.options);
  const first = result.errors[0];
  if (first) {
    const more = result.errors.length > 1 ? ` (and ${result.errors.length - 1} more)` : '';
    const unsure = check?.unreadable
      ? `; judged with the webhook's defaults, its own settings could not be read (${check.unreadable}): --dry-run=server asks it`
      : '';
    throw new UserError(
      `ForeignCluster "${obj.metadata.name}" would be refused: ${formatFieldError(first)}${more}${unsure}`,
    );
  }
  for (const warning of result.warnings) check?.onWarning(warning);
  return defaulted;
}

/** RFC 7386 merge, for showing what a client-side dry run would store (and for test fakes). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete base[k];
    else base[k] = mergePatch(base[k], v);
  }
  return base;
}
