// `kubectl liqo install` on the real node (test/harness/node), the way a user deploys: our image
// imported into the node's containerd, the plugin on PATH run through the real kubectl, the
// webhook called by the API server through its Service with the caBundle it bootstrapped, the
// agent on host networking under its own service account. Timings (install to Ready, the
// webhook's latency through the Service) are printed, never asserted.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIQO_DISCOVERY_IMAGE } from '../../shared/api/constants.js';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import type { CommandResult } from '../harness/kubectl.js';
import type { RealCluster } from '../harness/node/real-cluster.js';
import type { ManagedProcess } from '../harness/processes.js';
import { GUIDE_IDENTITY, testKeyPem } from '../helpers/https-ids-server.js';
import { expectOneLineError, installPluginOnPath, type PluginOnPath } from '../e2e/plugin-helpers.js';
import { eventually, getJson, log, sharedCluster, type PodJson } from './setup.js';

import { ensureCurrentImage, IMAGE_ARCHIVE } from './current-image.js';
const NS = 'liqo';
const WEBHOOK = 'app.kubernetes.io/name=liqo-webhook';
const AGENT = 'app.kubernetes.io/name=liqo-discovery-agent';
/** The peers the guide's ForeignCluster and SearchDomain point at, on the node's own address. */
const MANUAL_PEER_PORT = 7443;
const DNS_PEER_PORT = 7444;
const MANUAL_PEER = { clusterId: randomUUID(), clusterName: 'manual-peer', guestNamespace: 'liqo' };

interface Named {
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
  };
}
interface ForeignClusterJson extends Named {
  spec: {
    authUrl?: string;
    join?: boolean;
    discoveryType?: string;
    clusterIdentity?: { clusterID?: string };
  };
}

function fcJson(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'discovery.liqo.io/v1alpha1',
    kind: 'ForeignCluster',
    metadata: { name },
    spec,
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** The p99 of the API server's own histogram of our webhook's calls (bucket upper bound). */
async function apiserverWebhookP99(cluster: RealCluster): Promise<string> {
  const r = await cluster.kubectl(['get', '--raw', '/metrics']);
  const buckets = [
    ...r.stdout.matchAll(
      /^apiserver_admission_webhook_admission_duration_seconds_bucket\{([^}]*)le="([^"]+)"[^}]*\} (\S+)$/gm,
    ),
  ]
    .filter((m) => m[1]!.includes('name="'))
    .map((m) => ({ le: m[2]!, count: Number(m[3]) }));
  const byLe = new Map<string, number>();
  for (const b of buckets) byLe.set(b.le, (byLe.get(b.le) ?? 0) + b.count);
  const total = byLe.get('+Inf') ?? 0;
  if (!total) return 'no samples';
  const sorted = [...byLe.entries()]
    .filter(([le]) => le !== '+Inf')
    .sort((a, b) => Number(a[0]) - Number(b[0]));
  const bound = sorted.find(([, count]) => count >= 0.99 * total);
  return `${bound ? `≤ ${Number(bound[0]) * 1000} ms` : '> largest bucket'} over ${total} calls`;
}

describe('cluster: kubectl liqo install on a real node', function () {
  let cluster: RealCluster;
  let plugin: PluginOnPath;
  let scratch: string;
  /** BIND and the /ids peers started in the shared node: stopped here, not left to the node. */
  const inNodePrograms: ManagedProcess[] = [];
  const liqo = (args: string[], timeoutMs = 400_000): Promise<CommandResult> =>
    plugin.run(args, { env: { KUBECONFIG: cluster.adminKubeconfig }, timeoutMs });
  const apply = (json: string, extra: string[] = []) =>
    cluster.kubectl(['apply', ...extra, '-f', '-'], { input: json });
  const webhookConfigurations = async () =>
    (
      await cluster.kubectl([
        'get',
        'mutatingwebhookconfigurations,validatingwebhookconfigurations',
        '-o',
        'name',
      ])
    ).stdout.trim();
  const pods = async (selector: string) =>
    (await getJson<{ items: PodJson[] }>(cluster, ['pods', '-n', NS, '-l', selector])).items;
  const podState = async () => (await cluster.kubectl(['get', 'pods', '-A', '-o', 'wide'])).stdout;

  before(async function () {
    this.timeout(30 * 60_000);
    cluster = await sharedCluster();
    await ensureCurrentImage(log);
    const refs = await cluster.importImage(IMAGE_ARCHIVE);
    assert.ok(refs.includes(LIQO_DISCOVERY_IMAGE), `the archive named ${refs.join(', ')}`);
    plugin = await installPluginOnPath();
    scratch = mkdtempSync(join(tmpdir(), 'install-test-'));
  });

  after(async function () {
    this.timeout(120_000);
    plugin?.remove();
    for (const program of inNodePrograms) await program.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('install with an image the node does not have: exit 1 with the reason, and no webhook left registered', async function () {
    this.timeout(300_000);
    const missing = 'registry.invalid/liqo/missing:0.0.0';
    const r = await liqo([
      'install',
      '--image',
      missing,
      '--image-pull-policy',
      'Never',
      '--timeout',
      '120s',
    ]);
    const line = expectOneLineError(
      { ...r, stdout: '' }, // the progress lines before the failure go to stdout
      /ErrImageNeverPull|ErrImagePull|not found|not present/,
    );
    assert.match(line, /registry\.invalid\/liqo\/missing:0\.0\.0/);
    log(`missing image: ${line}`);
    assert.equal(await webhookConfigurations(), '', 'no webhook configuration is registered');
    // writes of our kinds are not blocked
    const created = await apply(fcJson('after-failed-install', { authUrl: 'https://10.77.99.1:443' }));
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await cluster.kubectl(['delete', 'foreigncluster', 'after-failed-install'])).code, 0);
    const removed = await liqo(['uninstall']);
    assert.equal(removed.code, 0, removed.stderr);
  });

  it('install: webhook and agent pods Running and Ready under their own service accounts, the agent on host networking', async function () {
    this.timeout(600_000);
    const started = Date.now();
    const r = await liqo([
      'install',
      '--image',
      LIQO_DISCOVERY_IMAGE,
      '--image-pull-policy',
      'Never',
      '--timeout',
      '5m',
    ]);
    const installMs = Date.now() - started;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}\n${await podState()}`);
    console.log(
      `    install-to-Ready: ${(installMs / 1000).toFixed(1)} s (kubectl liqo install, fresh node)`,
    );

    const webhookPods = await pods(WEBHOOK);
    const agentPods = await pods(AGENT);
    assert.equal(webhookPods.length, 2, await podState());
    assert.equal(agentPods.length, 1, await podState());
    const ready = (p: PodJson) =>
      p.status.phase === 'Running' &&
      !!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    for (const p of webhookPods) {
      assert.ok(ready(p), `${p.metadata.name} Running and Ready`);
      assert.equal(p.spec.serviceAccountName, 'liqo-webhook');
    }
    const [agent] = agentPods as [PodJson & { spec: { hostNetwork?: boolean } }];
    assert.ok(ready(agent), `${agent.metadata.name} Running and Ready`);
    assert.equal(agent.spec.serviceAccountName, 'liqo-discovery-agent');
    assert.equal(agent.spec.hostNetwork, true);
    assert.equal(agent.status.podIP, cluster.nodeIp, "the agent's address is the node's");
    // the caBundle the webhook bootstrapped is in both configurations
    for (const kind of ['mutatingwebhookconfiguration', 'validatingwebhookconfiguration']) {
      const config = await getJson<{ webhooks: { clientConfig: { caBundle?: string; service?: object } }[] }>(
        cluster,
        [kind, 'liqo-webhook'],
      );
      for (const w of config.webhooks) {
        assert.ok(w.clientConfig.service, `${kind} calls the webhook through its Service`);
        assert.match(Buffer.from(w.clientConfig.caBundle ?? '', 'base64').toString(), /BEGIN CERTIFICATE/);
      }
    }
  });

  it('admission through the Service-registered webhook gives the answers of the e2e suite', async function () {
    this.timeout(300_000);
    // refusals: the field named and what would work
    const refused: [string, Record<string, unknown>, RegExp[]][] = [
      ['empty authUrl', { authUrl: '' }, [/spec\.authUrl/]],
      ['http scheme', { authUrl: 'http://10.77.99.1:443' }, [/spec\.authUrl/, /https:\/\/<host>|accepted/]],
      ['link-local', { authUrl: 'https://169.254.169.254' }, [/spec\.authUrl/, /accepted|link-local/]],
      ['IPv6 loopback', { authUrl: 'https://[::1]:443' }, [/spec\.authUrl/]],
      ['user info', { authUrl: 'https://admin:secret@10.77.99.1:443' }, [/spec\.authUrl/]],
    ];
    for (const [why, spec, patterns] of refused) {
      const r = await apply(fcJson('refused', spec));
      assert.notEqual(r.code, 0, `${why}: accepted`);
      for (const p of patterns) assert.match(r.stderr, p, why);
    }
    // the webhook itself answers (not only the CRD schema): a server-side dry run it denies
    const dry = await apply(fcJson('dry-refused', { authUrl: 'https://[::1]:443' }), ['--dry-run=server']);
    assert.notEqual(dry.code, 0);
    assert.match(dry.stderr, /admission webhook .* denied the request/);

    // defaults filled by the mutating webhook
    const guide = await apply(fcJson('my-cluster', { authUrl: 'https://10.77.99.1:30740' }));
    assert.equal(guide.code, 0, guide.stderr);
    const fc = await getJson<ForeignClusterJson>(cluster, ['foreigncluster', 'my-cluster']);
    assert.equal(fc.spec.join, false);
    assert.equal(fc.spec.discoveryType, 'Manual');
    assert.equal(fc.metadata.labels?.['discovery.liqo.io/discovery-type'], 'Manual');

    // one ForeignCluster per cluster id, the first named
    const clusterID = randomUUID();
    const first = await apply(
      fcJson('first', { authUrl: 'https://10.77.99.2:443', clusterIdentity: { clusterID } }),
    );
    assert.equal(first.code, 0, first.stderr);
    const second = await apply(
      fcJson('second', { authUrl: 'https://10.77.99.3:443', clusterIdentity: { clusterID } }),
    );
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, /spec\.clusterIdentity\.clusterID/);
    assert.match(second.stderr, /"first"/);

    // SearchDomain and ClusterConfig
    const badDomain = await cluster.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'discovery.liqo.io/v1alpha1',
        kind: 'SearchDomain',
        metadata: { name: 'bad' },
        spec: { domain: 'not a domain' },
      }),
    });
    assert.notEqual(badDomain.code, 0);
    assert.match(badDomain.stderr, /spec\.domain/);
    const badTtl = await cluster.kubectl([
      'patch',
      'clusterconfigs',
      'liqo-configuration',
      '--type',
      'merge',
      '--patch',
      '{"spec":{"discoveryConfig":{"ttl":0}}}',
    ]);
    assert.notEqual(badTtl.code, 0);
    assert.match(badTtl.stderr, /spec\.discoveryConfig\.ttl/);

    assert.equal((await cluster.kubectl(['delete', 'foreignclusters', 'my-cluster', 'first'])).code, 0);
  });

  it('the guide end to end: ClusterConfig patches, its ForeignCluster and SearchDomain (BIND in the node), /ids, kubectl get foreignclusters', async function () {
    this.timeout(600_000);
    // the guide's two kubectl patch commands, verbatim
    for (const enabled of [false, true]) {
      const r = await cluster.kubectl([
        'patch',
        'clusterconfigs',
        'liqo-configuration',
        '--patch',
        `{"spec":{"discoveryConfig":{"enableDiscovery": ${enabled}, "enableAdvertisement": ${enabled}}}}`,
        '--type',
        'merge',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /clusterconfig.config.liqo.io\/liqo-configuration patched/);
    }

    // two peers inside the node's namespace: the guide's ForeignCluster's and the SearchDomain's
    const keyPem = await testKeyPem();
    const cert = createServingCertificate({ commonName: cluster.nodeIp, hosts: [cluster.nodeIp], keyPem });
    writeFileSync(join(scratch, 'peer.crt'), cert.certPem);
    writeFileSync(join(scratch, 'peer.key'), cert.keyPem);
    writeFileSync(
      join(scratch, 'peers.mjs'),
      `import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
const [dir, address, ...specs] = process.argv.slice(2);
const tls = { cert: readFileSync(dir + '/peer.crt'), key: readFileSync(dir + '/peer.key') };
for (const spec of specs) {
  const [port, identity] = [Number(spec.split('=')[0]), spec.slice(spec.indexOf('=') + 1)];
  createServer(tls, (req, res) => {
    if (req.url !== '/ids') { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(identity);
  }).listen(port, address, () => console.log('peer on', port));
}
`,
    );
    inNodePrograms.push(
      cluster.startInNode('ids-peers', process.execPath, [
        join(scratch, 'peers.mjs'),
        scratch,
        cluster.nodeIp,
        `${MANUAL_PEER_PORT}=${JSON.stringify(MANUAL_PEER)}`,
        `${DNS_PEER_PORT}=${JSON.stringify(GUIDE_IDENTITY)}`,
      ]),
    );
    // BIND on the node's address, serving the guide's zone shape pointing at the peer
    writeFileSync(
      join(scratch, 'example.com.zone'),
      [
        '$ORIGIN example.com.',
        '$TTL 30',
        '@ IN SOA ns.invalid. hostmaster.invalid. 1 3600 600 86400 30',
        '@ IN NS ns.invalid.',
        'example.com. PTR liqo-cluster.example.com.',
        `liqo-cluster.example.com. SRV 0 0 ${DNS_PEER_PORT} auth.server.example.com.`,
        `auth.server.example.com. A ${cluster.nodeIp}`,
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(scratch, 'named.conf'),
      `options { directory "${scratch}"; listen-on port 53 { ${cluster.nodeIp}; }; listen-on-v6 { none; };
  recursion no; notify no; dnssec-validation no; pid-file none; session-keyfile none; };
controls { };
zone "example.com" { type primary; file "example.com.zone"; };
`,
    );
    inNodePrograms.push(
      cluster.startInNode('named', 'named', ['-g', '-n', '1', '-c', join(scratch, 'named.conf')]),
    );
    await eventually('BIND answering in the node', async () => {
      const r = await cluster.inNode([
        'dig',
        `@${cluster.nodeIp}`,
        '+short',
        'SRV',
        'liqo-cluster.example.com',
      ]);
      return r.stdout.includes(String(DNS_PEER_PORT)) ? true : undefined;
    });

    // the cluster has no DNS add-on: the agent is pointed at the node's BIND (and resolves often)
    const ds = await getJson<{ spec: { template: { spec: { containers: { args: string[] }[] } } } }>(
      cluster,
      ['daemonset', '-n', NS, 'liqo-discovery-agent'],
    );
    const args = ds.spec.template.spec.containers[0]!.args.map((a) =>
      a.startsWith('--searchdomain-interval=') ? '--searchdomain-interval=10' : a,
    );
    args.push(`--dns-server=${cluster.nodeIp}:53`);
    const patched = await cluster.kubectl([
      'patch',
      'daemonset',
      '-n',
      NS,
      'liqo-discovery-agent',
      '--type',
      'json',
      '--patch',
      JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/args', value: args }]),
    ]);
    assert.equal(patched.code, 0, patched.stderr);
    const rolled = await cluster.kubectl(
      ['rollout', 'status', '-n', NS, 'daemonset/liqo-discovery-agent', '--timeout=180s'],
      { timeoutMs: 200_000 },
    );
    assert.equal(rolled.code, 0, `${rolled.stderr}\n${await podState()}`);

    // the guide's ForeignCluster and SearchDomain
    const guideFc = [
      'apiVersion: discovery.liqo.io/v1alpha1',
      'kind: ForeignCluster',
      'metadata:',
      '  name: my-cluster',
      'spec:',
      '  join: true # optional (defaults to false)',
      `  authUrl: "https://${cluster.nodeIp}:${MANUAL_PEER_PORT}"`,
      '',
    ].join('\n');
    const guideSd = [
      'apiVersion: discovery.liqo.io/v1alpha1',
      'kind: SearchDomain',
      'metadata:',
      '  name: example.com',
      'spec:',
      '  domain: example.com',
      '  autojoin: true',
      '',
    ].join('\n');
    for (const yaml of [guideFc, guideSd]) {
      const r = await cluster.kubectl(['apply', '-f', '-'], { input: yaml });
      assert.equal(r.code, 0, r.stderr);
    }

    // the guide's curl, from inside the node's namespace: this cluster's identity
    const curl = await cluster.inNode(['curl', '-sS', '--insecure', `https://${cluster.nodeIp}:9443/ids`]);
    assert.equal(curl.code, 0, curl.stderr);
    const ids = JSON.parse(curl.stdout) as Record<string, unknown>;
    // the guide's three fields (the agent adds protocolVersion, which the guide's readers ignore)
    for (const key of ['clusterId', 'clusterName', 'guestNamespace'])
      assert.equal(typeof ids[key], 'string', `${key} in ${curl.stdout}`);
    assert.match(String(ids.clusterId), /^[0-9a-f-]{36}$/);
    assert.equal(ids.guestNamespace, 'liqo');

    // the manual one gets its identity, the SearchDomain's peer appears as a WAN ForeignCluster
    const all = await eventually(
      'ForeignClusters of the guide with their identities',
      async () => {
        const list = (await getJson<{ items: ForeignClusterJson[] }>(cluster, ['foreignclusters'])).items;
        const manual = list.find((fc) => fc.metadata.name === 'my-cluster');
        const wan = list.find((fc) => fc.spec.clusterIdentity?.clusterID === GUIDE_IDENTITY.clusterId);
        return manual?.spec.clusterIdentity?.clusterID === MANUAL_PEER.clusterId && wan ? list : undefined;
      },
      180_000,
      async () => (await cluster.kubectl(['get', 'foreignclusters', '-o', 'wide'])).stdout,
    );
    const wan = all.find((fc) => fc.spec.clusterIdentity?.clusterID === GUIDE_IDENTITY.clusterId)!;
    assert.equal(wan.spec.discoveryType, 'WAN');
    assert.equal(wan.spec.join, true, "the SearchDomain's autojoin");
    const table = await cluster.kubectl(['get', 'foreignclusters']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /my-cluster/);
    assert.match(table.stdout, new RegExp(GUIDE_IDENTITY.clusterId));
    log(`kubectl get foreignclusters:\n${table.stdout}`);
  });

  /** kubectl apply of one ForeignCluster in a loop until `stop()`; every failure kept. */
  function applyLoop(name: string) {
    let running = true;
    const failures: string[] = [];
    const latenciesMs: number[] = [];
    const done = (async () => {
      for (let i = 0; running; i++) {
        const t = Date.now();
        const r = await apply(fcJson(name, { authUrl: `https://10.77.99.9:${1000 + (i % 60000)}` }));
        latenciesMs.push(Date.now() - t);
        if (r.code !== 0) failures.push(r.stderr.trim());
      }
    })();
    return {
      failures,
      latenciesMs,
      async stop() {
        running = false;
        await done;
      },
    };
  }

  it('killing a webhook pod: the other replica answers and no admission fails', async function () {
    this.timeout(300_000);
    const loop = applyLoop('webhook-kill');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const [victim] = await pods(WEBHOOK);
    const killed = await cluster.kubectl(['delete', 'pod', '-n', NS, victim!.metadata.name, '--wait=true']);
    assert.equal(killed.code, 0, killed.stderr);
    // until the replacement is Ready again
    await eventually('two webhook pods Ready again', async () => {
      const now = await pods(WEBHOOK);
      const readyCount = now.filter((p) =>
        p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      ).length;
      return readyCount === 2 && !now.some((p) => p.metadata.name === victim!.metadata.name)
        ? true
        : undefined;
    });
    await loop.stop();
    assert.deepEqual(loop.failures, [], 'every kubectl apply succeeded');
    assert.ok(loop.latenciesMs.length > 5, `${loop.latenciesMs.length} applies`);
    // the preStop hook must run (the image has no shell or `sleep` program)
    const events = await cluster.kubectl([
      'get',
      'events',
      '-n',
      NS,
      '--field-selector',
      'reason=FailedPreStopHook',
      '-o',
      'name',
    ]);
    assert.equal(events.stdout.trim(), '', 'no FailedPreStopHook event');
    const sorted = [...loop.latenciesMs].sort((a, b) => a - b);
    console.log(
      `    kubectl apply through the webhook while a webhook pod was killed: ${sorted.length} applies, p50 ${percentile(sorted, 50)} ms, p99 ${percentile(sorted, 99)} ms`,
    );
    await cluster.kubectl(['delete', 'foreigncluster', 'webhook-kill']);
  });

  it('killing the agent pod: its replacement takes the Lease and ForeignClusters keep being refreshed', async function () {
    this.timeout(300_000);
    const leaseHolder = async () =>
      (await getJson<{ items: { spec: { holderIdentity?: string } }[] }>(cluster, ['leases', '-n', NS])).items
        .map((l) => l.spec.holderIdentity)
        .find((h) => h?.startsWith('liqo-discovery-agent-'));
    const [old] = await pods(AGENT);
    assert.equal(await leaseHolder(), old!.metadata.name);
    const killed = await cluster.kubectl(['delete', 'pod', '-n', NS, old!.metadata.name, '--wait=true']);
    assert.equal(killed.code, 0, killed.stderr);
    const killedAt = new Date();
    const replacement = await eventually('a new agent pod holding the Lease', async () => {
      const [pod] = await pods(AGENT);
      if (!pod || pod.metadata.name === old!.metadata.name) return undefined;
      return (await leaseHolder()) === pod.metadata.name ? pod.metadata.name : undefined;
    });
    log(`agent ${old!.metadata.name} killed; ${replacement} holds the Lease`);
    await eventually(
      "the SearchDomain's ForeignCluster seen again after the kill",
      async () => {
        const list = (await getJson<{ items: ForeignClusterJson[] }>(cluster, ['foreignclusters'])).items;
        const wan = list.find((fc) => fc.spec.clusterIdentity?.clusterID === GUIDE_IDENTITY.clusterId);
        const seen = wan?.metadata.annotations?.['discovery.liqo.io/last-seen'];
        return seen && new Date(seen) > killedAt ? seen : undefined;
      },
      120_000,
    );
  });

  it('the serving certificate renewed while kubectl apply runs in a loop: no failed request', async function () {
    this.timeout(600_000);
    // The release renews 240 h before a 720 h certificate ends: too long to wait. The same
    // Deployment with a 2-minute certificate renewed 90 s before its end renews every 30 s.
    const deploy = await getJson<{ spec: { template: { spec: { containers: { args: string[] }[] } } } }>(
      cluster,
      ['deployment', '-n', NS, 'liqo-webhook'],
    );
    const args = deploy.spec.template.spec.containers[0]!.args.map((a) =>
      a.startsWith('--serving-cert-validity=')
        ? '--serving-cert-validity=2m'
        : a.startsWith('--renew-before=')
          ? '--renew-before=90s'
          : a,
    );
    const patched = await cluster.kubectl([
      'patch',
      'deployment',
      '-n',
      NS,
      'liqo-webhook',
      '--type',
      'json',
      '--patch',
      JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/args', value: args }]),
    ]);
    assert.equal(patched.code, 0, patched.stderr);
    const rolled = await cluster.kubectl(
      ['rollout', 'status', '-n', NS, 'deployment/liqo-webhook', '--timeout=240s'],
      { timeoutMs: 260_000 },
    );
    assert.equal(rolled.code, 0, `${rolled.stderr}\n${await podState()}`);

    const issuedCount = async () => {
      let fewest = Infinity;
      for (const p of await pods(WEBHOOK)) {
        const logs = await cluster.kubectl(['logs', '-n', NS, p.metadata.name]);
        fewest = Math.min(fewest, (logs.stdout.match(/serving certificate issued/g) ?? []).length);
      }
      return fewest;
    };
    const loop = applyLoop('rotation');
    // every replica renews at least twice under the loop
    await eventually(
      'two renewals in each webhook pod',
      async () => ((await issuedCount()) >= 3 ? true : undefined),
      240_000,
    );
    await loop.stop();
    assert.deepEqual(loop.failures, [], 'every kubectl apply succeeded across the renewals');
    const sorted = [...loop.latenciesMs].sort((a, b) => a - b);
    console.log(
      `    webhook through the Service, kubectl apply in a loop across certificate renewals: ${sorted.length} applies, p50 ${percentile(sorted, 50)} ms, p99 ${percentile(sorted, 99)} ms (whole kubectl runs); API server's webhook histogram p99 ${await apiserverWebhookP99(cluster)}`,
    );
    await cluster.kubectl(['delete', 'foreigncluster', 'rotation']);
  });

  it('uninstall: everything install added is gone, no webhook configuration left', async function () {
    this.timeout(300_000);
    await cluster.kubectl(['delete', 'searchdomains,foreignclusters', '--all']);
    const r = await liqo(['uninstall', '--delete-crds', '--delete-namespace']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await webhookConfigurations(), '');
    await eventually('namespace liqo gone', async () => {
      const ns = await cluster.kubectl(['get', 'namespace', NS]);
      return ns.code !== 0 ? true : undefined;
    });
    const crds = await cluster.kubectl(['get', 'crds', '-o', 'name']);
    assert.doesNotMatch(crds.stdout, /liqo/);
    const rbac = await cluster.kubectl(['get', 'clusterroles,clusterrolebindings', '-o', 'name']);
    assert.doesNotMatch(rbac.stdout, /liqo/);
    // and the cluster takes any write again
    const plain = await cluster.kubectl(['create', 'configmap', 'after-uninstall', '--from-literal=a=b']);
    assert.equal(plain.code, 0, plain.stderr);
    await cluster.kubectl(['delete', 'configmap', 'after-uninstall']);
  });
});
