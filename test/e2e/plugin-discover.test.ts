// `kubectl liqo discover` for real: a LAN of network namespaces (test/helpers/netns.ts). h0 is
// "our" cluster (control plane, webhook and BIND all inside h0, plus an mDNS advertisement of
// ourselves); h1 is a peer advertising by mDNS and serving /ids. Every discover runs inside h0,
// never in the root namespace.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { KUBECTL, runCommand, type CommandResult } from '../harness/kubectl.js';
import { REPO_ROOT } from '../harness/liqo-environment.js';
import {
  createLan,
  tsxCommand,
  type JsonLinesChild,
  type NetnsHost,
  type NetnsLan,
} from '../helpers/netns.js';
import { scratchDir } from '../helpers/scratch-dir.js';
import { installPluginOnPath, type PluginOnPath } from './plugin-helpers.js';

interface DiscoverJson {
  clusters: {
    clusterId?: string;
    clusterName?: string;
    authUrl: string;
    sources: string[];
    trustMode?: string;
    status?: string;
    error?: string;
  }[];
}

const DOMAIN = 'example.test';
const ALLOWED_KEYS = ['clusterId', 'clusterName', 'authUrl', 'sources', 'trustMode', 'status', 'error'];

describe('kubectl liqo discover (e2e, namespace LAN, real BIND and API server)', function () {
  this.timeout(240_000);
  let lan: NetnsLan;
  let plugin: PluginOnPath;
  let h0: NetnsHost;
  let h1: NetnsHost;
  let cluster: JsonLinesChild;
  let peer: JsonLinesChild;
  let kubeconfig: string;
  let ownId: string;
  let dnsServer: string;
  let peerUrl: string;
  const peerId = randomUUID();

  /** `kubectl liqo …` inside h0. */
  const liqo = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> =>
    runCommand('ip', ['netns', 'exec', h0.ns, KUBECTL, 'liqo', ...args], {
      env: {
        ...process.env,
        PATH: `${plugin.binDir}:${process.env.PATH ?? ''}`,
        KUBECONFIG: kubeconfig,
        NO_COLOR: '1',
        ...env,
      },
      timeoutMs: 60_000,
    });
  const discoverJson = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = await liqo(['discover', '-o', 'json', '--timeout', '8s', ...args], env);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as DiscoverJson;
    for (const c of doc.clusters) {
      for (const k of Object.keys(c)) assert.ok(ALLOWED_KEYS.includes(k), `unexpected key ${k}`);
    }
    return { doc, stderr: r.stderr };
  };
  const kubectl = (args: string[]) =>
    runCommand('ip', ['netns', 'exec', h0.ns, KUBECTL, '--kubeconfig', kubeconfig, ...args]);

  before(async () => {
    [lan, plugin] = await Promise.all([createLan(2), installPluginOnPath()]);
    [h0, h1] = [lan.hosts[0]!, lan.hosts[1]!];
    peer = lan.spawnJson(
      h1,
      tsxCommand(
        join(REPO_ROOT, 'test/helpers/mdns-advertise.ts'),
        JSON.stringify({
          clusterId: peerId,
          port: 1,
          ids: { clusterName: 'peer-one' },
        }),
      ),
      { cwd: REPO_ROOT },
    );
    const started = await peer.waitFor((m) => m.event === 'started', 60_000);
    peerUrl = `https://${h1.address}:${String(started.port)}`;
    const zone = [
      `@ PTR peer.${DOMAIN}.`,
      `peer SRV 0 0 ${String(started.port)} auth.${DOMAIN}.`,
      `auth A ${h1.address}`,
    ].join('\n');
    cluster = lan.spawnJson(
      h0,
      tsxCommand(
        join(REPO_ROOT, 'test/e2e/plugin-discover-cluster.ts'),
        JSON.stringify({ zone, domain: DOMAIN }),
      ),
      { cwd: REPO_ROOT },
    );
    const ready = await cluster.waitFor((m) => m.event === 'ready' || m.event === 'error', 150_000);
    assert.equal(ready.event, 'ready', String(ready.message));
    kubeconfig = String(ready.kubeconfig);
    ownId = String(ready.clusterId);
    dnsServer = String(ready.dnsServer);
    // we advertise ourselves too, as the agent would: discover must call that row "self"
    const self = lan.spawnJson(
      h0,
      tsxCommand(
        join(REPO_ROOT, 'test/helpers/mdns-advertise.ts'),
        JSON.stringify({
          clusterId: ownId,
          port: 1,
          ids: { clusterName: 'me' },
        }),
      ),
      { cwd: REPO_ROOT },
    );
    await self.waitFor((m) => m.event === 'started', 60_000);
  });
  after(async () => {
    cluster?.send('stop');
    await cluster?.waitExit(30_000).catch(() => undefined);
    await lan?.teardown();
    plugin?.remove();
  });

  it('LAN and SearchDomains: one row per cluster across sources, with status; -o json schema and order', async () => {
    const add = await liqo(['search-domain', 'add', DOMAIN]);
    assert.equal(add.code, 0, add.stderr);
    const { doc } = await discoverJson(['--dns-server', dnsServer]);
    const ids = doc.clusters.map((c) => c.clusterId);
    assert.deepEqual(ids, [...ids].sort(), 'sorted by cluster id');
    const p = doc.clusters.find((c) => c.clusterId === peerId);
    // the same cluster at its LAN address and its DNS name: one row, whichever answered first
    const dnsUrl = peerUrl.replace(h1.address, `auth.${DOMAIN}`);
    assert.ok([peerUrl, dnsUrl].includes(p?.authUrl ?? ''), p?.authUrl);
    assert.deepEqual(p, {
      clusterId: peerId,
      clusterName: 'peer-one',
      authUrl: p?.authUrl,
      sources: ['lan', `searchdomain:${DOMAIN}`],
      trustMode: 'Untrusted',
      status: 'new',
    });
    const me = doc.clusters.find((c) => c.clusterId === ownId);
    assert.equal(me?.status, 'self');
    assert.equal(doc.clusters.length, 2, JSON.stringify(doc));
  });

  it('the table streams one row per cluster with the six columns', async () => {
    const r = await liqo(['discover', '--dns-server', dnsServer, '--timeout', '8s']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^CLUSTER-ID\s+NAME\s+AUTH-URL\s+SOURCE\s+TRUST\s+STATUS$/);
    assert.equal(lines.length, 3);
    assert.ok(
      lines.some((l) => l.includes(peerId) && /Untrusted\s+new$/.test(l)),
      r.stdout,
    );
  });

  it('--url and --domain search only what they name', async () => {
    const byUrl = await discoverJson(['--url', peerUrl]);
    assert.deepEqual(
      byUrl.doc.clusters.map((c) => [c.clusterId, c.sources]),
      [[peerId, ['url']]],
    );
    const byDomain = await discoverJson(['--domain', DOMAIN, '--dns-server', dnsServer]);
    assert.deepEqual(
      byDomain.doc.clusters.map((c) => [c.clusterId, c.sources]),
      [[peerId, [`dns:${DOMAIN}`]]],
    );
  });

  it('an unreachable endpoint is a row with its reason, not a failure', async () => {
    const { doc } = await discoverJson(['--url', `https://${h1.address}:1`]);
    assert.equal(doc.clusters.length, 1);
    assert.equal(doc.clusters[0]!.status, 'unreachable');
    assert.match(doc.clusters[0]!.error ?? '', /refused/);
    assert.equal(doc.clusters[0]!.clusterId, undefined);
  });

  it('--skip-identity lists endpoints without reading /ids', async () => {
    const { doc } = await discoverJson(['--lan', '--skip-identity']);
    const p = doc.clusters.find((c) => c.clusterId === peerId);
    assert.equal(p?.authUrl, peerUrl);
    assert.equal(p?.trustMode, undefined, 'no identity, no trust');
  });

  it('--interface limits mDNS to the interfaces named', async () => {
    const onEth0 = await discoverJson(['--lan', '--interface', 'eth0']);
    assert.ok(
      onEth0.doc.clusters.some((c) => c.clusterId === peerId),
      JSON.stringify(onEth0.doc),
    );
    // the peer is on the other end of eth0: browsing loopback only cannot hear it
    const onLo = await discoverJson(['--lan', '--interface', 'lo']);
    assert.ok(!onLo.doc.clusters.some((c) => c.clusterId === peerId), JSON.stringify(onLo.doc));
  });

  it('honours enableDiscovery: false unless --lan is given', async () => {
    assert.equal((await liqo(['discovery', 'disable', '--lan-discovery'])).code, 0);
    try {
      const off = await discoverJson(['--dns-server', dnsServer]);
      assert.match(off.stderr, /LAN discovery is disabled in ClusterConfig/);
      assert.ok(
        off.doc.clusters.every((c) => !c.sources.includes('lan')),
        JSON.stringify(off.doc),
      );
      const forced = await discoverJson(['--lan']);
      assert.ok(forced.doc.clusters.some((c) => c.clusterId === peerId && c.sources.includes('lan')));
    } finally {
      await liqo(['discovery', 'enable']);
    }
  });

  it('without a kubeconfig it still discovers, says why there is no status, and never loads the client library', async () => {
    const home = scratchDir('liqo-nokube-');
    const noKube = { KUBECONFIG: join(home, 'none'), HOME: home };
    const { doc, stderr } = await discoverJson(['--url', peerUrl], noKube);
    assert.match(stderr, /no kubeconfig.*cannot be shown/);
    assert.equal(doc.clusters[0]!.clusterId, peerId);
    assert.equal(doc.clusters[0]!.status, undefined);

    // an ESM resolve hook records every import of @kubernetes/client-node
    const log = join(home, 'imports.log');
    writeFileSync(
      join(home, 'loader.mjs'),
      `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (specifier.includes('@kubernetes/client-node')) appendFileSync(${JSON.stringify(log)}, specifier + '\\n');
  return next(specifier, context);
}\n`,
    );
    writeFileSync(
      join(home, 'hook.mjs'),
      `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${join(home, 'loader.mjs')}`)});\n`,
    );
    const node = (args: string[], env: NodeJS.ProcessEnv) =>
      spawnSync(
        'ip',
        [
          'netns',
          'exec',
          h0.ns,
          process.execPath,
          '--import',
          join(home, 'hook.mjs'),
          plugin.bundle,
          ...args,
        ],
        {
          env: { ...process.env, ...env },
          encoding: 'utf8',
        },
      );
    const run = node(['discover', '--url', peerUrl, '-o', 'json'], noKube);
    assert.equal(run.status, 0, run.stderr);
    assert.throws(() => readFileSync(log, 'utf8'), /ENOENT/, 'client-node was imported');
    // the hook does see it when a command talks to the cluster
    assert.equal(node(['list'], { KUBECONFIG: kubeconfig }).status, 0);
    assert.match(readFileSync(log, 'utf8'), /@kubernetes\/client-node/);
  });

  it('--join joins every new cluster (not ourselves); the next run shows it joined', async () => {
    const r = await liqo(['discover', '--url', peerUrl, '--join', '--timeout', '8s']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`foreigncluster\\.discovery\\.liqo\\.io/${peerId} created`));
    const fc = await kubectl([
      'get',
      'foreignclusters',
      peerId,
      '-o',
      'jsonpath={.spec.join} {.spec.authUrl}',
    ]);
    assert.equal(fc.stdout, `true ${peerUrl}`);
    const again = await discoverJson(['--url', peerUrl]);
    assert.equal(again.doc.clusters[0]!.status, 'joined');
    assert.equal(
      (await kubectl(['get', 'foreignclusters', ownId, '--ignore-not-found', '-o', 'name'])).stdout,
      '',
    );
    await liqo(['unjoin', peerId]);
    const known = await discoverJson(['--url', peerUrl]);
    assert.equal(known.doc.clusters[0]!.status, `known: ${peerId}`);
    assert.equal((await liqo(['unjoin', peerId, '--delete'])).code, 0);
  });

  it('-i: the checkbox picker on a real terminal (tmux) joins what is ticked', async () => {
    const socket = `liqo-test-${process.pid}`;
    const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    const script = join(scratchDir('liqo-picker-'), 'run.sh');
    writeFileSync(
      script,
      [
        `export PATH=${plugin.binDir}:$PATH KUBECONFIG=${kubeconfig} NO_COLOR=1`,
        `ip netns exec ${h0.ns} ${KUBECTL} liqo discover -i --url ${peerUrl} --timeout 8s`,
        'echo "EXIT=$?"',
        'sleep 60',
      ].join('\n'),
    );
    const paneText = () => tmux('capture-pane', '-p', '-t', 'picker').stdout;
    const waitForPane = async (re: RegExp) => {
      for (let i = 0; i < 150; i++) {
        if (re.test(paneText())) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`pane never showed ${re}:\n${paneText()}`);
    };
    assert.equal(
      tmux('new-session', '-d', '-s', 'picker', '-x', '200', '-y', '40', `sh ${script}`).status,
      0,
    );
    try {
      await waitForPane(/Clusters to join/);
      await waitForPane(/peer-one/);
      tmux('send-keys', '-t', 'picker', 'Space');
      tmux('send-keys', '-t', 'picker', 'Enter');
      await waitForPane(/EXIT=\d+/);
      const pane = paneText();
      assert.match(pane, /EXIT=0/, pane);
      assert.match(pane, new RegExp(`foreigncluster\\.discovery\\.liqo\\.io/${peerId} created`), pane);
      const fc = await kubectl(['get', 'foreignclusters', peerId, '-o', 'jsonpath={.spec.join}']);
      assert.equal(fc.stdout, 'true');
    } finally {
      tmux('kill-server');
      await liqo(['unjoin', peerId, '--delete']);
    }
  });

  it('-i without a terminal and --join without a cluster fail in one line', async () => {
    const r = await liqo(['discover', '-i', '--url', peerUrl]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: -i needs a terminal/m);
    const home = scratchDir('liqo-nokube-');
    const j = await liqo(['discover', '--join', '--url', peerUrl], {
      KUBECONFIG: join(home, 'x'),
      HOME: home,
    });
    assert.equal(j.code, 1);
    assert.match(j.stderr, /^error: -i and --join need a cluster/m);
  });

  it('--watch prints ADDED, then REMOVED when the peer says goodbye', async () => {
    assert.equal((await liqo(['search-domain', 'remove', DOMAIN])).code, 0);
    // An interval of an hour: the LAN is browsed continuously, so REMOVED must come from the
    // peer's goodbye packets, not from a later round.
    const watch = lan.spawnJson(
      h0,
      [KUBECTL, 'liqo', 'discover', '--watch', '--lan', '-o', 'json', '--interval', '1h'],
      {
        env: {
          ...process.env,
          PATH: `${plugin.binDir}:${process.env.PATH ?? ''}`,
          KUBECONFIG: kubeconfig,
          NO_COLOR: '1',
        },
      },
    );
    const added = await watch.waitFor(
      (m) => m.type === 'ADDED' && (m.cluster as { clusterId?: string }).clusterId === peerId,
      30_000,
    );
    assert.equal((added.cluster as { status?: string }).status, 'new');
    peer.send('stop');
    await peer.waitFor((m) => m.event === 'stopped', 15_000);
    await watch.waitFor(
      (m) => m.type === 'REMOVED' && (m.cluster as { clusterId?: string }).clusterId === peerId,
      10_000,
    );
    watch.child.kill('SIGINT');
  });

  it('--watch judges STATUS by the ForeignClusters as they are now, not as they were at its start', async () => {
    const lateId = randomUUID();
    const watch = lan.spawnJson(
      h0,
      [KUBECTL, 'liqo', 'discover', '--watch', '--lan', '-o', 'json', '--interval', '1h'],
      {
        env: {
          ...process.env,
          PATH: `${plugin.binDir}:${process.env.PATH ?? ''}`,
          KUBECONFIG: kubeconfig,
          NO_COLOR: '1',
        },
      },
    );
    let late: JsonLinesChild | undefined;
    try {
      // the watch is under way once it showed ourselves
      await watch.waitFor(
        (m) => m.type === 'ADDED' && (m.cluster as { clusterId?: string }).clusterId === ownId,
        30_000,
      );
      // a ForeignCluster written meanwhile (as `kubectl liqo join` elsewhere would) ...
      const fc = JSON.stringify({
        apiVersion: 'discovery.liqo.io/v1alpha1',
        kind: 'ForeignCluster',
        metadata: { name: 'written-while-watching' },
        spec: { authUrl: `https://${h1.address}:1`, clusterIdentity: { clusterID: lateId } },
      });
      const apply = await runCommand(
        'ip',
        ['netns', 'exec', h0.ns, KUBECTL, '--kubeconfig', kubeconfig, 'apply', '-f', '-'],
        { input: fc },
      );
      assert.equal(apply.code, 0, apply.stderr);
      // ... gives the cluster that then appears its status
      late = lan.spawnJson(
        h1,
        tsxCommand(
          join(REPO_ROOT, 'test/helpers/mdns-advertise.ts'),
          JSON.stringify({ clusterId: lateId, port: 1, ids: { clusterName: 'late' } }),
        ),
        { cwd: REPO_ROOT },
      );
      const added = await watch.waitFor(
        (m) => m.type === 'ADDED' && (m.cluster as { clusterId?: string }).clusterId === lateId,
        30_000,
      );
      assert.equal((added.cluster as { status?: string }).status, 'known: written-while-watching');
    } finally {
      watch.child.kill('SIGINT');
      late?.send('stop');
      await late?.waitFor((m) => m.event === 'stopped', 15_000).catch(() => undefined);
      await kubectl(['delete', 'foreignclusters', 'written-while-watching', '--ignore-not-found']);
    }
  });
});
