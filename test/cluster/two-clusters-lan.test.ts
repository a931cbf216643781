// The guide's LAN promise on real pods: two real one-node clusters on one LAN bridge (each in
// its own network namespace, test/harness/node/lan.ts), each installed with `kubectl liqo
// install` from our image. Their agents (DaemonSet, host network) find each other by mDNS on
// the LAN and each cluster gets the other's `LAN` ForeignCluster with its identity (the id its
// /ids serves) and a trust decision, pinned to the certificate its /ids really presents.
import assert from 'node:assert/strict';
import { LIQO_DISCOVERY_IMAGE } from '../../shared/api/constants.js';
import { createLanBridge, type LanBridge } from '../harness/node/lan.js';
import { startRealCluster, type RealCluster } from '../harness/node/real-cluster.js';
import { installPluginOnPath, type PluginOnPath } from '../e2e/plugin-helpers.js';
import { ensureCurrentImage } from './current-image.js';
import { eventually, getJson, liqoPodsState, log, uniqueName } from './setup.js';

interface ForeignClusterJson {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: {
    authUrl?: string;
    discoveryType?: string;
    trustMode?: string;
    clusterIdentity?: { clusterID?: string; clusterName?: string };
  };
}

describe('cluster: two real clusters on one LAN, installed with kubectl liqo install', function () {
  let lan: LanBridge | undefined;
  let plugin: PluginOnPath | undefined;
  const clusters: RealCluster[] = [];

  after(async function () {
    this.timeout(180_000);
    plugin?.remove();
    for (const cluster of clusters.splice(0)) {
      await cluster.stop();
      assert.deepEqual(cluster.leftovers(), [], `${cluster.name} left something behind`);
    }
    await lan?.remove();
  });

  it("find each other by mDNS: each gets the other's LAN ForeignCluster with identity and trust", async function () {
    this.timeout(20 * 60_000);
    const archive = await ensureCurrentImage(log);
    lan = await createLanBridge(uniqueName('l'));
    const started = await Promise.allSettled(
      ['10.78.1.1', '10.78.1.2'].map((nodeIp, i) =>
        startRealCluster({ name: uniqueName(`mdns${i}`), nodeIp, lanBridge: lan, log }),
      ),
    );
    for (const result of started) if (result.status === 'fulfilled') clusters.push(result.value);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    plugin = await installPluginOnPath();

    // one after the other: two installs at once on two shared cores only slow both
    for (const cluster of clusters) {
      await cluster.importImage(archive);
      const t = Date.now();
      const r = await plugin.run(
        ['install', '--image', LIQO_DISCOVERY_IMAGE, '--image-pull-policy', 'Never', '--timeout', '5m'],
        { env: { KUBECONFIG: cluster.adminKubeconfig }, timeoutMs: 400_000 },
      );
      assert.equal(r.code, 0, `${cluster.name}: ${r.stdout}\n${r.stderr}`);
      log(`${cluster.name}: installed in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }

    // what each cluster's /ids serves, read from the other node over the LAN (the guide's curl)
    const identities = new Map<string, { clusterId: string; fingerprint: string }>();
    for (const [self, other] of [clusters, [...clusters].reverse()] as [RealCluster, RealCluster][]) {
      const url = `https://${self.nodeIp}:9443/ids`;
      const ids = await other.inNode(['curl', '-sS', '--insecure', url]);
      if (ids.code !== 0) assert.fail(`${ids.stderr.trim()}\n${await liqoPodsState(self)}`);
      const fp = await other.inNode([
        'sh',
        '-c',
        `openssl s_client -connect ${self.nodeIp}:9443 </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256`,
      ]);
      const fingerprint = /Fingerprint=([0-9A-F:]+)/.exec(fp.stdout)?.[1];
      assert.ok(fingerprint, `${self.name}'s certificate fingerprint: ${fp.stdout} ${fp.stderr}`);
      identities.set(self.name, {
        clusterId: (JSON.parse(ids.stdout) as { clusterId: string }).clusterId,
        fingerprint,
      });
    }

    for (const [self, other] of [clusters, [...clusters].reverse()] as [RealCluster, RealCluster][]) {
      const peer = identities.get(other.name)!;
      const fc = await eventually(
        `${self.name} has ${other.name}'s LAN ForeignCluster`,
        async () =>
          (await getJson<{ items: ForeignClusterJson[] }>(self, ['foreignclusters'])).items.find(
            (f) => f.spec.discoveryType === 'LAN' && f.spec.clusterIdentity?.clusterID === peer.clusterId,
          ),
        180_000,
        async () =>
          `${(await self.kubectl(['get', 'foreignclusters', '-o', 'wide'])).stdout}\n${
            (await self.kubectl(['logs', '-n', 'liqo', 'daemonset/liqo-discovery-agent', '--tail=20'])).stdout
          }`,
      );
      assert.equal(new URL(fc.spec.authUrl ?? '').hostname, other.nodeIp, 'found at its LAN address');
      assert.ok(
        fc.spec.trustMode === 'Trusted' || fc.spec.trustMode === 'Untrusted',
        `a trust decision, not ${fc.spec.trustMode}`,
      );
      assert.equal(fc.metadata.annotations?.['discovery.liqo.io/certificate-sha256'], peer.fingerprint);
      // and not itself
      const own = identities.get(self.name)!;
      const list = (await getJson<{ items: ForeignClusterJson[] }>(self, ['foreignclusters'])).items;
      assert.ok(
        !list.some((f) => f.spec.clusterIdentity?.clusterID === own.clusterId),
        'no ForeignCluster of itself',
      );
      log(`${self.name}: ${fc.metadata.name} (${fc.spec.trustMode}) → ${fc.spec.authUrl}`);
    }
  });
});
