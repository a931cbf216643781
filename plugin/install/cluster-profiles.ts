// `kubectl liqo install --cluster-profiles <namespace>`: the agent keeps one ClusterProfile
// (KEP-4322) per ForeignCluster in that namespace. The transform adds the agent's flag and the
// least RBAC it needs there: a Role for clusterprofiles (and their status) in that namespace
// only, bound to the agent's ServiceAccount. The namespace is the user's (a ClusterSet's
// inventory namespace, e.g. OCM's): install neither creates nor deletes it.
import { UserError } from '../global.js';
import {
  AGENT_NAME_LABEL,
  copyObjects,
  isDaemonSet,
  podTemplate,
  type ManifestObject,
  type WorkloadObject,
} from './objects.js';

export const CLUSTER_PROFILES_ROLE = 'liqo-discovery-agent-cluster-profiles';

/** One line when `namespace` cannot be a namespace name. */
export function clusterProfilesNamespaceProblem(namespace: string): string | undefined {
  return /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)
    ? undefined
    : `--cluster-profiles "${namespace}": not a namespace name (a lower-case DNS label, e.g. fleet)`;
}

export function enableClusterProfiles(objects: ManifestObject[], namespace: string): ManifestObject[] {
  const problem = clusterProfilesNamespaceProblem(namespace);
  if (problem) throw new UserError(problem);
  const out = copyObjects(objects);
  const agents = out.filter(
    (o): o is WorkloadObject =>
      isDaemonSet(o) && o.metadata.labels?.['app.kubernetes.io/name'] === AGENT_NAME_LABEL,
  );
  if (agents.length === 0) return out; // --without-agent: nothing would write them
  let serviceAccount: { name: string; namespace: string } | undefined;
  for (const agent of agents) {
    const spec = podTemplate(agent).spec;
    for (const c of spec?.containers ?? []) {
      c.args = [
        ...(c.args ?? []).filter((a) => !a.startsWith('--cluster-profiles=')),
        `--cluster-profiles=${namespace}`,
      ];
    }
    serviceAccount ??= {
      name: spec?.serviceAccountName ?? 'default',
      namespace: agent.metadata.namespace ?? 'liqo',
    };
  }
  const labels = { 'app.kubernetes.io/name': AGENT_NAME_LABEL, 'app.kubernetes.io/part-of': 'liqo' };
  const role: ManifestObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: CLUSTER_PROFILES_ROLE, namespace, labels },
    rules: [
      {
        apiGroups: ['multicluster.x-k8s.io'],
        resources: ['clusterprofiles'],
        verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
      },
      {
        apiGroups: ['multicluster.x-k8s.io'],
        resources: ['clusterprofiles/status'],
        verbs: ['get', 'update', 'patch'],
      },
    ],
  };
  const binding: ManifestObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: CLUSTER_PROFILES_ROLE, namespace, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: CLUSTER_PROFILES_ROLE },
    subjects: [{ kind: 'ServiceAccount', ...serviceAccount! }],
  };
  // before the agent, so its first pass is already allowed
  const firstAgent = out.indexOf(agents[0]!);
  out.splice(firstAgent, 0, role, binding);
  return out;
}
