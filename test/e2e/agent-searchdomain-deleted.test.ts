// A SearchDomain deleted while the agent's pass over it is under way: the pass must write no
// ForeignCluster after the deletion (one did under load, and lived until the next collection),
// and the deletion's collection runs after the pass. Real kube-apiserver + etcd, a real BIND
// serving the domain, a real HTTPS /ids peer that holds its answer until the test lets it go,
// and the agent's own SearchDomainDiscovery, writer, fetcher and garbage collector.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { ForeignCluster } from '../../shared/api/types.js';
import { loadKubeConfig } from '../../shared/kube/config.js';
import { watchCollection, type WatchHandle } from '../../shared/kube/watch.js';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import { ForeignClusterWriter } from '../../agent/foreign-cluster-writer.js';
import { GarbageCollector } from '../../agent/garbage-collector.js';
import { IdentityFetcher } from '../../agent/identity-fetcher.js';
import { connectAgentKube, type AgentKube } from '../../agent/kube-access.js';
import { createLogger } from '../../agent/logger.js';
import { SearchDomainDiscovery } from '../../agent/searchdomain-discovery.js';
import type { ControlPlane } from '../harness/control-plane.js';
import { startBind, type RunningBind } from '../helpers/bind.js';
import { startIdsServer, testKeyPem, type IdsServer } from '../helpers/https-ids-server.js';
import { eventually, startLiqoControlPlane } from './agent-cluster-fixture.js';

describe('agent: a SearchDomain deleted while its pass is under way', function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let kube: AgentKube;
  let bind: RunningBind;
  let peer: IdsServer;
  let discovery: SearchDomainDiscovery | undefined;
  let fcWatch: WatchHandle | undefined;
  let releasePeer: () => void = () => undefined;
  const logged: string[] = [];
  const fcEvents: string[] = [];

  before(async function () {
    this.timeout(240_000);
    cp = await startLiqoControlPlane();
    kube = await connectAgentKube(await loadKubeConfig({ kubeconfig: cp.adminKubeconfig }), 'liqo', 5000);
    const cert = createServingCertificate({
      commonName: 'peer',
      hosts: ['127.0.0.1'],
      keyPem: await testKeyPem(),
    });
    const answer = new Promise<void>((resolve) => (releasePeer = resolve));
    peer = await startIdsServer({
      ...cert,
      handler: (_req, res) =>
        void answer.then(() =>
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ clusterId: 'gated-peer', clusterName: 'gated', guestNamespace: 'liqo' })),
        ),
    });
    bind = await startBind({
      zones: {
        'gate.test': [
          'gate.test. PTR gated.gate.test.',
          `gated.gate.test. SRV 0 0 ${peer.port} auth-gated.gate.test.`,
          'auth-gated.gate.test. A 127.0.0.1',
        ].join('\n'),
      },
      ttl: 30,
    });
  });

  after(async function () {
    this.timeout(60_000);
    releasePeer();
    fcWatch?.stop();
    await discovery?.stop();
    await peer?.close();
    await bind?.stop();
    await cp?.stop();
  });

  const sawLog = (msg: string) => async () => (logged.some((l) => l.includes(msg)) ? true : undefined);

  it('writes no ForeignCluster after the deletion; the collection waits for the pass', async () => {
    // every line the agent's parts log, at debug level, kept for the checks below
    const log = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          logged.push(...chunk.toString().split('\n').filter(Boolean));
          done();
        },
      }),
    );
    // our own watch on ForeignClusters: a create after the deletion shows up here even if the
    // garbage collector removes it again
    fcWatch = watchCollection<ForeignCluster>(
      kube.kubeConfig,
      '/apis/discovery.liqo.io/v1alpha1/foreignclusters',
      (type, fc) => fcEvents.push(`${type} ${fc.metadata?.name ?? ''}`),
      { log: createLogger('silent') },
    );
    const sd = await cp.kubectl(['apply', '-f', '-'], {
      input:
        'apiVersion: discovery.liqo.io/v1alpha1\nkind: SearchDomain\nmetadata:\n  name: gate.test\nspec:\n  domain: gate.test\n',
    });
    assert.equal(sd.code, 0, sd.stderr);

    discovery = new SearchDomainDiscovery(
      kube,
      new ForeignClusterWriter(kube.liqo, 'this-cluster'),
      new IdentityFetcher({ concurrency: 2, timeoutMs: 90_000, allowLoopback: true }),
      new GarbageCollector(kube.liqo, 60_000, log),
      { ownClusterId: 'this-cluster', intervalMs: 60_000, dnsServers: [bind.server], log },
    );
    discovery.start();
    // the pass has resolved the domain and is waiting for the peer's /ids
    await eventually('the pass asks the peer', async () => (peer.requests > 0 ? true : undefined));

    const del = await cp.kubectl(['delete', 'searchdomain', 'gate.test']);
    assert.equal(del.code, 0, del.stderr);
    await eventually(
      'the agent sees the deletion',
      sawLog('SearchDomain deleted while a pass was under way'),
    );

    releasePeer();
    await eventually('the pass ends', sawLog('SearchDomain gone during its pass; status not written'));
    // a ForeignCluster made now is seen by our watch after anything the pass wrote before it
    const sentinel = await cp.kubectl(['apply', '-f', '-'], {
      input:
        'apiVersion: discovery.liqo.io/v1alpha1\nkind: ForeignCluster\nmetadata:\n  name: sentinel\nspec:\n  authUrl: "https://10.0.0.7:8443"\n  discoveryType: Manual\n  clusterIdentity:\n    clusterID: sentinel\n',
    });
    assert.equal(sentinel.code, 0, sentinel.stderr);
    await eventually('our watch sees the sentinel', async () =>
      fcEvents.includes('ADDED sentinel') ? true : undefined,
    );
    assert.deepEqual(fcEvents, ['ADDED sentinel'], 'no ForeignCluster for the deleted SearchDomain');
  });
});
