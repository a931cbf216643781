// Two clusters on one LAN, end to end. Each "cluster" is a network namespace on a shared
// bridge holding its own etcd, kube-apiserver, CRDs and discovery agents (see
// two-clusters.member.ts); a third namespace is a bystander on the same LAN. Everything is
// checked with the real kubectl, run inside the cluster's namespace. All traffic stays inside
// namespaces this test creates, on a private /24 that exists only there.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { KUBECTL, runCommand, type CommandResult } from '../harness/kubectl.js';
import type { ForeignCluster, SearchDomain } from '../../shared/api/types.js';
import type { MemberInfo, MemberSpec } from './two-clusters.member.js';
import { eventually } from './agent-cluster-fixture.js';
import { installPluginOnPath, type PluginOnPath } from './plugin-helpers.js';
import { JsonLinesChild } from '../helpers/netns.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const ROOT = join(import.meta.dirname, '../..');
const prefix = `lq${randomBytes(3).toString('hex')}`;
const subnet = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;
const LAN_NS = `${prefix}-lan`;
const hosts = {
  a: { ns: `${prefix}-a`, ip: `${subnet}.2` },
  b: { ns: `${prefix}-b`, ip: `${subnet}.3` },
  c: { ns: `${prefix}-c`, ip: `${subnet}.4` },
};
const LEASE_SECONDS = 15;
const SUITE_TIMEOUT_MS = 180_000;
const TTL = 30;

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function createLan(): void {
  ip(['netns', 'add', LAN_NS]);
  ip(['-n', LAN_NS, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
  ip(['-n', LAN_NS, 'link', 'set', 'br0', 'up']);
  for (const [name, h] of Object.entries(hosts)) {
    ip(['netns', 'add', h.ns]);
    ip(['-n', LAN_NS, 'link', 'add', `v-${name}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.ns]);
    ip(['-n', LAN_NS, 'link', 'set', `v-${name}`, 'master', 'br0', 'up']);
    ip(['-n', h.ns, 'link', 'set', 'lo', 'up']);
    ip(['-n', h.ns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0']);
    ip(['-n', h.ns, 'link', 'set', 'eth0', 'up']);
    ip(['-n', h.ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
  }
}

function deleteLan(): void {
  for (const ns of [...Object.values(hosts).map((h) => h.ns), LAN_NS]) {
    try {
      ip(['netns', 'del', ns]);
    } catch {
      // not created
    }
  }
}

interface Member {
  info: MemberInfo;
  child: ChildProcess;
  ns: string;
  kubectl(args: string[], input?: string): Promise<CommandResult>;
  json<T>(args: string[]): Promise<T>;
}

async function startMember(ns: string, spec: MemberSpec): Promise<Member> {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      process.execPath,
      '--import',
      'tsx',
      join(ROOT, 'test/e2e/two-clusters.member.ts'),
      JSON.stringify(spec),
    ],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const info = await new Promise<MemberInfo>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve(JSON.parse(line) as MemberInfo));
    child.once('exit', (code) =>
      reject(new Error(`cluster ${spec.name} exited (${code}): ${stderr.slice(-2000)}`)),
    );
  });
  const kubectl = (args: string[], input?: string) =>
    runCommand(
      'ip',
      ['netns', 'exec', ns, KUBECTL, `--kubeconfig=${info.kubeconfig}`, ...args],
      input === undefined ? {} : { input },
    );
  return {
    info,
    child,
    ns,
    kubectl,
    async json<T>(args: string[]): Promise<T> {
      const r = await kubectl([...args, '-o', 'json']);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    },
  };
}

async function stopMember(m: Member | undefined): Promise<void> {
  if (!m || m.child.exitCode !== null) return;
  const gone = new Promise((r) => m.child.once('exit', r));
  m.child.kill('SIGTERM');
  const timer = setTimeout(() => m.child.kill('SIGKILL'), 20_000);
  await gone;
  clearTimeout(timer);
}

const agentArgs = [
  '--gc-interval=3',
  '--searchdomain-interval=5',
  `--lease-duration=${LEASE_SECONDS}`,
  '--renew-deadline=10',
];

describe('two clusters on one LAN', function () {
  this.timeout(SUITE_TIMEOUT_MS);
  let a: Member | undefined;
  let b: Member | undefined;
  let idA = '';
  let idB = '';
  const bystanders: ChildProcess[] = [];
  /** A continuous mDNS browser in the bystander's namespace: what the LAN sees. */
  let watcher: JsonLinesChild | undefined;
  const HANGING_PEER = 'hanging-peer-0000';
  const DEAD_PEER = 'dead-peer-0000';
  const zone = [
    'clusters.test. PTR cluster-b.clusters.test.',
    `cluster-b.clusters.test. SRV 0 0 8443 auth.cluster-b.clusters.test.`,
    `auth.cluster-b.clusters.test. A ${hosts.b.ip}`,
  ].join('\n');

  before(async function () {
    if (process.getuid?.() !== 0) this.skip(); // network namespaces need root
    this.timeout(300_000);
    createLan();
    // two bad peers on the LAN, from the bystander's namespace: one whose /ids never answers
    // (a TCP listener that never completes TLS), one advertising a port where nothing listens
    bystanders.push(
      spawn(
        'ip',
        [
          'netns',
          'exec',
          hosts.c.ns,
          process.execPath,
          '-e',
          "require('net').createServer(() => {}).listen(9443)",
        ],
        { stdio: 'ignore' },
      ),
    );
    for (const [clusterId, port] of [
      [HANGING_PEER, 9443],
      [DEAD_PEER, 9444],
    ] as const) {
      bystanders.push(
        spawn(
          'ip',
          [
            'netns',
            'exec',
            hosts.c.ns,
            process.execPath,
            '--import',
            'tsx',
            join(ROOT, 'test/helpers/mdns-advertise.ts'),
            JSON.stringify({ clusterId, port, ttl: TTL, interfaces: [hosts.c.ip] }),
          ],
          { cwd: ROOT, stdio: 'ignore' },
        ),
      );
    }
    watcher = new JsonLinesChild(
      spawn(
        'ip',
        [
          'netns',
          'exec',
          hosts.c.ns,
          process.execPath,
          '--import',
          'tsx',
          join(ROOT, 'test/helpers/mdns-browse.ts'),
          JSON.stringify({ mode: 'continuous', interfaces: [hosts.c.ip] }),
        ],
        { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
      ),
    );
    // bounded by this hook's timeout only: a loaded machine can take long to start tsx
    await watcher.waitFor((m) => m['event'] === 'ready', 300_000);
    bystanders.push(watcher.child);
    const base = { interfaceName: 'eth0', idsPortBase: 8443, healthPortBase: 8081, agentArgs };
    [a, b] = await Promise.all([
      startMember(hosts.a.ns, {
        ...base,
        name: 'cluster-a',
        address: hosts.a.ip,
        agents: 2,
        zones: { 'clusters.test': zone },
        discoveryConfig: {
          clusterName: 'cluster-a',
          ttl: TTL,
          autojoin: false,
          autojoinUntrusted: true,
          enableDiscovery: true,
          enableAdvertisement: true,
        },
      }),
      startMember(hosts.b.ns, {
        ...base,
        name: 'cluster-b',
        address: hosts.b.ip,
        agents: 1,
        discoveryConfig: {
          clusterName: 'cluster-b',
          ttl: TTL,
          autojoin: true,
          autojoinUntrusted: false,
          enableDiscovery: true,
          enableAdvertisement: true,
        },
      }),
    ]);
    const readId = async (m: Member) =>
      eventually(`${m.info.name} cluster id`, async () => {
        const cm = await m.json<{ data?: Record<string, string> }>([
          '-n',
          'liqo',
          'get',
          'configmap',
          'cluster-id',
        ]);
        return cm.data?.['cluster-id'];
      });
    [idA, idB] = await Promise.all([readId(a), readId(b)]);
  });

  after(async function () {
    this.timeout(60_000);
    for (const p of bystanders) p.kill('SIGTERM');
    await Promise.allSettled([stopMember(a), stopMember(b)]);
    deleteLan();
  });

  const fcOf = (m: Member, name: string) => m.json<ForeignCluster>(['get', 'foreignclusters', name]);
  const fcExists = async (m: Member, name: string) =>
    (await m.kubectl(['get', 'foreignclusters', name])).code === 0;

  it('A and B find each other by mDNS, with the right identity, auth URL, trust and join', async () => {
    const onA = await eventually(
      'A has a ForeignCluster for B',
      async () => ((await fcExists(a!, idB)) ? fcOf(a!, idB) : undefined),
      90_000,
      1000,
    );
    assert.equal(onA.spec.discoveryType, 'LAN');
    assert.deepEqual(onA.spec.clusterIdentity, { clusterID: idB, clusterName: 'cluster-b' });
    assert.equal(onA.spec.authUrl, `https://${hosts.b.ip}:8443`);
    assert.equal(onA.spec.trustMode, 'Untrusted', 'self-signed /ids certificate');
    assert.equal(onA.spec.join, true, "A's autojoinUntrusted is true");
    assert.equal(onA.spec.namespace, 'liqo');
    assert.ok((onA.status?.ttl ?? 0) >= TTL);

    const onB = await eventually(
      'B has a ForeignCluster for A',
      async () => ((await fcExists(b!, idA)) ? fcOf(b!, idA) : undefined),
      90_000,
      1000,
    );
    assert.equal(onB.spec.discoveryType, 'LAN');
    assert.deepEqual(onB.spec.clusterIdentity, { clusterID: idA, clusterName: 'cluster-a' });
    assert.match(onB.spec.authUrl, new RegExp(`^https://${hosts.a.ip.replace(/\./g, '\\.')}:844[34]$`));
    assert.equal(onB.spec.join, false, "B's autojoinUntrusted is false");

    const namesA = (await a!.json<{ items: ForeignCluster[] }>(['get', 'foreignclusters'])).items.map(
      (f) => f.metadata.name,
    );
    const namesB = (await b!.json<{ items: ForeignCluster[] }>(['get', 'foreignclusters'])).items.map(
      (f) => f.metadata.name,
    );
    assert.ok(!namesA.includes(idA), 'A does not list itself');
    // the peers whose /ids hangs or is refused were seen too, and did not hold B up
    const skipped = await eventually('the bad peers tried and skipped', async () => {
      const logs = a!.info.agents.map((x) => readFileSync(x.logFile, 'utf8')).join('');
      return logs.includes(HANGING_PEER) && logs.includes(DEAD_PEER) ? logs : undefined;
    });
    assert.match(skipped, /LAN peer skipped/);
    assert.ok(
      !namesA.some((n) => n === HANGING_PEER || n === DEAD_PEER),
      `no ForeignCluster for bad peers: ${namesA.join(' ')}`,
    );
    assert.ok(!namesB.includes(idB), 'B does not list itself');
  });

  it("`kubectl patch … enableAdvertisement: false` on B: A's ForeignCluster for B is gone after the TTL", async () => {
    const seenBefore = watcher!.messages.length;
    const patch = await b!.kubectl([
      'patch',
      'clusterconfigs',
      'liqo-configuration',
      '--type',
      'merge',
      '--patch',
      '{"spec":{"discoveryConfig":{"enableAdvertisement": false}}}',
    ]);
    assert.equal(patch.code, 0, patch.stderr);
    // B stops advertising with a goodbye: the LAN forgets B at once, long before the TTL, while
    // A's ForeignCluster stays until its own TTL has passed (as in Liqo)
    const isB = (m: Record<string, unknown>) =>
      (m['peer'] as { clusterId?: string } | undefined)?.clusterId === idB;
    await watcher!.waitFor((m) => m['event'] === 'added' && isB(m), SUITE_TIMEOUT_MS);
    const patchedAt = Date.now();
    await eventually(
      'the LAN forgets B',
      async () =>
        watcher!.messages.slice(seenBefore).some((m) => m['event'] === 'removed' && isB(m))
          ? true
          : undefined,
      (TTL + 30) * 1000,
      100,
    );
    console.log(
      `      (the LAN forgot B ${((Date.now() - patchedAt) / 1000).toFixed(1)} s after the patch; record TTL ${TTL} s)`,
    );
    assert.ok(await fcExists(a!, idB), "A's ForeignCluster outlives the goodbye until its TTL");
    await eventually(
      'A drops B',
      async () => ((await fcExists(a!, idB)) ? undefined : true),
      (TTL + 60) * 1000,
      1000,
    );
  });

  it('a SearchDomain on A whose zone points at B: a WAN ForeignCluster owned by it, listed in its status', async () => {
    const apply = await a!.kubectl(
      ['apply', '-f', '-'],
      'apiVersion: discovery.liqo.io/v1alpha1\nkind: SearchDomain\nmetadata:\n  name: clusters.test\nspec:\n  domain: clusters.test\n  autojoin: true\n',
    );
    assert.equal(apply.code, 0, apply.stderr);
    const fc = await eventually(
      'WAN ForeignCluster for B',
      async () => ((await fcExists(a!, idB)) ? fcOf(a!, idB) : undefined),
      60_000,
      1000,
    );
    const sd = await a!.json<SearchDomain>(['get', 'searchdomains', 'clusters.test']);
    assert.equal(fc.spec.discoveryType, 'WAN');
    assert.equal(fc.spec.authUrl, 'https://auth.cluster-b.clusters.test:8443');
    assert.equal(fc.spec.join, true, 'the SearchDomain has autojoin: true');
    assert.equal(fc.metadata.labels?.['discovery.liqo.io/searchdomain'], 'clusters.test');
    assert.deepEqual(
      fc.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid]),
      [['SearchDomain', 'clusters.test', sd.metadata.uid]],
    );
    const listed = await eventually('SearchDomain status', async () => {
      const s = await a!.json<SearchDomain>(['get', 'searchdomains', 'clusters.test']);
      return s.status?.clusters?.find((c) => c.clusterId === idB);
    });
    assert.equal(listed.foreignCluster, idB);
    assert.equal(listed.error, undefined);

    const del = await a!.kubectl(['delete', 'searchdomain', 'clusters.test']);
    assert.equal(del.code, 0, del.stderr);
    await eventually(
      'WAN ForeignCluster removed with its SearchDomain',
      async () => ((await fcExists(a!, idB)) ? undefined : true),
      30_000,
      500,
    );
  });

  it("a Manual ForeignCluster on A with only B's authUrl gets B's identity filled in", async () => {
    const apply = await a!.kubectl(
      ['apply', '-f', '-'],
      `apiVersion: discovery.liqo.io/v1alpha1\nkind: ForeignCluster\nmetadata:\n  name: my-cluster\nspec:\n  join: false\n  authUrl: "https://${hosts.b.ip}:8443"\n`,
    );
    assert.equal(apply.code, 0, apply.stderr);
    const fc = await eventually('identity filled', async () => {
      const f = await fcOf(a!, 'my-cluster');
      return f.spec.clusterIdentity?.clusterID ? f : undefined;
    });
    assert.deepEqual(fc.spec.clusterIdentity, { clusterID: idB, clusterName: 'cluster-b' });
    assert.equal(fc.spec.namespace, 'liqo');
    assert.equal(fc.spec.trustMode, 'Untrusted');
    assert.equal(fc.status?.conditions?.find((c) => c.type === 'IdentityResolved')?.status, 'True');
    assert.equal((await a!.kubectl(['delete', 'foreigncluster', 'my-cluster'])).code, 0);
  });

  it("patching B's advertisement back on brings A's LAN ForeignCluster back", async () => {
    const patch = await b!.kubectl([
      'patch',
      'clusterconfigs',
      'liqo-configuration',
      '--type',
      'merge',
      '--patch',
      '{"spec":{"discoveryConfig":{"enableAdvertisement": true}}}',
    ]);
    assert.equal(patch.code, 0, patch.stderr);
    const fc = await eventually(
      'A has B again',
      async () => ((await fcExists(a!, idB)) ? fcOf(a!, idB) : undefined),
      60_000,
      1000,
    );
    assert.equal(fc.spec.discoveryType, 'LAN');
  });

  it('`kubectl liqo discover` run in a third namespace on the LAN lists both clusters', async function () {
    let plugin: PluginOnPath | undefined;
    const home = mkdtempSync(join(tmpdir(), 'liqo-discover-home-'));
    try {
      plugin = await installPluginOnPath();
      // no kubeconfig in the bystander's namespace: --lan browses anyway
      const r = await runCommand(
        'ip',
        ['netns', 'exec', hosts.c.ns, KUBECTL, 'liqo', 'discover', '--lan', '-o', 'json', '--timeout', '8s'],
        {
          env: {
            ...process.env,
            PATH: `${plugin.binDir}:${process.env['PATH'] ?? ''}`,
            KUBECONFIG: join(home, 'none'),
            HOME: home,
            NO_COLOR: '1',
          },
          timeoutMs: 60_000,
        },
      );
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as {
        clusters: Array<{ clusterId?: string; clusterName?: string; authUrl: string; trustMode?: string }>;
      };
      const a2 = doc.clusters.find((c) => c.clusterId === idA);
      const b2 = doc.clusters.find((c) => c.clusterId === idB);
      assert.ok(a2 && b2, `both clusters listed: ${r.stdout}`);
      assert.equal(a2.clusterName, 'cluster-a');
      assert.equal(b2.clusterName, 'cluster-b');
      assert.equal(b2.authUrl, `https://${hosts.b.ip}:8443`);
      assert.equal(b2.trustMode, 'Untrusted');
    } finally {
      plugin?.remove();
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('killing the active agent: the standby takes over once the Lease has expired', async () => {
    type Lease = { spec: { holderIdentity?: string; renewTime?: string; acquireTime?: string } };
    const readLease = () => a!.json<Lease>(['-n', 'liqo', 'get', 'lease', 'liqo-discovery-agent']);
    const holder = (await readLease()).spec.holderIdentity;
    const active = a!.info.agents.find((x) => x.identity === holder);
    const standby = a!.info.agents.find((x) => x.identity !== holder);
    assert.ok(active && standby, `holder ${holder} is one of A's agents`);
    process.kill(active.pid, 'SIGKILL'); // no graceful release: the Lease must expire
    const killedAt = Date.now();
    const lastRenew = Date.parse((await readLease()).spec.renewTime ?? '');
    // a standby may take it once leaseDuration has passed since the last renewal it saw (it
    // notices within one retry interval, 2 s; how long it took is printed below, not asserted:
    // the suite's mocha timeout is the only bound on the wait)
    const lease = await eventually(
      'standby holds the Lease',
      async () => {
        const l = await readLease();
        return l.spec.holderIdentity === standby.identity ? l : undefined;
      },
      SUITE_TIMEOUT_MS,
      250,
    );
    const acquired = Date.parse(lease.spec.acquireTime ?? '');
    // not before the Lease expired (a lower bound, the rule itself: load only makes it later)
    assert.ok(
      acquired >= lastRenew + LEASE_SECONDS * 1000,
      `acquired at ${lease.spec.acquireTime}, less than ${LEASE_SECONDS} s after the last renewal ${new Date(lastRenew).toISOString()}`,
    );
    console.log(
      `      (standby took over ${((acquired - killedAt) / 1000).toFixed(1)} s after the kill, ` +
        `${((acquired - lastRenew) / 1000).toFixed(1)} s after the last renewal; lease ${LEASE_SECONDS} s)`,
    );
    // the new leader keeps B current: B's ForeignCluster on A keeps being refreshed
    const before = Number((await fcOf(a!, idB)).metadata.annotations?.['LastUpdate'] ?? 0);
    await eventually(
      'refreshed by the new leader',
      async () => {
        const now = Number((await fcOf(a!, idB)).metadata.annotations?.['LastUpdate'] ?? 0);
        return now > before ? true : undefined;
      },
      40_000,
      1000,
    );
  });
});
