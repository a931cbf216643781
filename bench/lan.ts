// LAN discovery benchmark: 20 of our advertisers (each with a real HTTPS /ids server) on a
// namespace LAN; on another host, a one-shot browse that ends with every cluster's identity
// fetched, by ours (browseOnce + fetchClusterIdentity as peers arrive) and by the anchor
// `avahi-browse -t -r -p _liqo._tcp` (a fresh avahi-daemon in the same host for each run, its
// resolved lines fetched with the same client as they arrive). Everything runs inside network
// namespaces (TESTING.md); the root namespace only orchestrates.
//   npx tsx bench/lan.ts                    # 5 runs each, interleaved
//   LAN_BENCH_RUNS=9 LAN_BENCH_ADVERTISERS=20 npx tsx bench/lan.ts
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { browseOnce } from '../shared/lookup/mdns.js';
import { startAvahi } from '../test/helpers/avahi.js';
import { createLan, tsxCommand, type NetnsLan } from '../test/helpers/netns.js';

const ADVERTISERS = Number(process.env.LAN_BENCH_ADVERTISERS ?? 20);
const RUNS = Number(process.env.LAN_BENCH_RUNS ?? 5);

interface RunResult {
  /** First cluster resolved (address + port known). */
  firstPeerMs: number;
  /** Every cluster resolved and its /ids answered. */
  allIdentitiesMs: number;
  /** The browse settled and returned (avahi-browse -t exited), identities done. */
  settledMs: number;
  clusters: number;
  errors: string[];
}

if (process.argv[2] === '--runner') {
  // Child mode, inside the browser's namespace: one measured browse, one JSON line out.
  const result = process.argv[3] === 'avahi' ? await runAvahi(process.argv[4] ?? '') : await runOurs();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
} else {
  await main();
}

async function fetchIdentity(authUrl: string): Promise<string> {
  const { fetchClusterIdentity } = await import('../shared/lookup/ids.js');
  const result = await fetchClusterIdentity(authUrl, { timeoutMs: 5000 });
  return result.identity.clusterId;
}

/** Tracks first peer and the moment every expected cluster has an identity. */
function tracker(start: number) {
  const r: RunResult = { firstPeerMs: -1, allIdentitiesMs: -1, settledMs: -1, clusters: 0, errors: [] };
  const asked = new Set<string>();
  const identified = new Set<string>();
  const pending: Promise<void>[] = [];
  return {
    result: r,
    seen(key: string, authUrl: string) {
      if (r.firstPeerMs < 0) r.firstPeerMs = Date.now() - start;
      if (asked.has(key)) return;
      asked.add(key);
      pending.push(
        fetchIdentity(authUrl).then(
          (id) => {
            identified.add(id);
            r.clusters = identified.size;
            if (identified.size === ADVERTISERS) r.allIdentitiesMs = Date.now() - start;
          },
          (err: Error) => void r.errors.push(`${authUrl}: ${err.message}`),
        ),
      );
    },
    async settle() {
      await Promise.all(pending);
      r.settledMs = Date.now() - start;
      return r;
    },
  };
}

async function runOurs(): Promise<RunResult> {
  const start = Date.now();
  const t = tracker(start);
  await browseOnce({ onPeer: (peer) => t.seen(peer.clusterId, peer.authUrl) });
  return t.settle();
}

async function runAvahi(busAddress: string): Promise<RunResult> {
  const start = Date.now();
  const t = tracker(start);
  const child = spawn('avahi-browse', ['-t', '-r', '-p', '_liqo._tcp'], {
    env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: busAddress },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const f = line.split(';');
    if (f[0] !== '=' || f[2] !== 'IPv4') return;
    t.seen(f[3] ?? '', `https://${f[7]}:${f[8]}`);
  });
  await new Promise((resolve) => child.on('exit', resolve));
  return t.settle();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function measure(lan: NetnsLan, which: 'ours' | 'avahi'): Promise<RunResult> {
  const host = lan.hosts[ADVERTISERS]!;
  let avahi: Awaited<ReturnType<typeof startAvahi>> | undefined;
  if (which === 'avahi') avahi = await startAvahi(lan, host); // cold cache each run, start-up not timed
  try {
    const child = lan.spawnJson(host, tsxCommand('bench/lan.ts', '--runner', which, avahi?.busAddress ?? ''));
    const msg = await child.waitFor((m) => typeof m.settledMs === 'number', 60000);
    return msg as unknown as RunResult;
  } finally {
    await avahi?.stop();
  }
}

async function main(): Promise<void> {
  const lan = await createLan(ADVERTISERS + 1);
  const stop = () => void lan.teardown().then(() => process.exit(1));
  process.once('SIGINT', stop);
  try {
    const advertisers = lan.hosts
      .slice(0, ADVERTISERS)
      .map((host, i) =>
        lan.spawnJson(
          host,
          tsxCommand(
            'test/helpers/mdns-advertise.ts',
            JSON.stringify({ clusterId: `bench-cluster-${i}`, clusterName: `bench-${i}`, port: 1, ids: {} }),
          ),
        ),
      );
    for (const a of advertisers) {
      const m = await a.waitFor((x) => x.event === 'started' || x.event === 'error', 120000);
      if (m.event !== 'started') throw new Error(`advertiser failed: ${String(m.message)}`);
    }
    await new Promise((r) => setTimeout(r, 2500)); // announcements over
    const results: Record<'ours' | 'avahi', RunResult[]> = { ours: [], avahi: [] };
    for (let run = 0; run < RUNS; run++) {
      const order: ('ours' | 'avahi')[] = run % 2 === 0 ? ['ours', 'avahi'] : ['avahi', 'ours'];
      for (const which of order) {
        const r = await measure(lan, which);
        results[which].push(r);
        if (process.env.LAN_BENCH_VERBOSE) console.log(which, JSON.stringify(r));
        if (r.clusters !== ADVERTISERS)
          console.log(`${which} run ${run}: found ${r.clusters}/${ADVERTISERS} ${r.errors.join('; ')}`);
        await new Promise((res) => setTimeout(res, 1200)); // past the responders' 1 s multicast limit
      }
    }
    const row = (which: 'ours' | 'avahi') => {
      const rs = results[which].filter((r) => r.clusters === ADVERTISERS);
      return {
        first: median(rs.map((r) => r.firstPeerMs)),
        all: median(rs.map((r) => r.allIdentitiesMs)),
        settled: median(rs.map((r) => r.settledMs)),
        complete: `${rs.length}/${results[which].length}`,
      };
    };
    const ours = row('ours');
    const anchor = row('avahi');
    console.log(`LAN browse, ${ADVERTISERS} advertisers with /ids, median of ${RUNS} runs (ms):`);
    console.log('                         first peer   all ids   settled   complete runs');
    for (const [name, r] of [
      ['ours (browseOnce)', ours],
      ['avahi-browse -t -r', anchor],
    ] as const) {
      console.log(
        `${name.padEnd(24)} ${String(r.first).padStart(10)} ${String(r.all).padStart(9)} ${String(r.settled).padStart(9)}   ${r.complete}`,
      );
    }
    console.log(
      `ratio ours/avahi: all ids ${(ours.all / anchor.all).toFixed(2)}x, settled ${(ours.settled / anchor.settled).toFixed(2)}x`,
    );
    console.log(`targets: <= 1.0x avahi; first peer <= 150 ms (ours: ${ours.first} ms)`);
  } finally {
    await lan.teardown();
  }
}
