// Identity pinning end to end (issue 17 part 3, SPEC §"Security"): the whole agent (in this
// process, mDNS off, with exactly the RBAC of manifests/agent) against the harness's Liqo
// environment, a real BIND serving a SearchDomain, and a real HTTPS /ids peer that is
// "restarted" with a new certificate and then a new cluster id at the same URL. Checked through
// the real kubectl and the real `kubectl liqo` plugin.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ForeignCluster, SearchDomain } from '../../shared/api/types.js';
import type { ClusterIdentityResponse } from '../../shared/api/types.js';
import { loadKubeConfig } from '../../shared/kube/config.js';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import { startAgent, type RunningAgent } from '../../agent/agent.js';
import { createLogger } from '../../agent/logger.js';
import { startLiqoEnvironment, type LiqoEnvironment } from '../harness/liqo-environment.js';
import { startBind, type RunningBind } from '../helpers/bind.js';
import { testKeyPem } from '../helpers/https-ids-server.js';
import { bindAgentRbac, eventually, kubectlOn, loopbackAgentOptions } from './agent-cluster-fixture.js';
import { expectOneLineError, installPluginOnPath, type PluginOnPath } from './plugin-helpers.js';

const log = createLogger(process.env['AGENT_TEST_LOG'] ?? 'silent');

/** An /ids peer whose identity and certificate can be swapped while it keeps its URL. */
class SwappablePeer {
  private identity: ClusterIdentityResponse;
  private readonly server: Server;
  port = 0;

  constructor(cert: { certPem: string; keyPem: string }, identity: ClusterIdentityResponse) {
    this.identity = identity;
    this.server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
      if (!(req.url ?? '').split('?')[0]?.endsWith('/ids')) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.identity));
    });
    this.server.on('tlsClientError', () => undefined);
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** As a restart with new settings: new connections get the new certificate and identity. */
  swap(cert: { certPem: string; keyPem: string }, identity: ClusterIdentityResponse): void {
    this.server.setSecureContext({ cert: cert.certPem, key: cert.keyPem });
    this.server.closeAllConnections();
    this.identity = identity;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

describe('agent identity pinning (IdentityChanged, Event, no autojoin, join --accept-identity)', function () {
  this.timeout(120_000);
  let env: LiqoEnvironment;
  let bind: RunningBind;
  let agent: RunningAgent;
  let plugin: PluginOnPath;
  let peer: SwappablePeer;
  const AGENT_USER = 'liqo-agent-pinning';
  const certs: Array<{ certPem: string; keyPem: string }> = [];

  const { kubectl, json } = kubectlOn(() => env.controlPlane);
  const liqo = (args: string[]) =>
    plugin.run(args, { env: { KUBECONFIG: env.controlPlane.adminKubeconfig, NO_COLOR: '1' } });
  const fc = (name: string) => json<ForeignCluster>(['get', 'foreignclusters', name]);
  const fcExists = async (name: string) => (await kubectl(['get', 'foreignclusters', name])).code === 0;
  const identityChanged = (f: ForeignCluster) =>
    f.status?.conditions?.find((c) => c.type === 'IdentityChanged');
  const authUrl = () => `https://localhost:${peer.port}`;
  /** Two more SearchDomain resolutions: whatever the agent does per sighting has been done. */
  const twoResolutions = async () => {
    for (let i = 0; i < 2; i++) {
      const seen = (await json<SearchDomain>(['get', 'searchdomains', 'clusters.test'])).status?.lastResolved;
      await eventually('another resolution', async () => {
        const now = (await json<SearchDomain>(['get', 'searchdomains', 'clusters.test'])).status
          ?.lastResolved;
        return now !== seen ? true : undefined;
      });
    }
  };
  const fingerprintOf = async (certPem: string) => {
    const { X509Certificate } = await import('node:crypto');
    return new X509Certificate(certPem).fingerprint256;
  };

  before(async function () {
    this.timeout(240_000);
    [env, plugin] = await Promise.all([
      startLiqoEnvironment({ build: false, webhook: { allowLoopbackAuthUrl: true } }),
      installPluginOnPath(),
    ]);
    const agentKubeconfig = await bindAgentRbac(env.controlPlane, AGENT_USER);
    const keyPem = await testKeyPem();
    for (let i = 0; i < 3; i++) {
      certs.push(createServingCertificate({ commonName: `peer-${i}`, hosts: ['127.0.0.1'], keyPem }));
    }
    peer = new SwappablePeer(certs[0]!, { clusterId: 'alpha', clusterName: 'alpha-name' });
    await peer.listen();
    bind = await startBind({
      zones: {
        'clusters.test': [
          'clusters.test. PTR alpha.clusters.test.',
          // a target the plugin's system resolver knows too (the plugin has no --dns-server)
          `alpha.clusters.test. SRV 0 0 ${peer.port} localhost.`,
        ].join('\n'),
        // the agent resolves SRV targets with this server only
        localhost: 'localhost. A 127.0.0.1',
      },
      ttl: 30,
    });
    agent = await startAgent(
      loopbackAgentOptions({
        kubeConfig: await loadKubeConfig({ kubeconfig: agentKubeconfig }),
        identity: 'pinning-agent',
        dnsServers: [bind.server],
        searchDomainIntervalMs: 1000,
        allowLoopback: true,
        log,
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

  it('pins the first answer of a discovered cluster in status', async () => {
    const apply = await kubectl(
      ['apply', '-f', '-'],
      'apiVersion: discovery.liqo.io/v1alpha1\nkind: SearchDomain\nmetadata:\n  name: clusters.test\nspec:\n  domain: clusters.test\n  autojoin: false\n',
    );
    assert.equal(apply.code, 0, apply.stderr);
    const pinned = await eventually('alpha pinned', async () =>
      (await fcExists('alpha')) ? (await fc('alpha')).status?.pinnedIdentity : undefined,
    );
    assert.equal(pinned.clusterID, 'alpha');
    assert.equal(pinned.certificateFingerprint, await fingerprintOf(certs[0]!.certPem));
    assert.equal(pinned.authUrl, authUrl());
    assert.equal((await fc('alpha')).spec.join, false);
  });

  it('a new certificate for the pinned id: IdentityChanged with old and new, a Warning Event, pin kept, no autojoin', async () => {
    const before = await fc('alpha');
    peer.swap(certs[1]!, { clusterId: 'alpha', clusterName: 'alpha-name' });
    const condition = await eventually('IdentityChanged', async () => {
      const c = identityChanged(await fc('alpha'));
      return c?.status === 'True' ? c : undefined;
    });
    const [oldFp, newFp] = [await fingerprintOf(certs[0]!.certPem), await fingerprintOf(certs[1]!.certPem)];
    assert.equal(condition.reason, 'CertificateChanged');
    assert.ok(condition.message?.includes(oldFp) && condition.message.includes(newFp), condition.message);
    assert.match(condition.message ?? '', /kubectl liqo join alpha --accept-identity/);
    // autojoin is switched on now: for any other cluster the agent would set join
    const on = await kubectl([
      'patch',
      'searchdomain',
      'clusters.test',
      '--type',
      'merge',
      '--patch',
      '{"spec":{"autojoin":true}}',
    ]);
    assert.equal(on.code, 0, on.stderr);
    await twoResolutions();
    const after = await fc('alpha');
    assert.equal(after.spec.join, false, 'join set by autojoin despite IdentityChanged');
    assert.deepEqual(after.status?.pinnedIdentity, before.status?.pinnedIdentity);
    assert.equal(after.status?.changedIdentity?.certificateFingerprint, newFp);
    assert.equal(after.metadata.annotations?.['discovery.liqo.io/certificate-sha256'], oldFp);

    const describe = await kubectl(['describe', 'foreignclusters', 'alpha']);
    assert.equal(describe.code, 0, describe.stderr);
    assert.match(describe.stdout, /Warning\s+IdentityChanged\s+.*liqo-discovery-agent/);
    const events = await json<{
      items: Array<{ type: string; reason: string; count?: number; message: string }>;
    }>([
      'get',
      'events',
      '-n',
      'default',
      '--field-selector',
      'involvedObject.name=alpha,reason=IdentityChanged',
    ]);
    // one Event for one change, however often it was seen since
    assert.equal(events.items.length, 1);
    assert.equal(events.items[0]?.type, 'Warning');
    assert.ok(events.items[0]?.message.includes(newFp));
  });

  it('kubectl liqo list shows it; a plain join is refused; join --accept-identity re-pins, clears it and joins', async () => {
    const list = await liqo(['list']);
    assert.equal(list.code, 0, list.stderr);
    const row = list.stdout.split('\n').find((l) => l.startsWith('alpha '));
    assert.match(row ?? '', /\bFalse\s+IdentityChanged\b/);

    expectOneLineError(await liqo(['join', 'alpha']), /identity changed.*--accept-identity/);
    assert.equal((await fc('alpha')).spec.join, false);

    const accept = await liqo(['join', 'alpha', '--accept-identity']);
    assert.equal(accept.code, 0, accept.stderr);
    assert.match(accept.stdout, /foreigncluster\.discovery\.liqo\.io\/alpha configured: identity accepted/);
    const newFp = await fingerprintOf(certs[1]!.certPem);
    const accepted = await fc('alpha');
    assert.equal(accepted.spec.join, true);
    assert.equal(accepted.status?.pinnedIdentity?.certificateFingerprint, newFp);
    assert.equal(accepted.status?.changedIdentity, undefined);
    assert.equal(identityChanged(accepted)?.status, 'False');
    assert.equal(identityChanged(accepted)?.reason, 'Accepted');
    await twoResolutions();
    assert.equal(
      identityChanged(await fc('alpha'))?.status,
      'False',
      'the accepted identity was flagged again',
    );
  });

  it('a joined peer restarted with another cluster id: the old object is flagged, the new id is not joined; accepting moves the peering to it', async () => {
    peer.swap(certs[2]!, { clusterId: 'beta', clusterName: 'beta-name' });
    const condition = await eventually('IdentityChanged on alpha', async () => {
      const c = identityChanged(await fc('alpha'));
      return c?.status === 'True' ? c : undefined;
    });
    assert.equal(condition.reason, 'ClusterIDChanged');
    assert.match(condition.message ?? '', /answered as cluster beta .*cluster alpha at/);
    await twoResolutions();
    assert.equal(await fcExists('beta'), false, 'a ForeignCluster was made (and autojoined) for the new id');
    assert.equal((await fc('alpha')).status?.changedIdentity?.clusterID, 'beta');
    const describe = await kubectl(['describe', 'foreignclusters', 'alpha']);
    assert.match(describe.stdout, /Warning\s+IdentityChanged\s+.*answered as cluster beta/);

    const accept = await liqo(['join', 'alpha', '--accept-identity']);
    assert.equal(accept.code, 0, accept.stderr);
    assert.match(accept.stdout, /foreigncluster\.discovery\.liqo\.io\/beta created: identity accepted/);
    assert.match(accept.stdout, /foreigncluster\.discovery\.liqo\.io\/alpha deleted/);
    const beta = await fc('beta');
    assert.equal(beta.spec.join, true);
    assert.equal(beta.spec.discoveryType, 'WAN');
    assert.equal(beta.status?.pinnedIdentity?.clusterID, 'beta');
    assert.equal(beta.status?.pinnedIdentity?.certificateFingerprint, await fingerprintOf(certs[2]!.certPem));
    await eventually('alpha gone', async () => ((await fcExists('alpha')) ? undefined : true));
    await twoResolutions();
    assert.equal(identityChanged(await fc('beta')), undefined);
    assert.equal((await fc('beta')).spec.join, true);
  });
});
