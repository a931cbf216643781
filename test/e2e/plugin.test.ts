// `kubectl liqo` through the real kubectl, against a real kube-apiserver + etcd with our CRDs
// and webhook (test/harness), and real HTTPS /ids servers on loopback. No `discover` here:
// that one browses mDNS and runs only inside network namespaces (plugin-discover.test.ts).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ANNOTATION_CERT_FINGERPRINT, type ForeignCluster } from '../../shared/api/index.js';
import { createCertificateAuthority, createServingCertificate } from '../../shared/tls/certificates.js';
import { KUBECTL, runCommand } from '../harness/kubectl.js';
import { startLiqoEnvironment, type LiqoEnvironment } from '../harness/liqo-environment.js';
import { startIdsServer, testKeyPem, type IdsServer } from '../helpers/https-ids-server.js';
import { scratchDir } from '../helpers/scratch-dir.js';
import { expectOneLineError, installPluginOnPath, type PluginOnPath } from './plugin-helpers.js';

describe('kubectl liqo (e2e, real API server and webhook)', function () {
  this.timeout(180_000);
  let env: LiqoEnvironment;
  let plugin: PluginOnPath;
  let peer: IdsServer;
  const peerId = randomUUID();
  let keyPem: string;
  const liqo = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    plugin.run(args, { env: { KUBECONFIG: env.controlPlane.adminKubeconfig, NO_COLOR: '1', ...extraEnv } });
  const getFc = async (name: string): Promise<ForeignCluster | undefined> => {
    const r = await env.controlPlane.kubectl([
      'get',
      'foreignclusters',
      name,
      '-o',
      'json',
      '--ignore-not-found',
    ]);
    return r.stdout.trim() ? (JSON.parse(r.stdout) as ForeignCluster) : undefined;
  };
  const selfSigned = async () =>
    createServingCertificate({
      commonName: 'peer',
      hosts: ['127.0.0.1'],
      keyPem: (keyPem ??= await testKeyPem()),
    });

  before(async () => {
    [env, plugin] = await Promise.all([
      startLiqoEnvironment({ webhook: { allowLoopbackAuthUrl: true } }),
      installPluginOnPath(),
    ]);
    peer = await startIdsServer({
      ...(await selfSigned()),
      identity: { clusterId: peerId, clusterName: 'peer-one', guestNamespace: 'liqo-peer' },
    });
  });
  after(async () => {
    await peer?.close();
    await env?.stop();
    plugin?.remove();
  });

  it('--help names the command "kubectl liqo" and lists every command', async () => {
    const r = await liqo(['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^kubectl liqo <command>/);
    for (const c of [
      'discover',
      'join',
      'unjoin',
      'list',
      'ids',
      'discovery',
      'search-domain',
      'install',
      'uninstall',
      'completion',
      'version',
    ]) {
      assert.match(r.stdout, new RegExp(`kubectl liqo ${c}\\b`), c);
    }
  });

  it('an unknown flag is one line on stderr and exit 1, named before the argument it swallowed', async () => {
    expectOneLineError(await liqo(['list', '--bogus']), /^error: unknown flag: --bogus/);
    expectOneLineError(
      await liqo(['join', '--wiat', peer.url]),
      /^error: unknown flag: --wiat \(did you mean --wait\?\) \(see "kubectl liqo join --help"\)$/,
    );
  });

  it('join <authUrl> creates the ForeignCluster, and re-running changes nothing', async () => {
    const first = await liqo(['join', peer.url]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, `foreigncluster.discovery.liqo.io/${peerId} created\n`);
    const fc = await getFc(peerId);
    assert.ok(fc);
    assert.equal(fc.spec.join, true);
    assert.equal(fc.spec.discoveryType, 'Manual');
    assert.equal(fc.spec.trustMode, 'Untrusted');
    assert.equal(fc.spec.namespace, 'liqo-peer');
    assert.deepEqual(fc.spec.clusterIdentity, { clusterID: peerId, clusterName: 'peer-one' });
    assert.match(
      fc.metadata.annotations?.[ANNOTATION_CERT_FINGERPRINT] ?? '',
      /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/,
    );

    for (const target of [peer.url, peerId]) {
      const again = await liqo(['join', target]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout, `foreigncluster.discovery.liqo.io/${peerId} unchanged\n`);
      assert.equal((await getFc(peerId))?.metadata.resourceVersion, fc.metadata.resourceVersion);
    }
  });

  it('join -o json prints the stored object', async () => {
    const r = await liqo(['join', peerId, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const obj = JSON.parse(r.stdout) as ForeignCluster;
    assert.equal(obj.kind, 'ForeignCluster');
    assert.equal(obj.metadata.name, peerId);
    assert.equal(obj.spec.join, true);
  });

  it('list shows it; -o wide adds trust, namespace, TTL and age; -o json is a List', async () => {
    const table = await liqo(['list']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(
      table.stdout,
      /^NAME\s+CLUSTER-ID\s+CLUSTER-NAME\s+AUTH-URL\s+DISCOVERY\s+JOIN\s+JOINED\s+READY\s+REASON\n/,
    );
    assert.match(
      table.stdout,
      new RegExp(`${peerId}\\s+${peerId}\\s+peer-one\\s+${peer.url}\\s+Manual\\s+true\\s+false`),
    );
    const wide = await liqo(['list', '-o', 'wide']);
    assert.match(wide.stdout, /TRUST\s+NAMESPACE\s+TTL\s+AGE/);
    assert.match(wide.stdout, /Untrusted\s+liqo-peer\s+<none>\s+\d+[smhd]/);
    const json = JSON.parse((await liqo(['list', '-o', 'json'])).stdout) as {
      kind: string;
      items: ForeignCluster[];
    };
    assert.equal(json.kind, 'List');
    assert.deepEqual(
      json.items.map((i) => i.metadata.name),
      [peerId],
    );
    assert.equal((await liqo(['list', '-o', 'name'])).stdout, `foreigncluster.discovery.liqo.io/${peerId}\n`);
  });

  it('unjoin sets join: false (once), then --delete removes it', async () => {
    const r = await liqo(['unjoin', peerId]);
    assert.equal(r.stdout, `foreigncluster.discovery.liqo.io/${peerId} unjoined\n`);
    assert.equal((await getFc(peerId))?.spec.join, false);
    const rv = (await getFc(peerId))?.metadata.resourceVersion;
    assert.equal(
      (await liqo(['unjoin', peerId])).stdout,
      `foreigncluster.discovery.liqo.io/${peerId} unchanged\n`,
    );
    assert.equal((await getFc(peerId))?.metadata.resourceVersion, rv);
    const del = await liqo(['unjoin', peerId, '--delete']);
    assert.equal(del.code, 0, del.stderr);
    assert.equal(await getFc(peerId), undefined);
    expectOneLineError(await liqo(['unjoin', peerId]), /no ForeignCluster named or with cluster id/);
  });

  it('join --wait returns once status.outgoing.joined is true, and says where it stopped on timeout', async () => {
    const timedOut = await liqo(['join', peer.url, '--wait', '--timeout', '2s']);
    assert.equal(timedOut.code, 1);
    assert.match(
      timedOut.stderr,
      /^error: timed out after 2s waiting for ForeignCluster ".*" to join: status\.outgoing\.joined is unset, authStatus Pending$/m,
    );
    assert.equal(timedOut.stdout, `foreigncluster.discovery.liqo.io/${peerId} created\n`);
    const waiting = liqo(['join', peer.url, '--wait', '--timeout', '60s']);
    await new Promise((r) => setTimeout(r, 1500));
    await env.controlPlane.kubectl([
      'patch',
      'foreignclusters',
      peerId,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { outgoing: { joined: true } } }),
    ]);
    const done = await waiting;
    assert.equal(done.code, 0, done.stderr);
    assert.equal(
      done.stdout,
      `foreigncluster.discovery.liqo.io/${peerId} unchanged\nforeigncluster.discovery.liqo.io/${peerId} joined\n`,
    );
    await env.controlPlane.kubectl(['delete', 'foreignclusters', peerId]);
  });

  it('join --dry-run=server runs admission but stores nothing', async () => {
    const r = await liqo(['join', peer.url, '--dry-run=server']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /created \(server dry run\)/);
    assert.equal(await getFc(peerId), undefined);
  });

  it("join --dry-run=client judges with the shared rules and the webhook's published settings, and stores nothing", async () => {
    // this webhook allows loopback auth URLs (with a warning): so does the client-side check
    // (both settings, side by side with --dry-run=server: plugin-dry-run.test.ts)
    const r = await liqo(['join', peer.url, '--dry-run=client']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `foreigncluster.discovery.liqo.io/${peerId} created (dry run)\n`);
    assert.match(r.stderr, /^Warning: spec\.authUrl: host "127\.0\.0\.1" is loopback/m);
    assert.equal(await getFc(peerId), undefined);
  });

  it("join --name with a cluster id another ForeignCluster holds: the webhook's uniqueness rule, asked before writing, in every dry-run mode", async () => {
    assert.equal((await liqo(['join', peer.url])).code, 0);
    try {
      for (const dryRun of [[], ['--dry-run=client'], ['--dry-run=server']]) {
        expectOneLineError(
          await liqo(['join', peer.url, '--name', 'twin', ...dryRun]),
          new RegExp(
            `ForeignCluster "twin" would be refused: spec\\.clusterIdentity\\.clusterID: cluster id "${peerId}" ` +
              `is already used by ForeignCluster "${peerId}"`,
          ),
        );
      }
      assert.equal(await getFc('twin'), undefined);
    } finally {
      await env.controlPlane.kubectl(['delete', 'foreignclusters', peerId, '--ignore-not-found']);
    }
  });

  it('joining this cluster itself is refused', async () => {
    const self = await startIdsServer({ ...(await selfSigned()), identity: { clusterId: env.clusterId } });
    try {
      expectOneLineError(await liqo(['join', self.url]), /refusing to join .*this cluster itself/);
      assert.equal(await getFc(env.clusterId), undefined);
    } finally {
      await self.close();
    }
  });

  it('an unreachable /ids is one line and writes nothing', async () => {
    const gone = await startIdsServer({ ...(await selfSigned()) });
    const url = gone.url;
    await gone.close();
    expectOneLineError(await liqo(['join', url]), new RegExp(`${url.replace(/[.:/]/g, '\\$&')}.*refused`));
    const all = await env.controlPlane.kubectl(['get', 'foreignclusters', '-o', 'name']);
    assert.equal(all.stdout.trim(), '');
  });

  it('a lying /ids (answers as another cluster than its ForeignCluster) is refused and writes nothing', async () => {
    const liar = await startIdsServer({ ...(await selfSigned()), identity: { clusterId: peerId } });
    try {
      assert.equal((await liqo(['join', liar.url, '--name', 'pinned'])).code, 0);
      const rv = (await getFc('pinned'))?.metadata.resourceVersion;
      await liar.close();
      const other = await startIdsServer({ ...(await selfSigned()), identity: { clusterId: randomUUID() } });
      try {
        await env.controlPlane.kubectl([
          'patch',
          'foreignclusters',
          'pinned',
          '--type=merge',
          '-p',
          JSON.stringify({ spec: { authUrl: other.url } }),
        ]);
        const rv2 = (await getFc('pinned'))?.metadata.resourceVersion;
        expectOneLineError(await liqo(['join', 'pinned']), /is cluster .* but .* answers as cluster/);
        assert.equal((await getFc('pinned'))?.metadata.resourceVersion, rv2);
        assert.notEqual(rv2, rv);
      } finally {
        await other.close();
      }
      const notJson = await startIdsServer({
        ...(await selfSigned()),
        handler: (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>'),
      });
      try {
        expectOneLineError(await liqo(['join', notJson.url]), /JSON/i);
      } finally {
        await notJson.close();
      }
    } finally {
      await env.controlPlane.kubectl(['delete', 'foreignclusters', 'pinned', '--ignore-not-found']);
    }
  });

  it("a webhook refusal shows the webhook's message, and nothing is written", async () => {
    await env.startWebhook({ allowLoopbackAuthUrl: false });
    try {
      const line = expectOneLineError(
        await liqo(['join', peer.url]),
        /admission webhook .*denied the request/,
      );
      assert.match(line, /spec\.authUrl/);
      assert.equal(await getFc(peerId), undefined);
    } finally {
      await env.startWebhook({ allowLoopbackAuthUrl: true });
    }
  });

  it('a user without RBAC rights gets the API server\'s "forbidden" in one line', async () => {
    const kubeconfig = env.controlPlane.createUserKubeconfig('mallory');
    expectOneLineError(
      await liqo(['list'], { KUBECONFIG: kubeconfig }),
      /cannot list ForeignClusters: .*forbidden: User "mallory"/,
    );
    expectOneLineError(await liqo(['join', peer.url], { KUBECONFIG: kubeconfig }), /forbidden/);
  });

  it('an unreachable API server and a missing kubeconfig are one line each', async () => {
    const dir = env.controlPlane.dir;
    const deadKubeconfig = join(dir, 'dead.kubeconfig');
    const live = JSON.parse(
      (await env.controlPlane.kubectl(['config', 'view', '--raw', '-o', 'json'])).stdout,
    ) as { clusters: { cluster: { server: string } }[] };
    live.clusters[0]!.cluster.server = 'https://127.0.0.1:1';
    writeFileSync(deadKubeconfig, JSON.stringify(live));
    expectOneLineError(
      await liqo(['list'], { KUBECONFIG: deadKubeconfig }),
      /cannot reach the API server https:\/\/127\.0\.0\.1:1: connection refused/,
    );
    expectOneLineError(
      await liqo(['list'], { KUBECONFIG: join(dir, 'missing.kubeconfig'), HOME: dir }),
      /^error: no kubeconfig: set KUBECONFIG/,
    );
  });

  it('ids prints identity, trust, fingerprint and expiry; -o json and -o yaml', async () => {
    const table = await liqo(['ids', peer.url]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`Cluster ID:\\s+${peerId}`));
    assert.match(table.stdout, /Trust:\s+Untrusted \(self-signed/);
    assert.match(table.stdout, /Fingerprint:\s+SHA256 ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    const json = JSON.parse((await liqo(['ids', peer.url, '-o', 'json'])).stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json).sort(), [
      'authUrl',
      'certificateNotAfter',
      'certificateSha256',
      'clusterId',
      'clusterName',
      'guestNamespace',
      'trustMode',
      'untrustedReason',
    ]);
    assert.equal(json.clusterId, peerId);
    const yaml = await liqo(['ids', peer.url, '-o', 'yaml']);
    assert.match(yaml.stdout, new RegExp(`^clusterId: ${peerId}$`, 'm'));
  });

  it('NODE_EXTRA_CA_CERTS is honoured though the launcher defers it past start-up', async () => {
    // a peer whose certificate only a private CA vouches for, as behind a company CA
    keyPem ??= await testKeyPem();
    const ca = createCertificateAuthority({ commonName: 'private-ca', keyPem });
    const privatePeer = await startIdsServer({
      ...createServingCertificate({ commonName: 'peer', hosts: ['127.0.0.1'], keyPem }, ca),
      identity: { clusterId: randomUUID(), clusterName: 'private', guestNamespace: 'liqo-private' },
    });
    try {
      const dir = scratchDir('extra-ca-');
      const caFile = join(dir, 'ca.pem');
      writeFileSync(caFile, ca.certPem);
      const trust = async (extraEnv: NodeJS.ProcessEnv) => {
        const r = await liqo(['ids', privatePeer.url, '-o', 'json'], extraEnv);
        assert.equal(r.code, 0, r.stderr);
        return { trustMode: (JSON.parse(r.stdout) as { trustMode: string }).trustMode, stderr: r.stderr };
      };
      assert.equal((await trust({ NODE_EXTRA_CA_CERTS: caFile })).trustMode, 'Trusted');
      assert.equal((await trust({ NODE_EXTRA_CA_CERTS: '' })).trustMode, 'Untrusted');
      // an unreadable file: Node's warning, and the command still works
      const missing = await trust({ NODE_EXTRA_CA_CERTS: join(dir, 'missing.pem') });
      assert.equal(missing.trustMode, 'Untrusted');
      assert.match(missing.stderr, /Ignoring extra certs from `.*missing\.pem`/);
    } finally {
      await privatePeer.close();
    }
  });

  it('discovery status | disable | enable patch ClusterConfig, and only when something changes', async () => {
    const status = JSON.parse((await liqo(['discovery', 'status', '-o', 'json'])).stdout) as {
      discoveryConfig: { enableDiscovery: boolean; enableAdvertisement: boolean };
    };
    assert.equal(status.discoveryConfig.enableDiscovery, true);
    assert.equal(
      (await liqo(['discovery', 'disable', '--lan-discovery'])).stdout,
      'clusterconfig.config.liqo.io/liqo-configuration patched\n',
    );
    const cc = await env.controlPlane.kubectl([
      'get',
      'clusterconfigs',
      'liqo-configuration',
      '-o',
      'jsonpath={.spec.discoveryConfig.enableDiscovery} {.spec.discoveryConfig.enableAdvertisement}',
    ]);
    assert.equal(cc.stdout, 'false true');
    assert.match((await liqo(['discovery', 'disable', '--lan-discovery'])).stdout, /unchanged/);
    assert.match(
      (await liqo(['discovery', 'status'])).stdout,
      /LAN-DISCOVERY\s+ADVERTISEMENT[^\n]*\ndisabled\s+enabled/,
    );
    assert.match((await liqo(['discovery', 'enable'])).stdout, /patched/);
  });

  it('search-domain add | list | remove', async () => {
    assert.equal(
      (await liqo(['search-domain', 'add', 'example.com', '--autojoin'])).stdout,
      'searchdomain.discovery.liqo.io/example.com created\n',
    );
    assert.match((await liqo(['search-domain', 'add', 'example.com', '--autojoin'])).stdout, /unchanged/);
    const list = JSON.parse((await liqo(['search-domain', 'list', '-o', 'json'])).stdout) as {
      items: { metadata: { name: string }; spec: { domain: string; autojoin: boolean } }[];
    };
    assert.deepEqual(
      list.items.map((i) => [i.metadata.name, i.spec.domain, i.spec.autojoin]),
      [['example.com', 'example.com', true]],
    );
    assert.match((await liqo(['search-domain', 'list'])).stdout, /^NAME\s+DOMAIN\s+AUTOJOIN/);
    assert.equal(
      (await liqo(['search-domain', 'remove', 'example.com'])).stdout,
      'searchdomain.discovery.liqo.io/example.com deleted\n',
    );
    expectOneLineError(
      await liqo(['search-domain', 'remove', 'example.com']),
      /SearchDomain "example.com" not found/,
    );
    expectOneLineError(await liqo(['search-domain', 'add', 'not_a domain', '--name', 'bad']), /spec\.domain/);
    // what CEL cannot know (another object) the webhook refuses, with its own message
    assert.equal((await liqo(['search-domain', 'add', 'example.org'])).code, 0);
    expectOneLineError(
      await liqo(['search-domain', 'add', 'Example.org.', '--name', 'again']),
      /admission webhook .*denied the request: .*example\.org/,
    );
    await liqo(['search-domain', 'remove', 'example.org']);
  });

  it("version prints the client version, the running webhook's (not deployed: from its configuration), no agent here; -o json", async () => {
    const r = await liqo(['version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Client Version: (\d+\.\d+\.\d+)\nWebhook Version: \1\nAgent Version: unknown\n$/,
    );
    const json = JSON.parse((await liqo(['version', '-o', 'json'])).stdout) as {
      clientVersion: { version: string };
    };
    assert.match(json.clientVersion.version, /^\d+\.\d+\.\d+/);
  });

  it("completion: bash, zsh and the kubectl_complete-liqo helper; __complete answers in cobra's protocol", async () => {
    assert.match(
      (await liqo(['completion', 'bash'])).stdout,
      /complete -o default -F _kubectl_liqo kubectl-liqo/,
    );
    assert.match((await liqo(['completion', 'zsh'])).stdout, /compdef _kubectl_liqo kubectl-liqo/);
    assert.match((await liqo(['completion', 'kubectl-plugin'])).stdout, /exec kubectl-liqo __complete "\$@"/);
    const words = (await liqo(['__complete', 'jo'])).stdout.split('\n').filter(Boolean);
    assert.deepEqual(words, ['join', ':4']);
    // kubectl itself (>= 1.26) runs the helper for `kubectl liqo <TAB>`
    const helper = join(plugin.binDir, 'kubectl_complete-liqo');
    writeFileSync(helper, (await liqo(['completion', 'kubectl-plugin'])).stdout, { mode: 0o755 });
    const viaKubectl = await runCommand(KUBECTL, ['__complete', 'liqo', 'discover', '--dns-'], {
      env: { ...process.env, PATH: `${plugin.binDir}:${process.env.PATH ?? ''}` },
    });
    assert.equal(viaKubectl.stdout, '--dns-server\n:4\n', viaKubectl.stderr);
  });
});
