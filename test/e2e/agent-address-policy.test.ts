// The agent's connect-time address policy as a user sees it (SPEC §"Security"): the whole agent
// (startAgent, in this process, mDNS off, WITHOUT --allow-loopback) against the harness's real
// kube-apiserver and webhook (which allows loopback auth URLs, so the text passes admission and
// only the agent's own check stands between it and the peer). A Manual ForeignCluster naming a
// loopback peer gets `IdentityResolved` False with reason ADDRESS_REFUSED and one line naming
// host, address and class; a SearchDomain whose record points at 169.254.169.254 gets the same
// reason in its status and no ForeignCluster. The "victim" /ids server on those addresses counts
// TCP connections: none. Checked through the real kubectl.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { ForeignCluster, SearchDomain } from '../../shared/api/types.js';
import { loadKubeConfig } from '../../shared/kube/config.js';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import { startAgent, type RunningAgent } from '../../agent/agent.js';
import { createLogger } from '../../agent/logger.js';
import { startLiqoEnvironment, type LiqoEnvironment } from '../harness/liqo-environment.js';
import { startBind, type RunningBind } from '../helpers/bind.js';
import { testKeyPem } from '../helpers/https-ids-server.js';
import { eventually, kubectlOn, loopbackAgentOptions } from './agent-cluster-fixture.js';

describe('agent address policy end to end (ForeignCluster condition, SearchDomain status)', function () {
  this.timeout(120_000);
  let env: LiqoEnvironment;
  let bind: RunningBind;
  let agent: RunningAgent;
  let victim: Server;
  let victimPort: number;
  let connections = 0;
  const sockets = new Set<Socket>();

  const { kubectl, json } = kubectlOn(() => env.controlPlane);

  before(async function () {
    this.timeout(240_000);
    env = await startLiqoEnvironment({ build: false, webhook: { allowLoopbackAuthUrl: true } });
    const keyPem = await testKeyPem();
    const cert = createServingCertificate({
      commonName: 'victim',
      hosts: ['127.0.0.1', 'localhost'],
      keyPem,
    });
    victim = createServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"clusterId":"victim"}');
    });
    victim.on('connection', (socket: Socket) => {
      connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => victim.listen(0, '127.0.0.1', resolve));
    victimPort = (victim.address() as AddressInfo).port;
    bind = await startBind({
      zones: {
        'steered.test': [
          'steered.test. PTR metadata.steered.test.',
          `metadata.steered.test. SRV 0 0 ${victimPort} auth.steered.test.`,
          'auth.steered.test. A 169.254.169.254',
        ].join('\n'),
      },
      ttl: 30,
    });
    agent = await startAgent(
      loopbackAgentOptions({
        kubeConfig: await loadKubeConfig({ kubeconfig: env.controlPlane.adminKubeconfig }),
        identity: 'policy-e2e-agent',
        dnsServers: [bind.server],
        // allowLoopback left out: the agent's default, as installed
        log: createLogger(process.env['AGENT_TEST_LOG'] ?? 'silent'),
      }),
    );
  });

  after(async function () {
    this.timeout(60_000);
    await agent?.stop();
    for (const socket of sockets) socket.destroy();
    if (victim) await new Promise((resolve) => victim.close(resolve));
    await bind?.stop();
    await env?.stop();
  });

  it('a Manual ForeignCluster whose host is or resolves to loopback: ADDRESS_REFUSED in one line, no connection', async () => {
    const make = (name: string, url: string) =>
      kubectl(
        ['apply', '-f', '-'],
        `apiVersion: discovery.liqo.io/v1alpha1\nkind: ForeignCluster\nmetadata:\n  name: ${name}\nspec:\n  authUrl: "${url}"\n`,
      );
    const cases: [string, string, RegExp][] = [
      [
        'by-name',
        `https://localhost:${victimPort}`,
        /^https:\/\/localhost:\d+\/ids: localhost resolves to (127\.0\.0\.1|::1), a loopback address; refused \(loopback is reached only with --allow-loopback\)/,
      ],
      [
        'by-literal',
        `https://127.0.0.1:${victimPort}`,
        /^https:\/\/127\.0\.0\.1:\d+\/ids: 127\.0\.0\.1 is a loopback address; refused/,
      ],
    ];
    for (const [name, url] of cases) {
      const r = await make(name, url);
      assert.equal(r.code, 0, r.stderr);
    }
    for (const [name, , message] of cases) {
      const condition = await eventually(`${name}: IdentityResolved`, async () => {
        const fc = await json<ForeignCluster>(['get', 'foreignclusters', name]);
        return fc.status?.conditions?.find((c) => c.type === 'IdentityResolved');
      });
      assert.equal(condition.status, 'False');
      assert.equal(condition.reason, 'ADDRESS_REFUSED');
      assert.match(condition.message ?? '', message);
      assert.doesNotMatch(condition.message ?? '', /\n/, 'one line');
      const fc = await json<ForeignCluster>(['get', 'foreignclusters', name]);
      assert.equal(fc.spec.clusterIdentity?.clusterID, undefined, 'no identity filled');
    }
    assert.equal(connections, 0, 'the victim saw a connection');
  });

  it('a SearchDomain whose record points at 169.254.169.254: the reason in its status, no ForeignCluster, no connection', async () => {
    const r = await kubectl(
      ['apply', '-f', '-'],
      'apiVersion: discovery.liqo.io/v1alpha1\nkind: SearchDomain\nmetadata:\n  name: steered.test\nspec:\n  domain: steered.test\n  autojoin: true\n',
    );
    assert.equal(r.code, 0, r.stderr);
    const entry = await eventually('SearchDomain status', async () => {
      const sd = await json<SearchDomain>(['get', 'searchdomains', 'steered.test']);
      return sd.status?.clusters?.find((c) => c.error);
    });
    assert.match(
      entry.error ?? '',
      /auth\.steered\.test resolves to 169\.254\.169\.254, a link-local address; refused/,
    );
    const fcs = await json<{ items: ForeignCluster[] }>(['get', 'foreignclusters']);
    assert.deepEqual(
      fcs.items.filter((fc) => fc.spec.discoveryType === 'WAN').map((fc) => fc.metadata.name),
      [],
    );
    assert.equal(connections, 0, 'the victim saw a connection');
  });
});
