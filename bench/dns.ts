// DNS-SD benchmark: a 1,000-cluster SearchDomain on a real BIND (loopback), resolved by ours
// (resolveSearchDomain: PTR on D and _liqo._tcp.D, then SRV+TXT for every instance, the targets'
// A/AAAA from the SRV replies' additional section, 128 queries in flight on one UDP socket) and
// by Liqo v0.2's sequence (PTR on the bare domain, then one SRV query at a time; no A/AAAA/TXT),
// against the same server in the same run.
//
// Loopback has no latency, which hides what parallelism buys; so the run is repeated through a
// relay (a child process) that delays every packet, as a resolver a few milliseconds away would.
//   npx tsx bench/dns.ts                      # RTTs 0 (direct), 2 and 10 ms; 3 runs each
//   DNS_BENCH_RTTS=0,5 DNS_BENCH_RUNS=5 npx tsx bench/dns.ts
// The anchor is generous to Liqo: one shared resolver (Liqo dials a new socket per query) and
// TCP fallback for the truncated 1,000-record PTR answer (Liqo's client has none, so it would
// find no clusters at all in this zone).
import { spawn } from 'node:child_process';
import { promises as dnsPromises } from 'node:dns';
import { fileURLToPath } from 'node:url';
import { resolveSearchDomain } from '../shared/lookup/dns.js';
import { startBind, startDnsRelay } from '../test/helpers/bind.js';

const CLUSTERS = 1000;
const DOMAIN = 'bench.test';

if (process.argv[2] === '--relay') {
  // Child mode: run the delaying relay in its own process so it does not share our event loop.
  const relay = await startDnsRelay({ upstream: process.argv[3] ?? '', delayMs: Number(process.argv[4]) });
  process.stdout.write(`${relay.server}\n`);
  process.on('SIGTERM', () => void relay.stop().then(() => process.exit(0)));
} else {
  await main();
}

function zoneText(): string {
  const lines: string[] = [];
  for (let i = 0; i < CLUSTERS; i++) {
    const ip = `127.0.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    lines.push(`@ PTR cluster-${i}`, `cluster-${i} SRV 0 0 ${20000 + i} auth-${i}`, `auth-${i} A ${ip}`);
  }
  return lines.join('\n');
}

/** Liqo v0.2's LoadAuthDataFromDNS: PTR on the bare domain, then SRV per answer, in sequence. */
async function liqoSequence(server: string): Promise<number> {
  const resolver = new dnsPromises.Resolver({ timeout: 5000, tries: 1 });
  resolver.setServers([server]);
  const targets = await resolver.resolvePtr(DOMAIN);
  let found = 0;
  for (const target of targets) {
    const srv = await resolver.resolveSrv(target);
    if (srv[0]) found++;
  }
  return found;
}

async function ours(server: string): Promise<number> {
  const result = await resolveSearchDomain(DOMAIN, { servers: [server] });
  if (result.errors.length > 0) throw new Error(`ours: ${result.errors[0]?.message}`);
  return result.endpoints.length;
}

async function timed(task: () => Promise<number>): Promise<number> {
  const start = performance.now();
  const found = await task();
  const elapsed = performance.now() - start;
  if (found !== CLUSTERS) throw new Error(`found ${found} clusters, expected ${CLUSTERS}`);
  return elapsed;
}

async function measuredRtt(server: string): Promise<number> {
  const resolver = new dnsPromises.Resolver({ timeout: 5000, tries: 1 });
  resolver.setServers([server]);
  const samples: number[] = [];
  for (let i = 0; i < 21; i++) {
    const start = performance.now();
    await resolver.resolve4(`auth-${i}.${DOMAIN}`);
    samples.push(performance.now() - start);
  }
  return median(samples);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function startRelayProcess(
  upstream: string,
  delayMs: number,
): Promise<{ server: string; stop(): void }> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--relay', upstream, String(delayMs)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const server = await new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').once('data', (line: string) => resolve(line.trim()));
    child.once('exit', (code) => reject(new Error(`relay exited (${code})`)));
  });
  return { server, stop: () => child.kill('SIGTERM') };
}

async function main(): Promise<void> {
  const rtts = (process.env.DNS_BENCH_RTTS ?? '0,2,10').split(',').map(Number);
  const runs = Number(process.env.DNS_BENCH_RUNS ?? 3);
  const bind = await startBind({ zones: { [DOMAIN]: zoneText() }, threads: 2 });
  console.log(`DNS-SD: ${CLUSTERS} clusters under ${DOMAIN} on BIND ${bind.server}; median of ${runs} runs`);
  console.log('added RTT | measured RTT | ours (ms) | Liqo v0.2 sequence (ms) | ratio');
  try {
    for (const rtt of rtts) {
      const relay = rtt > 0 ? await startRelayProcess(bind.server, rtt / 2) : undefined;
      const server = relay?.server ?? bind.server;
      try {
        // Warm both paths once (BIND caches, V8 compiles), then alternate.
        await ours(server);
        await liqoSequence(server);
        const oursTimes: number[] = [];
        const liqoTimes: number[] = [];
        for (let run = 0; run < runs; run++) {
          oursTimes.push(await timed(() => ours(server)));
          liqoTimes.push(await timed(() => liqoSequence(server)));
        }
        const rttNow = await measuredRtt(server);
        const [oursMs, liqoMs] = [median(oursTimes), median(liqoTimes)];
        if (process.env.DNS_BENCH_VERBOSE) console.log({ oursTimes, liqoTimes });
        console.log(
          `${String(rtt).padStart(6)} ms | ${rttNow.toFixed(2).padStart(9)} ms | ${oursMs.toFixed(0).padStart(9)} |` +
            ` ${liqoMs.toFixed(0).padStart(23)} | ${(liqoMs / oursMs).toFixed(1)}x`,
        );
      } finally {
        relay?.stop();
      }
    }
  } finally {
    await bind.stop();
  }
  console.log('targets: ours <= 1000 ms, ratio >= 10x (SPEC / issue 3)');
}
