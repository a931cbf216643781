// Events: the history a person needs in `kubectl describe foreignclusters` and `kubectl get
// events`. The whole agent (startAgent, in this process, mDNS off) against a real API server,
// running as a user that holds exactly the RBAC of manifests/agent (so Events are allowed by
// it), a real BIND serving a SearchDomain, and a real HTTPS /ids peer. Checked through kubectl:
//  - a Manual ForeignCluster whose /ids fails, then is corrected: IdentityNotResolved (Warning)
//    once, then IdentityResolved (Normal), in `kubectl describe`;
//  - a SearchDomain whose only entry fails: ResolutionFailed once (not at every pass); fixed in
//    the zone: ResolutionRecovered, and the ForeignCluster it creates has a Discovered Event;
//  - the SearchDomain deleted: its ForeignCluster is deleted with a Deleted Event.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CoreV1Event } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../shared/kube/config.js';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import { startAgent, type RunningAgent } from '../../agent/agent.js';
import { createLogger } from '../../agent/logger.js';
import { boundedEntries } from '../../agent/searchdomain-discovery.js';
import { MAX_SEARCH_DOMAIN_STATUS_CLUSTERS } from '../../shared/api/schemas.js';
import type { ControlPlane } from '../harness/control-plane.js';
import { freePort } from '../harness/network.js';
import { startBind, type RunningBind } from '../helpers/bind.js';
import { GUIDE_IDENTITY, startIdsServer, testKeyPem, type IdsServer } from '../helpers/https-ids-server.js';
import {
  bindAgentRbac,
  eventually,
  loopbackAgentOptions,
  startLiqoControlPlane,
} from './agent-cluster-fixture.js';

const log = createLogger(process.env['AGENT_TEST_LOG'] ?? 'silent');
const AGENT_USER = 'liqo-agent-events';

describe('agent Events (kubectl describe / get events)', function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let bind: RunningBind;
  let agent: RunningAgent;
  let peer: IdsServer;
  /** Found through the SearchDomain (another cluster than the Manual one's). */
  let sdPeer: IdsServer;
  const SD_PEER_ID = 'searchdomain-peer';
  let closedPort: number;

  const kubectl = (args: string[], input?: string) => cp.kubectl(args, input === undefined ? {} : { input });
  const events = async (kind: string, name: string): Promise<CoreV1Event[]> => {
    const r = await kubectl([
      'get',
      'events',
      '--all-namespaces',
      '--field-selector',
      `involvedObject.kind=${kind},involvedObject.name=${name}`,
      '-o',
      'json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { items: CoreV1Event[] }).items;
  };
  const eventWith = (kind: string, name: string, reason: string) =>
    eventually(`${kind} ${name}: Event ${reason}`, async () =>
      (await events(kind, name)).find((e) => e.reason === reason),
    );
  const zone = (port: number) =>
    [
      'clusters.test. PTR peer.clusters.test.',
      `peer.clusters.test. SRV 0 0 ${port} auth.clusters.test.`,
      'auth.clusters.test. A 127.0.0.1',
    ].join('\n');

  before(async function () {
    this.timeout(240_000);
    cp = await startLiqoControlPlane();
    // bound to every Role of the manifest, wherever it lives (Events may need their own)
    const agentKubeconfig = await bindAgentRbac(cp, AGENT_USER);
    const keyPem = await testKeyPem();
    const cert = createServingCertificate({ commonName: 'peer', hosts: ['127.0.0.1'], keyPem });
    peer = await startIdsServer({ ...cert, identity: GUIDE_IDENTITY });
    sdPeer = await startIdsServer({ ...cert, identity: { clusterId: SD_PEER_ID, clusterName: 'sd-peer' } });
    closedPort = await freePort();
    bind = await startBind({ zones: { 'clusters.test': zone(closedPort) }, ttl: 30 });
    agent = await startAgent(
      loopbackAgentOptions({
        kubeConfig: await loadKubeConfig({ kubeconfig: agentKubeconfig }),
        identity: 'events-agent',
        dnsServers: [bind.server],
        searchDomainIntervalMs: 1000,
        allowLoopback: true, // the peer listens on 127.0.0.1
        log,
      }),
    );
    await eventually('leads', async () => (agent.isLeader() ? true : undefined));
  });

  after(async function () {
    this.timeout(60_000);
    await agent?.stop();
    await Promise.allSettled([peer?.close(), sdPeer?.close()]);
    await bind?.stop();
    await cp?.stop();
  });

  it('a Manual ForeignCluster: IdentityNotResolved once, then IdentityResolved, both in kubectl describe', async () => {
    const apply = await kubectl(
      ['apply', '-f', '-'],
      `apiVersion: discovery.liqo.io/v1alpha1\nkind: ForeignCluster\nmetadata:\n  name: typed-in\nspec:\n  authUrl: "https://127.0.0.1:${closedPort}"\n`,
    );
    assert.equal(apply.code, 0, apply.stderr);
    const failed = await eventWith('ForeignCluster', 'typed-in', 'IdentityNotResolved');
    assert.equal(failed.type, 'Warning');
    assert.match(failed.message ?? '', new RegExp(`REFUSED: .*127\\.0\\.0\\.1:${closedPort}`));
    const patch = await kubectl([
      'patch',
      'foreignclusters',
      'typed-in',
      '--type=merge',
      '--patch',
      JSON.stringify({ spec: { authUrl: peer.url } }),
    ]);
    assert.equal(patch.code, 0, patch.stderr);
    const resolved = await eventWith('ForeignCluster', 'typed-in', 'IdentityResolved');
    assert.equal(resolved.type, 'Normal');
    assert.match(resolved.message ?? '', new RegExp(GUIDE_IDENTITY.clusterId));

    const describe = await kubectl(['describe', 'foreignclusters', 'typed-in']);
    assert.equal(describe.code, 0, describe.stderr);
    const history = describe.stdout.slice(describe.stdout.indexOf('Events:'));
    assert.match(history, /Warning\s+IdentityNotResolved\s+.*liqo-discovery-agent/);
    assert.match(history, /Normal\s+IdentityResolved\s+.*liqo-discovery-agent/);
  });

  it('a SearchDomain: ResolutionFailed once, ResolutionRecovered when fixed; its ForeignCluster Discovered, then Deleted with it', async () => {
    const apply = await kubectl(
      ['apply', '-f', '-'],
      'apiVersion: discovery.liqo.io/v1alpha1\nkind: SearchDomain\nmetadata:\n  name: clusters.test\nspec:\n  domain: clusters.test\n',
    );
    assert.equal(apply.code, 0, apply.stderr);
    const failed = await eventWith('SearchDomain', 'clusters.test', 'ResolutionFailed');
    assert.equal(failed.type, 'Warning');
    assert.match(
      failed.message ?? '',
      new RegExp(`auth\\.clusters\\.test:${closedPort}/ids: connection refused`),
    );
    // a few more failing passes (one a second) add no Event and no count
    const lastResolved = async () =>
      (
        JSON.parse((await kubectl(['get', 'searchdomains', 'clusters.test', '-o', 'json'])).stdout) as {
          status?: { lastResolved?: string };
        }
      ).status?.lastResolved;
    const first = await lastResolved();
    await eventually('three more passes', async () => {
      const now = await lastResolved();
      return now && first && Date.parse(now) - Date.parse(first) >= 3000 ? true : undefined;
    });
    const stillOne = (await events('SearchDomain', 'clusters.test')).filter(
      (e) => e.reason === 'ResolutionFailed',
    );
    assert.equal(stillOne.length, 1);
    assert.equal(stillOne[0]?.count ?? 1, 1, 'a failing pass after a failing pass is no new Event');

    await bind.setZone('clusters.test', zone(Number(new URL(sdPeer.url).port)));
    const recovered = await eventWith('SearchDomain', 'clusters.test', 'ResolutionRecovered');
    assert.equal(recovered.type, 'Normal');
    assert.match(recovered.message ?? '', /1 cluster found/);
    const discovered = await eventWith('ForeignCluster', SD_PEER_ID, 'Discovered');
    assert.match(
      discovered.message ?? '',
      /found by SearchDomain clusters\.test at https:\/\/auth\.clusters\.test:/,
    );
    const describe = await kubectl(['describe', 'searchdomains', 'clusters.test']);
    assert.match(describe.stdout, /Warning\s+ResolutionFailed/);
    assert.match(describe.stdout, /Normal\s+ResolutionRecovered/);

    assert.equal((await kubectl(['delete', 'searchdomains', 'clusters.test'])).code, 0);
    const deleted = await eventWith('ForeignCluster', SD_PEER_ID, 'Deleted');
    assert.match(deleted.message ?? '', /SearchDomain clusters\.test is gone; deleted/);
    assert.notEqual((await kubectl(['get', 'foreignclusters', SD_PEER_ID])).code, 0);
  });

  it('SearchDomain.status as the agent bounds it is accepted by the API server; one entry more is refused', async () => {
    const entries = Array.from({ length: 1500 }, (_, i) => ({
      clusterId: `c${i}`,
      authUrl: `https://c${i}.clusters.test:443`,
      error: `c${i}: ${'x'.repeat(2000)}`,
    }));
    const bounded = boundedEntries(entries);
    const apply = await kubectl(
      ['apply', '-f', '-'],
      'apiVersion: discovery.liqo.io/v1alpha1\nkind: SearchDomain\nmetadata:\n  name: big.test\nspec:\n  domain: big.test\n',
    );
    assert.equal(apply.code, 0, apply.stderr);
    // the patch is too long for one command-line argument: a file
    const patchFile = join(cp.dir, 'big-status.json');
    const patch = (status: unknown) => {
      writeFileSync(patchFile, JSON.stringify({ status }));
      return kubectl([
        'patch',
        'searchdomains',
        'big.test',
        '--subresource=status',
        '--type=merge',
        `--patch-file=${patchFile}`,
        '-o',
        'json',
      ]);
    };
    const accepted = await patch({ lastResolved: new Date().toISOString(), ...bounded });
    assert.equal(accepted.code, 0, accepted.stderr);
    // what the server stored, as it answered the patch (the agent re-resolves big.test meanwhile)
    const stored = JSON.parse(accepted.stdout) as {
      status: { clusters: unknown[]; clustersOmitted: number };
    };
    assert.equal(stored.status.clusters.length, MAX_SEARCH_DOMAIN_STATUS_CLUSTERS);
    assert.equal(stored.status.clustersOmitted, 500);
    const tooMany = await patch({
      clusters: [...(bounded.clusters ?? []), { authUrl: 'https://one.more:1' }],
    });
    assert.notEqual(tooMany.code, 0);
    assert.match(tooMany.stderr, /status\.clusters: Too many: 1001: must have at most 1000 items/);
  });

  it("least privilege: the agent's RBAC reads and writes no Secret but its own", async () => {
    const can = async (...args: string[]) =>
      (await kubectl(['auth', 'can-i', ...args, '-n', 'liqo', `--as=${AGENT_USER}`])).stdout.trim();
    assert.equal(await can('get', 'secrets/liqo-agent-ids-tls'), 'yes');
    assert.equal(await can('update', 'secrets/liqo-agent-ids-tls'), 'yes');
    for (const verb of ['get', 'update', 'patch', 'delete']) {
      assert.equal(await can(verb, 'secrets/liqo-webhook-tls'), 'no', `${verb} another Secret`);
    }
    assert.equal(await can('list', 'secrets'), 'no');
    assert.equal(await can('watch', 'secrets'), 'no');
    assert.equal(
      (
        await kubectl(['auth', 'can-i', 'get', 'secrets', '--all-namespaces', `--as=${AGENT_USER}`])
      ).stdout.trim(),
      'no',
    );
  });
});
