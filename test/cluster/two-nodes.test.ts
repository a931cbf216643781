// Two real clusters at once on one LAN bridge (what two-cluster discovery needs): each node has
// its own namespaces, cgroup root and kubelet paths, both run pods, they reach each other over
// the LAN, and stop() leaves nothing of either behind.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createLanBridge, type LanBridge } from '../harness/node/lan.js';
import { netnsPath } from '../harness/node/namespaces.js';
import { startRealCluster, type RealCluster } from '../harness/node/real-cluster.js';
import { applyObjects, deployment, log, podsOf, rolloutStatus, uniqueName } from './setup.js';

describe('cluster: two real clusters on one LAN', function () {
  let lan: LanBridge | undefined;
  const clusters: RealCluster[] = [];

  after(async function () {
    this.timeout(120_000);
    for (const cluster of clusters) await cluster.stop();
    await lan?.remove();
  });

  it('run side by side, reach each other over the LAN, and leave nothing behind', async function () {
    this.timeout(15 * 60_000);
    lan = await createLanBridge(uniqueName('l'));
    const started = await Promise.allSettled(
      ['10.78.0.1', '10.78.0.2'].map((nodeIp, i) =>
        startRealCluster({ name: uniqueName(`lan${i}`), nodeIp, lanBridge: lan, log }),
      ),
    );
    for (const result of started) if (result.status === 'fulfilled') clusters.push(result.value);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    const [a, b] = clusters as [RealCluster, RealCluster];

    for (const cluster of clusters) {
      const nodes = await cluster.kubectl(['get', 'nodes', '-o', 'name']);
      assert.equal(nodes.stdout.trim(), `node/${cluster.name}`, 'each cluster sees only its own node');
      await applyObjects(cluster, deployment('default', 'pause', cluster.pauseImage));
    }
    for (const cluster of clusters) {
      await rolloutStatus(cluster, 'default', 'pause');
      const [pod] = await podsOf(cluster, 'default', 'pause');
      assert.equal(pod?.spec.nodeName, cluster.name);
      // the kubelet's hard-coded device-plugin socket is its own, inside the node's overlay
      assert.ok(
        existsSync(join(cluster.stateDir, 'overlay/var/upper/lib/kubelet/device-plugins/kubelet.sock')),
        `${cluster.name}'s kubelet socket is in its state directory`,
      );
    }
    // node A reaches node B's API server at B's LAN address
    const across = await a.inNode(['curl', '-sk', '--max-time', '5', `https://${b.nodeIp}:6443/readyz`]);
    assert.equal(across.stdout.trim(), 'ok', across.stderr);

    // what would be left if stop() did nothing: the check sees it
    const before = a.leftovers();
    assert.ok(before.includes(`network namespace ${a.netns}`), before.join('; '));
    assert.ok(
      before.some((item) => item.startsWith('process ')),
      before.join('; '),
    );
    assert.ok(
      before.some((item) => item.startsWith('cgroup ')),
      before.join('; '),
    );

    for (const cluster of clusters.splice(0)) {
      await cluster.stop();
      assert.deepEqual(cluster.leftovers(), [], `${cluster.name} left something behind`);
      assert.equal(existsSync(cluster.stateDir), false);
    }
    await lan.remove();
    assert.equal(existsSync(netnsPath(lan.namespace)), false);
  });
});
