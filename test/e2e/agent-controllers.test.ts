// The agent's Kubernetes-facing parts against a real kube-apiserver + etcd: the cluster id,
// following ClusterConfig edits made with the real kubectl, the ForeignCluster writer's
// create/refresh rules, garbage collection, and leader election on a real Lease.
import assert from 'node:assert/strict';
import {
  ANNOTATION_AGENT_JOIN,
  ANNOTATION_LAST_UPDATE,
  LABEL_CLUSTER_ID,
  LABEL_DISCOVERY_TYPE,
  LABEL_SEARCH_DOMAIN,
} from '../../shared/api/constants.js';
import type { ForeignCluster } from '../../shared/api/types.js';
import type { IdentityResult } from '../../shared/lookup/types.js';
import { loadKubeConfig } from '../../shared/kube/config.js';
import { ClusterConfigWatch, type EffectiveDiscoveryConfig } from '../../agent/cluster-config-watch.js';
import { ensureClusterId } from '../../agent/cluster-id.js';
import { ForeignClusterWriter } from '../../agent/foreign-cluster-writer.js';
import { GarbageCollector } from '../../agent/garbage-collector.js';
import { connectAgentKube, type AgentKube } from '../../agent/kube-access.js';
import { LeaderElector } from '../../agent/leader-election.js';
import { createLogger } from '../../agent/logger.js';
import type { ControlPlane } from '../harness/control-plane.js';
import { eventually, startLiqoControlPlane } from './agent-cluster-fixture.js';

const log = createLogger('silent');

function found(
  clusterId: string,
  authUrl: string,
  trustMode: 'Trusted' | 'Untrusted' = 'Untrusted',
): IdentityResult {
  return {
    authUrl,
    identity: { clusterId, clusterName: `name-${clusterId}`, guestNamespace: 'liqo' },
    trustMode,
    certificateSha256: 'AA:BB',
    certificateNotAfter: new Date(Date.now() + 86400_000),
  };
}

describe('agent against a real API server', function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let kube: AgentKube;

  before(async function () {
    cp = await startLiqoControlPlane();
    kube = await connectAgentKube(await loadKubeConfig({ kubeconfig: cp.adminKubeconfig }), 'liqo', 5000);
  });
  after(async () => cp?.stop());

  const kubectlJson = async (args: string[]) => {
    const r = await cp.kubectl([...args, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };

  it('creates the cluster-id ConfigMap once and keeps its id', async () => {
    const id = await ensureClusterId(kube, log);
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal(await ensureClusterId(kube, log), id);
    const cm = (await kubectlJson(['-n', 'liqo', 'get', 'configmap', 'cluster-id'])) as {
      data: Record<string, string>;
    };
    assert.equal(cm.data['cluster-id'], id);
  });

  it('follows `kubectl patch` of the ClusterConfig', async () => {
    const watch = new ClusterConfigWatch(kube, log);
    await watch.start();
    try {
      assert.equal(watch.config.enableAdvertisement, true, 'no ClusterConfig: defaults (enabled)');
      const changes: EffectiveDiscoveryConfig[] = [];
      watch.on('change', (c: EffectiveDiscoveryConfig) => changes.push(c));
      const apply = await cp.kubectl(['apply', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'config.liqo.io/v1alpha1',
          kind: 'ClusterConfig',
          metadata: { name: 'liqo-configuration' },
          spec: {
            discoveryConfig: {
              clusterName: 'cluster-a',
              enableDiscovery: true,
              enableAdvertisement: true,
              ttl: 30,
              autojoin: false,
              autojoinUntrusted: false,
            },
          },
        }),
      });
      assert.equal(apply.code, 0, apply.stderr);
      await eventually(
        'clusterName',
        async () => (watch.config.clusterName === 'cluster-a' ? true : undefined),
        120_000, // the suite's mocha timeout: a watch, no re-list period to tell apart from
      );
      const patch = await cp.kubectl([
        'patch',
        'clusterconfigs',
        'liqo-configuration',
        '--type',
        'merge',
        '--patch',
        '{"spec":{"discoveryConfig":{"enableDiscovery": false, "enableAdvertisement": false}}}',
      ]);
      assert.equal(patch.code, 0, patch.stderr);
      await eventually(
        'advertisement off',
        async () => (watch.config.enableAdvertisement ? undefined : true),
        120_000, // the suite's mocha timeout: a watch, no re-list period to tell apart from
      );
      assert.equal(watch.config.enableDiscovery, false);
      assert.ok(changes.length >= 2);
    } finally {
      watch.stop();
    }
  });

  describe('ForeignCluster writer', () => {
    let writer: ForeignClusterWriter;
    before(async () => {
      writer = new ForeignClusterWriter(kube.liqo, await ensureClusterId(kube, log));
    });

    it('never adds this cluster itself', async () => {
      const own = await ensureClusterId(kube, log);
      const r = await writer.upsert({
        found: found(own, 'https://10.0.0.1:8443'),
        discoveryType: 'LAN',
        ttlSeconds: 90,
        join: true,
      });
      assert.equal(r.action, 'self');
      assert.equal(await kube.liqo.foreignClusters.get(own), undefined);
    });

    it('creates a LAN ForeignCluster named after the cluster id, with labels, join, ttl and LastUpdate', async () => {
      const r = await writer.upsert({
        found: found('peer-lan-1', 'https://10.0.0.2:8443'),
        discoveryType: 'LAN',
        ttlSeconds: 45,
        join: true,
      });
      assert.deepEqual(r, { name: 'peer-lan-1', action: 'created' });
      const fc = (await kubectlJson(['get', 'foreignclusters', 'peer-lan-1'])) as unknown as ForeignCluster;
      assert.equal(fc.spec.authUrl, 'https://10.0.0.2:8443');
      assert.equal(fc.spec.discoveryType, 'LAN');
      assert.equal(fc.spec.trustMode, 'Untrusted');
      assert.equal(fc.spec.join, true);
      assert.equal(fc.spec.namespace, 'liqo');
      assert.deepEqual(fc.spec.clusterIdentity, { clusterID: 'peer-lan-1', clusterName: 'name-peer-lan-1' });
      assert.equal(fc.metadata.labels?.[LABEL_CLUSTER_ID], 'peer-lan-1');
      assert.equal(fc.metadata.labels?.[LABEL_DISCOVERY_TYPE], 'LAN');
      assert.match(fc.metadata.annotations?.[ANNOTATION_LAST_UPDATE] ?? '', /^\d+$/);
      assert.equal(fc.status?.ttl, 45);
    });

    it("refreshes it, follows a new address, and never overwrites a user's join", async () => {
      const patch = await cp.kubectl([
        'patch',
        'foreignclusters',
        'peer-lan-1',
        '--type',
        'merge',
        '--patch',
        '{"spec":{"join":false}}',
      ]);
      assert.equal(patch.code, 0, patch.stderr);
      const r = await writer.upsert({
        found: found('peer-lan-1', 'https://10.0.0.3:8443'),
        discoveryType: 'LAN',
        ttlSeconds: 45,
        join: true,
      });
      assert.equal(r.action, 'updated');
      const fc = await kube.liqo.foreignClusters.get('peer-lan-1');
      assert.equal(fc?.spec.authUrl, 'https://10.0.0.3:8443');
      assert.equal(fc?.spec.join, false, 'the user set join=false; autojoin must not undo it');
    });

    it('changes join when autojoin changes and the agent set join last', async () => {
      await writer.upsert({
        found: found('peer-lan-2', 'https://10.0.0.4:8443'),
        discoveryType: 'LAN',
        ttlSeconds: 45,
        join: false,
      });
      await writer.upsert({
        found: found('peer-lan-2', 'https://10.0.0.4:8443'),
        discoveryType: 'LAN',
        ttlSeconds: 45,
        join: true,
      });
      const fc = await kube.liqo.foreignClusters.get('peer-lan-2');
      assert.equal(fc?.spec.join, true);
      assert.equal(fc?.metadata.annotations?.[ANNOTATION_AGENT_JOIN], 'true');
    });

    it('keeps a Manual ForeignCluster Manual when the peer is also seen on the LAN', async () => {
      const created = await kube.liqo.foreignClusters.create({
        apiVersion: 'discovery.liqo.io/v1alpha1',
        kind: 'ForeignCluster',
        metadata: { name: 'my-manual', labels: { [LABEL_CLUSTER_ID]: 'peer-manual' } },
        spec: {
          authUrl: 'https://10.0.0.9:8443',
          join: true,
          discoveryType: 'Manual',
          clusterIdentity: { clusterID: 'peer-manual' },
        },
      });
      assert.ok(created);
      const r = await writer.upsert({
        found: found('peer-manual', 'https://10.0.0.5:8443'),
        discoveryType: 'LAN',
        ttlSeconds: 45,
        join: false,
      });
      assert.deepEqual(r, { name: 'my-manual', action: 'refreshed' });
      const fc = await kube.liqo.foreignClusters.get('my-manual');
      assert.equal(fc?.spec.discoveryType, 'Manual');
      assert.equal(fc?.spec.authUrl, 'https://10.0.0.9:8443');
      assert.equal(fc?.spec.join, true);
      assert.equal(await kube.liqo.foreignClusters.get('peer-manual'), undefined, 'no second object');
    });

    it('creates a WAN ForeignCluster owned by its SearchDomain and labelled with it', async () => {
      const sd = await kube.liqo.searchDomains.create({
        apiVersion: 'discovery.liqo.io/v1alpha1',
        kind: 'SearchDomain',
        metadata: { name: 'example.test' },
        spec: { domain: 'example.test', autojoin: true },
      });
      await writer.upsert({
        found: found('peer-wan-1', 'https://auth.example.test:443', 'Trusted'),
        discoveryType: 'WAN',
        ttlSeconds: 90,
        join: true,
        searchDomain: { name: 'example.test', uid: sd.metadata.uid ?? '' },
      });
      const fc = await kube.liqo.foreignClusters.get('peer-wan-1');
      assert.equal(fc?.metadata.labels?.[LABEL_SEARCH_DOMAIN], 'example.test');
      assert.deepEqual(
        fc?.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid]),
        [['SearchDomain', 'example.test', sd.metadata.uid]],
      );
      assert.equal(fc?.spec.discoveryType, 'WAN');
      assert.equal(fc?.spec.join, true);
    });
  });

  describe('garbage collector', () => {
    it('deletes expired LAN ForeignClusters and WAN ones whose SearchDomain is gone, never Manual ones', async () => {
      const old = String(Math.floor(Date.now() / 1000) - 600);
      for (const [name, type] of [
        ['stale-lan', 'LAN'],
        ['stale-manual', 'Manual'],
        ['fresh-lan', 'LAN'],
      ] as const) {
        await kube.liqo.foreignClusters.create({
          apiVersion: 'discovery.liqo.io/v1alpha1',
          kind: 'ForeignCluster',
          metadata: {
            name,
            labels: { [LABEL_CLUSTER_ID]: name, [LABEL_DISCOVERY_TYPE]: type },
            annotations: {
              [ANNOTATION_LAST_UPDATE]: name === 'fresh-lan' ? String(Math.floor(Date.now() / 1000)) : old,
            },
          },
          spec: {
            authUrl: 'https://10.0.0.7:8443',
            discoveryType: type,
            clusterIdentity: { clusterID: name },
          },
        });
        await kube.liqo.foreignClusters.patchStatus(name, { status: { ttl: 300 } });
      }
      const gc = new GarbageCollector(kube.liqo, 30_000, log);
      const del = await cp.kubectl(['delete', 'searchdomain', 'example.test']);
      assert.equal(del.code, 0, del.stderr);
      const deleted = await gc.collect();
      assert.deepEqual(deleted.sort(), ['peer-wan-1', 'stale-lan']);
      const left = (await kube.liqo.foreignClusters.list()).map((f) => f.metadata.name).sort();
      assert.ok(left.includes('stale-manual'));
      assert.ok(left.includes('fresh-lan'));
      assert.ok(left.includes('my-manual'));
    });
  });

  describe('leader election', () => {
    it('elects one replica, and a standby takes over when the leader dies without releasing', async () => {
      const leading = new Set<string>();
      const make = (identity: string) =>
        new LeaderElector(kube, {
          leaseName: 'test-election',
          identity,
          timing: {
            leaseDurationMs: 4000,
            renewDeadlineMs: 2500,
            retryPeriodMs: 500,
            requestTimeoutMs: 1500,
          },
          log,
          onStartedLeading: () => leading.add(identity),
          onStoppedLeading: () => leading.delete(identity),
        });
      const a = make('replica-a');
      const b = make('replica-b');
      a.start();
      await eventually('a leads', async () => (leading.has('replica-a') ? true : undefined), 10_000, 50);
      b.start();
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual([...leading], ['replica-a'], 'only one leader');
      // a "crashes": it stops renewing but does not release the Lease
      (a as unknown as { stopped: boolean }).stopped = true;
      await eventually(
        'b takes over',
        async () => (leading.has('replica-b') ? true : undefined),
        15_000,
        100,
      );
      const lease = (await kubectlJson(['-n', 'liqo', 'get', 'lease', 'test-election'])) as {
        spec: { holderIdentity: string; leaseTransitions: number };
      };
      assert.equal(lease.spec.holderIdentity, 'replica-b');
      assert.equal(lease.spec.leaseTransitions, 1);
      await b.stop();
      const released = (await kubectlJson(['-n', 'liqo', 'get', 'lease', 'test-election'])) as {
        spec: { holderIdentity?: string };
      };
      assert.ok(!released.spec.holderIdentity, 'a stopping leader releases the Lease');
      assert.equal(b.isLeader, false);
    });
  });
});
