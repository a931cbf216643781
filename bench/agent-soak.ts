// Soak of the discovery agent: a Liqo cluster (etcd, kube-apiserver, CRDs, webhook, one agent)
// in one network namespace, and a churning population of LAN peers (real mDNS advertisers and
// real HTTPS /ids servers) in another, on a private bridge. Every churn period some peers leave
// (with a goodbye) and new ones arrive. Prints the agent's RSS over time (start vs end: the
// anchor is the agent's own RSS after warm-up), the time from a peer starting to its
// ForeignCluster existing, and whether the ForeignClusters match the live peers at the end.
//
//   node --import tsx bench/agent-soak.ts [--minutes 10] [--peers 8] [--churn-every 20] [--churn-count 2]
//   node --import tsx bench/agent-soak.ts --real-b 3    # instead: a real cluster B, started 3 times
//
// Needs root (network namespaces). Nothing is sent outside the namespaces it creates.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const ROOT = join(import.meta.dirname, '..');

// ---------------------------------------------------------------- peers process (in its own netns)
async function runPeers(address: string, ttl: number): Promise<void> {
  const { MdnsAdvertiser } = await import('../shared/lookup/mdns.js');
  const { startIdentityServer } = await import('../agent/identity-server.js');
  const { createServingCertificate } = await import('../shared/tls/certificates.js');
  const { createLogger } = await import('../agent/logger.js');
  const { testKeyPem } = await import('../test/helpers/https-ids-server.js');
  const log = createLogger('silent');
  const tls = createServingCertificate({ commonName: address, hosts: [address], keyPem: await testKeyPem() });
  const live = new Map<string, { stop(): Promise<void> }>();
  const say = (m: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(m)}\n`);
  createInterface({ input: process.stdin }).on('line', (line) => {
    const cmd = JSON.parse(line) as { cmd: string; id: string };
    if (cmd.cmd === 'start') {
      void (async () => {
        const ids = await startIdentityServer({
          port: 0,
          host: address,
          tls,
          identity: () => ({
            clusterId: cmd.id,
            clusterName: `peer-${cmd.id.slice(0, 8)}`,
            guestNamespace: 'liqo',
          }),
          log,
        });
        const advertiser = new MdnsAdvertiser({
          clusterId: cmd.id,
          port: ids.port,
          interfaces: [address],
          ttl,
        });
        await advertiser.start();
        live.set(cmd.id, {
          stop: async () => {
            await advertiser.stop();
            await ids.close();
          },
        });
        say({ event: 'started', id: cmd.id, at: Date.now() });
      })().catch((err: Error) => say({ event: 'error', id: cmd.id, message: err.message }));
    } else if (cmd.cmd === 'stop') {
      const peer = live.get(cmd.id);
      live.delete(cmd.id);
      void peer?.stop().then(() => say({ event: 'stopped', id: cmd.id, at: Date.now() }));
    }
  });
  say({ event: 'ready' });
  process.stdin.on('end', () => {
    void Promise.allSettled([...live.values()].map((p) => p.stop())).then(() => process.exit(0));
  });
}

// ---------------------------------------------------------------- orchestrator
/** The agent bundled as `npm run build` does, so RSS is the shipped program's, not tsx's. */
async function buildAgentBundle(): Promise<string> {
  const { mkdirSync, mkdtempSync } = await import('node:fs');
  const { buildProgramBundle } = await import('../test/harness/liqo-environment.js');
  // inside node_modules/ so the bundle's external @kubernetes/client-node resolves
  mkdirSync(join(ROOT, 'node_modules/.cache'), { recursive: true });
  return buildProgramBundle('agent', mkdtempSync(join(ROOT, 'node_modules/.cache/liqo-agent-bench-')));
}

function rssKiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};

async function orchestrate(o: {
  realB: number;
  minutes: number;
  peers: number;
  churnEvery: number;
  churnCount: number;
  ttl: number;
}) {
  const { createLan, tsxCommand } = await import('../test/helpers/netns.js');
  const { KUBECTL } = await import('../test/harness/kubectl.js');
  const agentBundle = await buildAgentBundle();
  const lan = await createLan(2);
  const [hostA, hostP] = lan.hosts as [(typeof lan.hosts)[0], (typeof lan.hosts)[0]];
  const cleanup = () => lan.teardown();
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const member = lan.spawnJson(
      hostA,
      tsxCommand(
        join(ROOT, 'test/e2e/two-clusters.member.ts'),
        JSON.stringify({
          name: 'soak-a',
          address: hostA.address,
          interfaceName: 'eth0',
          agents: 1,
          idsPortBase: 8443,
          healthPortBase: 8081,
          discoveryConfig: {
            clusterName: 'soak-a',
            ttl: o.ttl,
            enableDiscovery: true,
            enableAdvertisement: false,
            autojoinUntrusted: false,
          },
          agentArgs: ['--gc-interval=5'],
          agentBundle,
        }),
      ),
      { cwd: ROOT },
    );
    const info = (await member.waitFor((m) => Array.isArray(m['agents']), 240_000)) as unknown as {
      kubeconfig: string;
      agents: Array<{ pid: number; logFile: string }>;
    };
    const agentPid = info.agents[0]!.pid;
    console.log(`cluster A up in ${hostA.ns}; agent pid ${agentPid}; peers in ${hostP.ns}`);

    // ForeignClusters on A, from the real kubectl's watch: peer ids are fresh UUIDs, so the
    // first line naming one is its creation (with -o name kubectl prints no event types)
    const firstSeen = new Map<string, number>();
    const watch = lan.spawn(hostA, [
      KUBECTL,
      `--kubeconfig=${info.kubeconfig}`,
      'get',
      'foreignclusters',
      '--watch',
      '-o',
      'name',
    ]);
    createInterface({ input: watch.stdout! }).on('line', (line) => {
      const name = line.trim().split('/')[1];
      if (name && !firstSeen.has(name)) firstSeen.set(name, Date.now());
    });

    if (o.realB > 0) {
      await measureRealClusters(o.realB, lan, hostP, firstSeen, agentBundle, KUBECTL, tsxCommand);
      watch.kill('SIGTERM');
      member.child.kill('SIGTERM');
      await member.waitExit(30_000).catch(() => member.child.kill('SIGKILL'));
      return;
    }

    const peers = lan.spawnJson(
      hostP,
      tsxCommand(join(ROOT, 'bench/agent-soak.ts'), '--peers-process', hostP.address, String(o.ttl)),
      { cwd: ROOT },
    );
    await peers.waitFor((m) => m['event'] === 'ready', 60_000);
    const startedAt = new Map<string, number>();
    const live: string[] = [];
    const start = async (n: number) => {
      const ids = Array.from({ length: n }, () => randomUUID());
      for (const id of ids) peers.send(JSON.stringify({ cmd: 'start', id }));
      for (const id of ids) {
        const m = await peers.waitFor((x) => x['event'] === 'started' && x['id'] === id, 30_000);
        startedAt.set(id, m['at'] as number);
        live.push(id);
      }
    };
    const stop = (n: number) => {
      for (const id of live.splice(0, n)) peers.send(JSON.stringify({ cmd: 'stop', id }));
    };

    const t0 = Date.now();
    const samples: Array<{ t: number; rss: number; fcs: number; heapMiB?: number }> = [];
    // the JS heap in use, from the agent's own /metrics (prom-client's default metrics)
    const heapMiB = async (): Promise<number | undefined> => {
      const r = await lan
        .exec(hostA, ['curl', '-s', '--max-time', '2', `http://127.0.0.1:8081/metrics`])
        .catch(() => ({ stdout: '' }));
      const m = /^nodejs_heap_size_used_bytes (\d+(?:\.\d+)?)/m.exec(r.stdout);
      return m ? Number(m[1]) / 1048576 : undefined;
    };
    const sample = async () => {
      const rss = rssKiB(agentPid);
      const heap = await heapMiB();
      if (rss !== undefined) {
        samples.push({
          t: (Date.now() - t0) / 1000,
          rss,
          fcs: firstSeen.size,
          ...(heap ? { heapMiB: heap } : {}),
        });
      }
    };
    await sample();
    await start(o.peers);
    const end = t0 + o.minutes * 60_000;
    let nextChurn = Date.now() + o.churnEvery * 1000;
    let nextSample = Date.now() + 10_000;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 500));
      if (Date.now() >= nextSample) {
        await sample();
        const s = samples[samples.length - 1];
        if (s)
          console.log(
            `t=${s.t.toFixed(0)}s rss=${(s.rss / 1024).toFixed(1)} MiB heap=${s.heapMiB?.toFixed(1) ?? '?'} MiB peers-started=${startedAt.size} fcs-seen=${s.fcs}`,
          );
        nextSample += 10_000;
      }
      if (Date.now() >= nextChurn && Date.now() + o.churnEvery * 1000 < end) {
        stop(o.churnCount);
        await start(o.churnCount);
        nextChurn += o.churnEvery * 1000;
      }
    }
    // let the last arrivals land, then compare the ForeignClusters with the live peers
    await new Promise((r) => setTimeout(r, 5000));
    await sample();
    const list = await lan.exec(hostA, [
      KUBECTL,
      `--kubeconfig=${info.kubeconfig}`,
      'get',
      'foreignclusters',
      '-o',
      'name',
    ]);
    const names = new Set(
      list.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('/')[1]),
    );
    const missingLive = live.filter((id) => !names.has(id)).length;
    const stale = [...names].filter((n) => n && !live.includes(n)).length;
    const departed = [...startedAt.keys()].filter((id) => !live.includes(id));
    const collected = departed.filter((id) => firstSeen.has(id) && !names.has(id)).length;

    const latencies = [...startedAt].flatMap(([id, at]) =>
      firstSeen.has(id) ? [(firstSeen.get(id)! - at) / 1000] : [],
    );
    const last = samples[samples.length - 1]!;
    const maxRss = Math.max(...samples.map((s) => s.rss));
    const mib = (kib: number) => (kib / 1024).toFixed(1);
    // medians of a window, so one garbage-collection dip or peak does not decide the verdict
    const median = (from: number, to: number) =>
      pct(
        samples.filter((s) => s.t >= from && s.t <= to).map((s) => s.rss),
        50,
      );
    const half = last.t / 2;
    const early = median(half - 60, half);
    const late = median(last.t - 60, last.t);
    // least-squares slope of RSS over the second half (start-up and the first collections
    // are over by then), in MiB per 10 minutes
    const tail = samples.filter((s) => s.t >= half);
    const mt = tail.reduce((a, s) => a + s.t, 0) / tail.length;
    const mr = tail.reduce((a, s) => a + s.rss, 0) / tail.length;
    const slope =
      tail.reduce((a, s) => a + (s.t - mt) * (s.rss - mr), 0) /
      Math.max(
        1,
        tail.reduce((a, s) => a + (s.t - mt) ** 2, 0),
      );
    console.log('\n== agent soak ==');
    console.log(
      `duration ${(last.t / 60).toFixed(1)} min; peers started ${startedAt.size}, live at end ${live.length}; churn ${o.churnCount} every ${o.churnEvery} s; ttl ${o.ttl} s`,
    );
    console.log(
      `agent RSS: at start ${mib(samples[0]!.rss)} MiB; median of the minute before half-time ${mib(early)} MiB; median of the last minute ${mib(late)} MiB; at end ${mib(last.rss)} MiB; max ${mib(maxRss)} MiB`,
    );
    const heapMedian = (from: number, to: number) =>
      pct(
        samples.filter((x) => x.t >= from && x.t <= to && x.heapMiB !== undefined).map((x) => x.heapMiB!),
        50,
      );
    console.log(
      `agent JS heap in use: median of the minute before half-time ${heapMedian(half - 60, half).toFixed(1)} MiB; median of the last minute ${heapMedian(last.t - 60, last.t).toFixed(1)} MiB`,
    );
    console.log(
      `RSS last minute / minute before half-time = ${(late / early).toFixed(3)}; trend over the second half: ${((slope * 600) / 1024).toFixed(2)} MiB per 10 min`,
    );
    console.log(
      `peer start -> ForeignCluster on A: n=${latencies.length} p50 ${pct(latencies, 50).toFixed(2)} s, p90 ${pct(latencies, 90).toFixed(2)} s, max ${Math.max(...latencies).toFixed(2)} s (never seen: ${startedAt.size - latencies.length})`,
    );
    console.log(
      `ForeignClusters at end: ${names.size} (live peers missing: ${missingLive}; departed peers not yet collected: ${stale}); departed peers collected ${collected}/${departed.length}`,
    );
    watch.kill('SIGTERM');
    peers.child.stdin?.end();
    member.child.kill('SIGTERM');
    await member.waitExit(30_000).catch(() => member.child.kill('SIGKILL'));
  } finally {
    await cleanup();
  }
}

type Lan = Awaited<ReturnType<(typeof import('../test/helpers/netns.js'))['createLan']>>;

/**
 * A real cluster B (its own etcd, kube-apiserver, webhook and agent) started `runs` times in
 * the second namespace: the time from B's agent process starting to A's ForeignCluster for B.
 * The anchor is B's own start-up: from the same moment to B's agent serving /ids.
 */
async function measureRealClusters(
  runs: number,
  lan: Lan,
  hostB: Lan['hosts'][number],
  firstSeen: Map<string, number>,
  agentBundle: string,
  kubectl: string,
  tsxCommand: (script: string, ...args: string[]) => string[],
): Promise<void> {
  const toFc: number[] = [];
  const toReady: number[] = [];
  for (let i = 0; i < runs; i++) {
    const b = lan.spawnJson(
      hostB,
      tsxCommand(
        join(ROOT, 'test/e2e/two-clusters.member.ts'),
        JSON.stringify({
          name: `real-b-${i}`,
          address: hostB.address,
          interfaceName: 'eth0',
          agents: 1,
          idsPortBase: 8443,
          healthPortBase: 8081,
          discoveryConfig: {
            clusterName: `real-b-${i}`,
            ttl: 30,
            enableDiscovery: false,
            enableAdvertisement: true,
          },
          agentBundle,
        }),
      ),
      { cwd: ROOT },
    );
    const info = (await b.waitFor((m) => Array.isArray(m['agents']), 240_000)) as unknown as {
      kubeconfig: string;
    };
    const spawnedAt = Date.now(); // the member prints this line right after spawning the agent
    const id = (
      await lan.exec(hostB, [
        kubectl,
        `--kubeconfig=${info.kubeconfig}`,
        '-n',
        'liqo',
        'get',
        'configmap',
        'cluster-id',
        '-o',
        'jsonpath={.data.cluster-id}',
      ])
    ).stdout.trim();
    let readyAt: number | undefined;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (!firstSeen.has(id) || readyAt === undefined)) {
      if (readyAt === undefined) {
        const probe = await lan
          .exec(hostB, [
            'curl',
            '-sk',
            '-o',
            '/dev/null',
            '-w',
            '%{http_code}',
            `https://${hostB.address}:8443/ids`,
          ])
          .catch(() => ({ stdout: '' }));
        if (probe.stdout === '200') readyAt = Date.now();
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const seen = firstSeen.get(id);
    if (seen !== undefined) toFc.push((seen - spawnedAt) / 1000);
    if (readyAt !== undefined) toReady.push((readyAt - spawnedAt) / 1000);
    console.log(
      `run ${i + 1}: B's agent serving /ids after ${readyAt ? ((readyAt - spawnedAt) / 1000).toFixed(2) : '?'} s; A's ForeignCluster for B after ${seen ? ((seen - spawnedAt) / 1000).toFixed(2) : 'never'} s`,
    );
    b.child.kill('SIGTERM');
    await b.waitExit(30_000).catch(() => b.child.kill('SIGKILL'));
  }
  const med = (xs: number[]) => pct(xs, 50);
  console.log('\n== real cluster B joining the LAN ==');
  console.log(
    `B's agent start -> A's ForeignCluster for B: median ${med(toFc).toFixed(2)} s over ${toFc.length} runs (max ${Math.max(...toFc).toFixed(2)} s)`,
  );
  console.log(
    `anchor, B's agent start -> B serving /ids: median ${med(toReady).toFixed(2)} s; ratio ${(med(toFc) / med(toReady)).toFixed(2)}`,
  );
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'peers-process': { type: 'boolean', default: false },
    'real-b': { type: 'string', default: '0' },
    minutes: { type: 'string', default: '10' },
    peers: { type: 'string', default: '8' },
    'churn-every': { type: 'string', default: '20' },
    'churn-count': { type: 'string', default: '2' },
    ttl: { type: 'string', default: '30' },
  },
});
if (values['peers-process']) {
  await runPeers(positionals[0] ?? '127.0.0.1', Number(positionals[1] ?? 30));
} else {
  await orchestrate({
    realB: Number(values['real-b']),
    minutes: Number(values.minutes),
    peers: Number(values.peers),
    churnEvery: Number(values['churn-every']),
    churnCount: Number(values['churn-count']),
    ttl: Number(values.ttl),
  });
  process.exit(0);
}
