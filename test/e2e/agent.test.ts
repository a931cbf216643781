// The whole agent (startAgent, in this process, mDNS off) against the harness's Liqo
// environment — real etcd, kube-apiserver, CRDs and admission webhook — with a real BIND
// serving a SearchDomain and real HTTPS /ids servers as peers on loopback, some of which
// hang or lie. The agent runs as a user holding exactly the RBAC of manifests/agent, so every
// case also shows that those permissions suffice. Checked through the real kubectl.
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ForeignCluster, SearchDomain } from '../../shared/api/types.js';
import { loadKubeConfig } from '../../shared/kube/config.js';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import { startAgent, type RunningAgent } from '../../agent/agent.js';
import { createLogger } from '../../agent/logger.js';
import { startLiqoEnvironment, type LiqoEnvironment } from '../harness/liqo-environment.js';
import { httpGet } from '../harness/network.js';
import { startBind, type RunningBind } from '../helpers/bind.js';
import { startIdsServer, testKeyPem, type IdsServer } from '../helpers/https-ids-server.js';
import { bindAgentRbac, eventually, kubectlOn, loopbackAgentOptions } from './agent-cluster-fixture.js';

const log = createLogger(process.env['AGENT_TEST_LOG'] ?? 'silent');

describe('agent end to end (API server, webhook, BIND, /ids peers)', function () {
  this.timeout(120_000);
  let env: LiqoEnvironment;
  let bind: RunningBind;
  let agent: RunningAgent;
  let agentKubeconfig: string;
  const AGENT_USER = 'liqo-agent-e2e';
  const peers: Record<string, IdsServer> = {};

  const { kubectl, json } = kubectlOn(() => env.controlPlane);
  const fcExists = async (name: string) => (await kubectl(['get', 'foreignclusters', name])).code === 0;
  const zoneFor = (names: string[]) =>
    [
      `clusters.test. PTR ${names.map((n) => `${n}.clusters.test.`).join('\nclusters.test. PTR ')}`,
      ...names.map(
        (n) => `${n}.clusters.test. SRV 0 0 ${new URL(peers[n]!.url).port} auth-${n}.clusters.test.`,
      ),
      ...names.map((n) => `auth-${n}.clusters.test. A 127.0.0.1`),
    ].join('\n');

  before(async function () {
    this.timeout(240_000);
    env = await startLiqoEnvironment({ build: false, webhook: { allowLoopbackAuthUrl: true } });
    // the manifests' ClusterRole and Role, bound to a test user instead of the ServiceAccount
    agentKubeconfig = await bindAgentRbac(env.controlPlane, AGENT_USER);
    const keyPem = await testKeyPem();
    const cert = createServingCertificate({ commonName: 'peer', hosts: ['127.0.0.1'], keyPem });
    for (const id of ['peer-one', 'peer-two']) {
      peers[id] = await startIdsServer({
        ...cert,
        identity: { clusterId: id, clusterName: `${id}-name`, guestNamespace: 'liqo-guests' },
      });
    }
    peers['hangs'] = await startIdsServer({ ...cert, handler: () => {} });
    peers['lies'] = await startIdsServer({
      ...cert,
      handler: (_req: IncomingMessage, res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"clusterName":"no id here"}');
      },
    });
    bind = await startBind({
      zones: { 'clusters.test': zoneFor(['peer-one', 'peer-two', 'hangs', 'lies']) },
      ttl: 30,
    });
    agent = await startAgent(
      loopbackAgentOptions({
        kubeConfig: await loadKubeConfig({ kubeconfig: agentKubeconfig }),
        identity: 'test-agent',
        dnsServers: [bind.server],
        allowLoopback: true, // the peers here listen on 127.0.0.1
        log,
      }),
    );
  });

  after(async function () {
    this.timeout(60_000);
    await agent?.stop();
    await Promise.allSettled(Object.values(peers).map((p) => p.close()));
    await bind?.stop();
    await env?.stop();
  });

  it('serves this cluster identity on GET /ids, with the ClusterConfig name and the cluster-id ConfigMap id', async () => {
    assert.equal(agent.clusterId, env.clusterId);
    const patch = await kubectl([
      'patch',
      'clusterconfigs',
      'liqo-configuration',
      '--type',
      'merge',
      '--patch',
      '{"spec":{"discoveryConfig":{"clusterName":"agent-e2e"}}}',
    ]);
    assert.equal(patch.code, 0, patch.stderr);
    const body = await eventually('renamed /ids', async () => {
      const r = await httpGet(`https://127.0.0.1:${agent.idsPort}/ids`, { rejectUnauthorized: false });
      return r.body.includes('agent-e2e') ? r.body : undefined;
    });
    assert.deepEqual(JSON.parse(body), {
      clusterId: env.clusterId,
      clusterName: 'agent-e2e',
      guestNamespace: 'liqo',
      protocolVersion: 1,
    });
    const secret = await json<{ type: string }>(['-n', 'liqo', 'get', 'secret', 'liqo-agent-ids-tls']);
    assert.equal(secret.type, 'kubernetes.io/tls', 'the certificate is kept in a Secret');
  });

  it('holds the Lease and reports ready', async () => {
    await eventually('leader', async () => (agent.isLeader() ? true : undefined), 15_000);
    const lease = await json<{ spec: { holderIdentity: string } }>([
      '-n',
      'liqo',
      'get',
      'lease',
      'liqo-discovery-agent',
    ]);
    assert.equal(lease.spec.holderIdentity, 'test-agent');
    assert.equal((await httpGet(`http://127.0.0.1:${agent.healthPort}/readyz`)).status, 200);
  });

  it('turns a SearchDomain into WAN ForeignClusters, listing each entry and its error in the status', async () => {
    const apply = await kubectl(
      ['apply', '-f', '-'],
      'apiVersion: discovery.liqo.io/v1alpha1\nkind: SearchDomain\nmetadata:\n  name: clusters.test\nspec:\n  domain: clusters.test\n  autojoin: true\n',
    );
    assert.equal(apply.code, 0, apply.stderr);
    const status = await eventually('status with four entries', async () => {
      const sd = await json<SearchDomain>(['get', 'searchdomains', 'clusters.test']);
      return (sd.status?.clusters?.length ?? 0) >= 4 ? sd.status : undefined;
    });
    const byUrl = new Map(status!.clusters!.map((c) => [new URL(c.authUrl).hostname, c]));
    assert.equal(byUrl.get('auth-peer-one.clusters.test')?.foreignCluster, 'peer-one');
    assert.equal(byUrl.get('auth-peer-two.clusters.test')?.foreignCluster, 'peer-two');
    assert.match(byUrl.get('auth-hangs.clusters.test')?.error ?? '', /within|time/i);
    assert.match(byUrl.get('auth-lies.clusters.test')?.error ?? '', /clusterId/);
    const sd = await json<SearchDomain>(['get', 'searchdomains', 'clusters.test']);
    for (const id of ['peer-one', 'peer-two']) {
      const fc = await json<ForeignCluster>(['get', 'foreignclusters', id]);
      assert.equal(fc.spec.discoveryType, 'WAN');
      assert.equal(fc.spec.join, true);
      assert.equal(fc.spec.trustMode, 'Untrusted');
      assert.equal(fc.spec.namespace, 'liqo-guests');
      assert.equal(fc.spec.authUrl, `https://auth-${id}.clusters.test:${new URL(peers[id]!.url).port}`);
      assert.equal(fc.metadata.labels?.['discovery.liqo.io/searchdomain'], 'clusters.test');
      assert.equal(fc.metadata.ownerReferences?.[0]?.uid, sd.metadata.uid);
    }
  });

  it("keeps a user's join edit across re-resolutions", async () => {
    const patch = await kubectl([
      'patch',
      'foreignclusters',
      'peer-one',
      '--type',
      'merge',
      '--patch',
      '{"spec":{"join":false}}',
    ]);
    assert.equal(patch.code, 0, patch.stderr);
    const seen = (await json<SearchDomain>(['get', 'searchdomains', 'clusters.test'])).status?.lastResolved;
    await eventually('another resolution', async () => {
      const now = (await json<SearchDomain>(['get', 'searchdomains', 'clusters.test'])).status?.lastResolved;
      return now !== seen ? true : undefined;
    });
    assert.equal((await json<ForeignCluster>(['get', 'foreignclusters', 'peer-one'])).spec.join, false);
  });

  it('deletes the WAN ForeignClusters when their SearchDomain is deleted (no kube-controller-manager here)', async () => {
    assert.equal((await kubectl(['delete', 'searchdomain', 'clusters.test'])).code, 0);
    await eventually(
      'both gone',
      async () => (!(await fcExists('peer-one')) && !(await fcExists('peer-two')) ? true : undefined),
      20_000,
    );
  });

  it('fills a Manual ForeignCluster created with only authUrl, and explains a failure in a condition', async () => {
    const make = (name: string, url: string) =>
      kubectl(
        ['apply', '-f', '-'],
        `apiVersion: discovery.liqo.io/v1alpha1\nkind: ForeignCluster\nmetadata:\n  name: ${name}\nspec:\n  authUrl: "${url}"\n`,
      );
    assert.equal((await make('my-cluster', peers['peer-two']!.url)).code, 0);
    assert.equal((await make('stuck-cluster', peers['hangs']!.url)).code, 0);
    assert.equal((await make('myself', `https://127.0.0.1:${agent.idsPort}`)).code, 0);
    const filled = await eventually('filled', async () => {
      const fc = await json<ForeignCluster>(['get', 'foreignclusters', 'my-cluster']);
      return fc.spec.clusterIdentity?.clusterID ? fc : undefined;
    });
    assert.deepEqual(filled.spec.clusterIdentity, { clusterID: 'peer-two', clusterName: 'peer-two-name' });
    assert.equal(filled.spec.namespace, 'liqo-guests');
    assert.equal(filled.spec.trustMode, 'Untrusted');
    assert.equal(filled.spec.discoveryType, 'Manual');
    assert.equal(filled.metadata.labels?.['discovery.liqo.io/cluster-id'], 'peer-two');
    const cond = (name: string) => async () => {
      const fc = await json<ForeignCluster>(['get', 'foreignclusters', name]);
      return fc.status?.conditions?.find((c) => c.type === 'IdentityResolved');
    };
    assert.equal((await eventually('condition True', cond('my-cluster'))).status, 'True');
    const stuck = await eventually('condition on the hanging one', cond('stuck-cluster'));
    assert.equal(stuck.status, 'False');
    assert.equal(stuck.reason, 'TIMEOUT');
    const self = await eventually('condition on myself', cond('myself'));
    assert.equal(self.reason, 'LocalCluster');
    assert.ok(
      !(await json<ForeignCluster>(['get', 'foreignclusters', 'myself'])).spec.clusterIdentity?.clusterID,
    );
  });

  it('exposes its work in /metrics', async () => {
    const m = await httpGet(`http://127.0.0.1:${agent.healthPort}/metrics`);
    assert.match(m.body, /liqo_agent_is_leader 1/);
    assert.match(m.body, /liqo_agent_foreign_cluster_writes_total\{type="WAN",action="created"\} 2/);
    assert.match(m.body, /liqo_agent_identity_fetches_total\{outcome="TIMEOUT"\} [1-9]/);
  });

  it('runs with least privilege: no other Secrets, no other namespaces, no ClusterConfig writes', async () => {
    const canI = async (...args: string[]) =>
      (
        await env.controlPlane.kubectl([`--kubeconfig=${agentKubeconfig}`, 'auth', 'can-i', ...args])
      ).stdout.trim();
    assert.equal(await canI('list', 'secrets', '-n', 'liqo'), 'no');
    assert.equal(await canI('get', 'secrets/other', '-n', 'liqo'), 'no');
    assert.equal(await canI('get', 'secrets/liqo-agent-ids-tls', '-n', 'liqo'), 'yes');
    assert.equal(await canI('create', 'leases', '-n', 'default'), 'no');
    assert.equal(await canI('patch', 'clusterconfigs'), 'no');
    assert.equal(await canI('delete', 'searchdomains'), 'no');
    assert.equal(await canI('delete', 'foreignclusters'), 'yes');
  });

  it('releases the Lease on graceful stop', async () => {
    await agent.stop();
    const lease = await json<{ spec: { holderIdentity?: string } }>([
      '-n',
      'liqo',
      'get',
      'lease',
      'liqo-discovery-agent',
    ]);
    assert.ok(!lease.spec.holderIdentity);
  });
});
