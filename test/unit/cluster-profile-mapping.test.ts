// ForeignCluster → ClusterProfile (KEP-4322): the pure mapping of agent/cluster-profiles, and the
// install transform that gives the agent its flag and RBAC (plugin/install/cluster-profiles.ts).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  desiredProfile,
  keepTransitionTimes,
  profileConditions,
  profileProperties,
  specDiffers,
  statusDiffers,
} from '../../agent/cluster-profiles/mapping.js';
import { enableClusterProfiles } from '../../plugin/install/cluster-profiles.js';
import { isWorkload, podTemplate, type ManifestObject } from '../../plugin/install/objects.js';
import { parseManifest } from '../../plugin/install/release.js';
import { configure } from '../../plugin/install/transforms.js';
import { REPO_ROOT } from '../../scripts/bundles.mjs';
import { renderReleaseManifest } from '../../scripts/release-manifest.mjs';
import type { ForeignCluster } from '../../shared/api/types.js';

const NOW = new Date('2026-12-04T12:00:00Z');

function fc(
  over: Partial<ForeignCluster['spec']> = {},
  status: ForeignCluster['status'] = {},
): ForeignCluster {
  return {
    apiVersion: 'discovery.liqo.io/v1alpha1',
    kind: 'ForeignCluster',
    metadata: {
      name: 'peer-a',
      uid: 'uid-1',
      annotations: { 'discovery.liqo.io/last-seen': '2026-12-04T11:59:00Z' },
    },
    spec: {
      authUrl: 'https://10.0.0.7:9443',
      discoveryType: 'LAN',
      clusterIdentity: { clusterID: 'id-a', clusterName: 'Cluster A' },
      ...over,
    },
    status,
  };
}

describe('ClusterProfile mapping (KEP-4322)', () => {
  it('names the profile after the ForeignCluster, with the manager label, owner and display name', () => {
    const p = desiredProfile(fc(), 'fleet', NOW);
    assert.equal(p.apiVersion, 'multicluster.x-k8s.io/v1alpha1');
    assert.equal(p.kind, 'ClusterProfile');
    assert.equal(p.metadata.name, 'peer-a');
    assert.equal(p.metadata.namespace, 'fleet');
    assert.equal(p.metadata.labels?.['x-k8s.io/cluster-manager'], 'liqo-discovery');
    assert.equal(p.metadata.labels?.['discovery.liqo.io/foreign-cluster'], 'peer-a');
    assert.deepEqual(p.metadata.ownerReferences, [
      { apiVersion: 'discovery.liqo.io/v1alpha1', kind: 'ForeignCluster', name: 'peer-a', uid: 'uid-1' },
    ]);
    assert.deepEqual(p.spec, { displayName: 'Cluster A', clusterManager: { name: 'liqo-discovery' } });
  });

  it('display name falls back to the ForeignCluster name; a name too long for a label gets no label', () => {
    const long = 'a'.repeat(70);
    const f = fc({ clusterIdentity: undefined });
    f.metadata.name = long;
    const p = desiredProfile(f, 'fleet', NOW);
    assert.equal(p.spec.displayName, long);
    assert.equal(p.metadata.labels?.['discovery.liqo.io/foreign-cluster'], undefined);
  });

  it('properties: the peer id under cluster.clusterset.k8s.io, auth URL and discovery type, observed at last-seen', () => {
    assert.deepEqual(profileProperties(fc()), [
      { name: 'cluster.clusterset.k8s.io', value: 'id-a', lastObservedTime: '2026-12-04T11:59:00Z' },
      {
        name: 'discovery.liqo.io/auth-url',
        value: 'https://10.0.0.7:9443',
        lastObservedTime: '2026-12-04T11:59:00Z',
      },
      { name: 'discovery.liqo.io/discovery-type', value: 'LAN', lastObservedTime: '2026-12-04T11:59:00Z' },
    ]);
    // no identity yet: no id property (the CRD wants values of 1 to 1024 characters)
    const unresolved = fc({ clusterIdentity: undefined, authUrl: `https://x/${'p'.repeat(1100)}` });
    unresolved.metadata.annotations = {};
    assert.deepEqual(profileProperties(unresolved), [
      { name: 'discovery.liqo.io/discovery-type', value: 'LAN' },
    ]);
  });

  it('ControlPlaneHealthy follows IdentityResolved; IdentityChanged True makes it False; Unknown before any try', () => {
    const healthy = (status: ForeignCluster['status']) =>
      profileConditions(fc({}, status), NOW).find((c) => c.type === 'ControlPlaneHealthy');
    assert.deepEqual(healthy({}), {
      type: 'ControlPlaneHealthy',
      status: 'Unknown',
      reason: 'NotChecked',
      message: "the cluster's auth service has not been asked yet",
      lastTransitionTime: NOW.toISOString(),
    });
    const resolved = {
      type: 'IdentityResolved',
      status: 'True' as const,
      reason: 'Resolved',
      message: '/ids answered',
      lastTransitionTime: '2026-12-04T10:00:00Z',
    };
    assert.deepEqual(healthy({ conditions: [resolved] }), {
      type: 'ControlPlaneHealthy',
      status: 'True',
      reason: 'Resolved',
      message: '/ids answered',
      lastTransitionTime: '2026-12-04T10:00:00Z',
    });
    const failed = {
      ...resolved,
      status: 'False' as const,
      reason: 'connection refused!',
      message: 'REFUSED',
    };
    const h = healthy({ conditions: [failed] });
    assert.equal(h?.status, 'False');
    assert.equal(h?.reason, 'IdentityNotResolved'); // not metav1.Condition's reason grammar: replaced
    const changed = { type: 'IdentityChanged', status: 'True' as const, message: 'another certificate' };
    assert.deepEqual(
      [
        healthy({ conditions: [resolved, changed] })?.status,
        healthy({ conditions: [resolved, changed] })?.reason,
      ],
      ['False', 'IdentityChanged'],
    );
  });

  it('Joined: outgoing, incoming, both or neither', () => {
    const joined = (status: ForeignCluster['status']) =>
      profileConditions(fc({}, status), NOW).find((c) => c.type === 'Joined');
    assert.equal(joined({})?.status, 'False');
    assert.equal(joined({})?.reason, 'NotJoined');
    assert.equal(joined({ outgoing: { joined: true } })?.reason, 'Outgoing');
    assert.equal(joined({ incoming: { joined: true } })?.reason, 'Incoming');
    const both = joined({ outgoing: { joined: true }, incoming: { joined: true } });
    assert.deepEqual([both?.status, both?.reason], ['True', 'Bidirectional']);
  });

  it('transition times move only on a transition, so an unchanged peer causes no status write', () => {
    const first = desiredProfile(fc(), 'fleet', NOW);
    const later = desiredProfile(fc(), 'fleet', new Date(NOW.getTime() + 60_000));
    const kept = keepTransitionTimes(later.status?.conditions ?? [], first.status?.conditions);
    assert.equal(statusDiffers(first, { ...later, status: { ...later.status, conditions: kept } }), false);
    assert.equal(statusDiffers(first, later), true); // without keeping, Unknown/Joined times would move

    const joinedNow = desiredProfile(
      fc({}, { outgoing: { joined: true } }),
      'fleet',
      new Date(NOW.getTime() + 1),
    );
    const keptJoined = keepTransitionTimes(joinedNow.status?.conditions ?? [], first.status?.conditions);
    const j = keptJoined.find((c) => c.type === 'Joined');
    assert.equal(j?.lastTransitionTime, new Date(NOW.getTime() + 1).toISOString());
  });

  it('specDiffers ignores labels and owner fields that are not ours', () => {
    const desired = desiredProfile(fc(), 'fleet', NOW);
    const onServer = structuredClone(desired);
    onServer.metadata.labels = { ...onServer.metadata.labels, 'team.example/owner': 'x' };
    onServer.metadata.ownerReferences = onServer.metadata.ownerReferences?.map((o) => ({
      ...o,
      blockOwnerDeletion: false,
    }));
    assert.equal(specDiffers(onServer, desired), false);
    onServer.spec.displayName = 'renamed';
    assert.equal(specDiffers(onServer, desired), true);
  });
});

describe('install --cluster-profiles (transform)', () => {
  let release: ManifestObject[];
  before(async () => {
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    release = await parseManifest(await renderReleaseManifest(REPO_ROOT, version));
  });

  it('adds --cluster-profiles=<ns> to the agent and a Role/RoleBinding for clusterprofiles in that namespace only', () => {
    const out = configure(release, { image: 'x/y:1', clusterProfilesNamespace: 'fleet' });
    const agent = out.find((o) => o.kind === 'DaemonSet');
    assert.ok(agent && isWorkload(agent));
    assert.ok(podTemplate(agent).spec?.containers[0]?.args?.includes('--cluster-profiles=fleet'));
    const role = out.find((o) => o.kind === 'Role' && o.metadata.namespace === 'fleet') as
      | (ManifestObject & { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] })
      | undefined;
    assert.ok(role);
    assert.deepEqual(
      role.rules.map((r) => [r.apiGroups, r.resources]),
      [
        [['multicluster.x-k8s.io'], ['clusterprofiles']],
        [['multicluster.x-k8s.io'], ['clusterprofiles/status']],
      ],
    );
    const binding = out.find((o) => o.kind === 'RoleBinding' && o.metadata.namespace === 'fleet') as
      (ManifestObject & { subjects: unknown[] }) | undefined;
    assert.deepEqual(binding?.subjects, [
      { kind: 'ServiceAccount', name: 'liqo-discovery-agent', namespace: 'liqo' },
    ]);
    assert.equal(out.length, release.length + 2);
    // without the flag nothing changes
    assert.equal(configure(release, { image: 'x/y:1' }).length, release.length);
  });

  it('refuses a namespace name in one line; with --without-agent it adds nothing', () => {
    assert.throws(
      () => enableClusterProfiles(release, 'Fleet_1'),
      /^UserError: --cluster-profiles "Fleet_1": not a namespace name/,
    );
    const noAgent = configure(release, {
      image: 'x/y:1',
      withoutAgent: true,
      clusterProfilesNamespace: 'fleet',
    });
    assert.equal(noAgent.filter((o) => o.metadata.namespace === 'fleet').length, 0);
  });
});
