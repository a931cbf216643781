// Why something is stuck, in the tables a user reads first (issue 15, items 3, 5 and 10): the
// real agent (in this process, mDNS off) writes ForeignCluster conditions and SearchDomain
// status against a real kube-apiserver + etcd with our CRDs and webhook, a real BIND serves the
// domains, and the tables are read through the real kubectl — `kubectl get` (the CRD's printer
// columns) and `kubectl liqo` (the bundled plugin on PATH).
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { ForeignCluster, SearchDomain } from '../../shared/api/types.js';
import { loadKubeConfig } from '../../shared/kube/config.js';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import { startAgent, type RunningAgent } from '../../agent/agent.js';
import { createLogger } from '../../agent/logger.js';
import { startLiqoEnvironment, type LiqoEnvironment } from '../harness/liqo-environment.js';
import { startBind, type RunningBind } from '../helpers/bind.js';
import { startIdsServer, testKeyPem, type IdsServer } from '../helpers/https-ids-server.js';
import { eventually, kubectlOn, loopbackAgentOptions } from './agent-cluster-fixture.js';
import { expectOneLineError, installPluginOnPath, type PluginOnPath } from './plugin-helpers.js';

/** A loopback port nothing listens on: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The data row of a table whose first cell is `name`, split on the column gaps. */
function rowOf(table: string, name: string): string[] {
  const line = table.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `no row for ${name} in:\n${table}`);
  return line.split(/ {3,}/);
}

/** A row's cell under a header: the text from the header's column to the next gap. */
function cellUnder(table: string, header: string, name: string): string {
  const lines = table.split('\n');
  const head = new RegExp(`(^|\\s)${header}(?=\\s|$)`).exec(lines[0] ?? '');
  assert.ok(head, `no ${header} column in:\n${table}`);
  const line = lines.find((l) => l.startsWith(`${name} `));
  assert.ok(line, `no row for ${name} in:\n${table}`);
  return line.slice(head.index + (head[1] ?? '').length).split(/ {3,}/)[0] ?? '';
}

describe('status in tables: kubectl get and kubectl liqo (e2e, real agent, BIND, kubectl)', function () {
  this.timeout(180_000);
  let env: LiqoEnvironment;
  let plugin: PluginOnPath;
  let bind: RunningBind;
  let agent: RunningAgent;
  let peer: IdsServer;
  let refusingPort: number;

  const { kubectl, json } = kubectlOn(() => env.controlPlane);
  const liqo = (args: string[]) =>
    plugin.run(args, { env: { KUBECONFIG: env.controlPlane.adminKubeconfig, NO_COLOR: '1' } });

  before(async function () {
    this.timeout(240_000);
    [env, plugin] = await Promise.all([
      startLiqoEnvironment({ build: false, webhook: { allowLoopbackAuthUrl: true } }),
      installPluginOnPath(),
    ]);
    const cert = createServingCertificate({
      commonName: 'peer',
      hosts: ['127.0.0.1'],
      keyPem: await testKeyPem(),
    });
    peer = await startIdsServer({
      ...cert,
      identity: { clusterId: 'peer-one', clusterName: 'peer-one-name', guestNamespace: 'liqo' },
    });
    refusingPort = await closedPort();
    bind = await startBind({
      zones: {
        // two clusters; the second one's auth service is down
        'clusters.test': [
          'clusters.test. PTR one.clusters.test.',
          'clusters.test. PTR gone.clusters.test.',
          `one.clusters.test. SRV 0 0 ${new URL(peer.url).port} auth-one.clusters.test.`,
          `gone.clusters.test. SRV 0 0 ${refusingPort} auth-gone.clusters.test.`,
          'auth-one.clusters.test. A 127.0.0.1',
          'auth-gone.clusters.test. A 127.0.0.1',
        ].join('\n'),
        // a domain that exists but publishes no cluster
        'empty.test': 'www.empty.test. A 127.0.0.1',
      },
      ttl: 30,
    });
    agent = await startAgent(
      loopbackAgentOptions({
        kubeConfig: await loadKubeConfig({ kubeconfig: env.controlPlane.adminKubeconfig }),
        identity: 'status-e2e-agent',
        dnsServers: [bind.server],
        allowLoopback: true, // the peers here listen on 127.0.0.1
        log: createLogger(process.env['AGENT_TEST_LOG'] ?? 'silent'),
      }),
    );
  });

  after(async function () {
    this.timeout(60_000);
    await agent?.stop();
    await peer?.close();
    await bind?.stop();
    await env?.stop();
    plugin?.remove();
  });

  it('a ForeignCluster the agent cannot resolve shows READY False and the reason in kubectl get and liqo list', async () => {
    const make = (name: string, url: string) =>
      kubectl(
        ['apply', '-f', '-'],
        `apiVersion: discovery.liqo.io/v1alpha1\nkind: ForeignCluster\nmetadata:\n  name: ${name}\nspec:\n  authUrl: "${url}"\n`,
      );
    assert.equal((await make('refused', `https://127.0.0.1:${refusingPort}`)).code, 0);
    assert.equal((await make('myself', `https://127.0.0.1:${agent.idsPort}`)).code, 0);
    assert.equal((await make('resolved', peer.url)).code, 0);
    const reasonOf = (name: string) => async () => {
      const fc = await json<ForeignCluster>(['get', 'foreignclusters', name]);
      return fc.status?.conditions?.find((c) => c.type === 'IdentityResolved')?.reason;
    };
    await eventually('refused condition', reasonOf('refused'));
    await eventually('myself condition', reasonOf('myself'));
    await eventually('resolved condition', reasonOf('resolved'));

    const get = await kubectl(['get', 'foreignclusters']);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^NAME\s+CLUSTER-ID\s+CLUSTER-NAME\s+READY\s+REASON\s+JOIN\s/);
    assert.equal(cellUnder(get.stdout, 'READY', 'refused'), 'False');
    assert.equal(cellUnder(get.stdout, 'REASON', 'refused'), 'REFUSED');
    assert.equal(cellUnder(get.stdout, 'READY', 'myself'), 'False');
    assert.equal(cellUnder(get.stdout, 'REASON', 'myself'), 'LocalCluster');
    assert.equal(cellUnder(get.stdout, 'READY', 'resolved'), 'True');
    assert.equal(cellUnder(get.stdout, 'CLUSTER-ID', 'resolved'), 'peer-one');
    const getWide = await kubectl(['get', 'foreignclusters', '-o', 'wide']);
    assert.match(rowOf(getWide.stdout, 'refused').join(' '), /connection refused/);
    assert.match(rowOf(getWide.stdout, 'myself').join(' '), /is this cluster itself/);

    const list = await liqo(['list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^NAME\s+CLUSTER-ID\s+.*\s+JOINED\s+READY\s+REASON\n/);
    assert.equal(cellUnder(list.stdout, 'READY', 'refused'), 'False');
    assert.equal(cellUnder(list.stdout, 'REASON', 'refused'), 'REFUSED');
    assert.equal(cellUnder(list.stdout, 'REASON', 'myself'), 'LocalCluster');
    assert.equal(cellUnder(list.stdout, 'READY', 'resolved'), 'True');
    const wide = await liqo(['list', '-o', 'wide']);
    assert.equal(wide.code, 0, wide.stderr);
    assert.match(wide.stdout, /\sAGE\s+MESSAGE\n/);
    assert.match(cellUnder(wide.stdout, 'MESSAGE', 'refused'), /connection refused/);
    assert.match(cellUnder(wide.stdout, 'MESSAGE', 'myself'), /this cluster itself/);
  });

  it('search-domain list shows the error of a domain with no records and of an unreachable cluster', async () => {
    for (const domain of ['clusters.test', 'empty.test']) {
      const r = await liqo(['search-domain', 'add', domain]);
      assert.equal(r.code, 0, r.stderr);
    }
    await eventually('both resolved', async () => {
      const list = await json<{ items: SearchDomain[] }>(['get', 'searchdomains']);
      const done = list.items.filter((sd) => (sd.status?.clusters?.length ?? 0) > 0);
      return done.length === 2 && done.find((sd) => sd.status?.clusters?.length === 2) ? true : undefined;
    });
    const r = await liqo(['search-domain', 'list']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NAME\s+DOMAIN\s+AUTOJOIN\s+CLUSTERS\s+LAST-RESOLVED\s+ERROR\n/);
    assert.equal(cellUnder(r.stdout, 'CLUSTERS', 'empty.test'), '0');
    assert.match(cellUnder(r.stdout, 'ERROR', 'empty.test'), /^empty\.test: no PTR records at empty\.test/);
    assert.equal(cellUnder(r.stdout, 'CLUSTERS', 'clusters.test'), '2');
    assert.match(
      cellUnder(r.stdout, 'ERROR', 'clusters.test'),
      /^1 of 2 unreachable: gone\.clusters\.test: .*connection refused/,
    );
    const wide = await liqo(['search-domain', 'list', '-o', 'wide']);
    assert.match(wide.stdout, /LAST-RESOLVED\s+AGE\s+ERROR\n/);
    assert.match(cellUnder(wide.stdout, 'ERROR', 'empty.test'), /no PTR records/);
  });

  it('search-domain add refuses a bad domain or object name in one line of ours, before sending', async () => {
    const apiServerPattern = /\[a-z0-9\]\(\[-a-z0-9\]\*\[a-z0-9\]\)\?/;
    const badDomain = expectOneLineError(
      await liqo(['search-domain', 'add', 'not a domain']),
      /^error: search-domain add: spec\.domain: "not a domain" has label .* \(accepted: a DNS name such as example\.com/,
    );
    assert.doesNotMatch(badDomain, apiServerPattern);
    // a valid domain (DNS-SD labels have '_') that makes no valid object name
    const badName = expectOneLineError(
      await liqo(['search-domain', 'add', '_liqo._tcp.Example.com']),
      /^error: search-domain add: metadata\.name: "_liqo\._tcp\.example\.com" \(made from the domain\) is not a valid object name \(accepted: .*\); choose one with --name, e\.g\. --name liqo\.tcp\.example\.com$/,
    );
    assert.doesNotMatch(badName, apiServerPattern);
    expectOneLineError(
      await liqo(['search-domain', 'add', 'example.com', '--name', 'Not_Valid']),
      /^error: search-domain add: --name: "Not_Valid" is not a valid object name \(accepted: /,
    );
    const sds = await json<{ items: SearchDomain[] }>(['get', 'searchdomains']);
    assert.ok(!sds.items.some((sd) => /example\.com/i.test(sd.spec.domain)), 'nothing was written');
    // the suggested name is one the API server takes
    const fixed = await liqo([
      'search-domain',
      'add',
      '_liqo._tcp.Example.com',
      '--name',
      'liqo.tcp.example.com',
    ]);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.equal(fixed.stdout, 'searchdomain.discovery.liqo.io/liqo.tcp.example.com created\n');
  });
});
