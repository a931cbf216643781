// DNS-SD benchmark: a 1,000-cluster SearchDomain on a real BIND (loopback), resolved by ours
// (resolveSearchDomain: PTR on D and _liqo._tcp.D, then SRV+TXT for every instance, the targets'
// A/AAAA from the SRV replies' additional section, 128 queries in flight on one UDP socket) and
// by Liqo v0.2's sequence (PTR on the bare domain, then one SRV query at a time; no A/AAAA/TXT),
// against the same server in the same run. The sequence runs twice: in Node on node:dns (the
// named anchor: same runtime as ours, so only the way of asking differs), and rebuilt in Go on
// the library and version Liqo used (bench/liqo-dns-anchor, miekg/dns v1.1.27; skipped without
// Go). Two more columns are floors: the same 2,000 SRV+TXT questions sent and counted with no
// resolver around them, in Node and in Go (the anchor program's floor mode: compiled, raw
// socket) — what any client on this machine and server would need at the least.
//
// Loopback has no latency, which hides what parallelism buys; so the run is repeated through a
// relay (a child process) that delays every packet, as a resolver a few milliseconds away would.
//   npx tsx bench/dns.ts                      # RTTs 0 (direct), 2 and 10 ms; 3 runs each
//   DNS_BENCH_RTTS=0,5 DNS_BENCH_RUNS=5 npx tsx bench/dns.ts
// The Node anchor is generous to Liqo: one shared resolver (Liqo dials a new socket per query)
// and TCP fallback for the truncated 1,000-record PTR answer (Liqo's client has none, so it would
// find no clusters at all in this zone); the Go one falls back to TCP the same way.
import { execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import dnsPacket from 'dns-packet';
import { DNS_RESOLVE_DEFAULTS, resolveSearchDomain } from '../shared/lookup/dns.js';
import { cacheDirectory, goBinary } from '../test/harness/binaries.js';
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

/**
 * Builds the Go rebuild of Liqo's sequence into the cache (Go's build cache makes a rebuild
 * instant); undefined, with the reason printed, when there is no Go.
 */
async function buildGoAnchor(): Promise<string | undefined> {
  const source = join(dirname(fileURLToPath(import.meta.url)), 'liqo-dns-anchor');
  const binary = join(dirname(cacheDirectory()), 'bench', 'liqo-dns-anchor');
  mkdirSync(dirname(binary), { recursive: true });
  const go = goBinary();
  if (!go) {
    console.log('(no Go anchor: Go is not installed)');
    return undefined;
  }
  try {
    await promisify(execFile)(go, ['build', '-o', binary, '.'], {
      cwd: source,
      env: { ...process.env, CGO_ENABLED: '0' },
    });
    return binary;
  } catch (error) {
    console.log(`(no Go anchor: go build in ${source} failed: ${(error as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

/** One run of the Go anchor; its own clock, so process start-up is not counted. */
async function liqoGo(binary: string, server: string): Promise<number> {
  const { stdout } = await promisify(execFile)(binary, [server, `${DOMAIN}.`, '1']);
  const { found, ms } = JSON.parse(stdout) as { found: number; ms: number[] };
  if (found !== CLUSTERS) throw new Error(`Go anchor found ${found} clusters, expected ${CLUSTERS}`);
  return ms[0] ?? NaN;
}

/**
 * The floor: the SRV and TXT questions ours asks, sent on one connected socket with as many in
 * flight as ours allows, each reply decoded and counted, nothing else (no ids check, timers or
 * records). Returns the clusters whose SRV came back, for `timed`.
 */
async function packetFloor(server: string): Promise<number> {
  const separator = server.lastIndexOf(':');
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) =>
    socket.connect(Number(server.slice(separator + 1)), server.slice(0, separator), resolve),
  );
  const total = CLUSTERS * 2;
  let sent = 0;
  let srvAnswers = 0;
  let replies = 0;
  const send = (): void => {
    const cluster = sent >> 1;
    const type = sent % 2 === 0 ? 'SRV' : 'TXT';
    socket.send(
      dnsPacket.encode({
        id: sent,
        type: 'query',
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ type, name: `cluster-${cluster}.${DOMAIN}`, class: 'IN' }],
      }),
    );
    sent++;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const stalled = setTimeout(() => reject(new Error('floor: replies stopped (datagrams lost)')), 5000);
      socket.on('message', (message) => {
        const reply = dnsPacket.decode(message);
        if (reply.answers?.some((answer) => answer.type === 'SRV')) srvAnswers++;
        if (sent < total) send();
        if (++replies === total) {
          clearTimeout(stalled);
          resolve();
        }
      });
      for (let i = 0; i < DNS_RESOLVE_DEFAULTS.concurrency && sent < total; i++) send();
    });
  } finally {
    socket.close();
  }
  return srvAnswers;
}

/** The Go floor: the same questions from the anchor program's floor mode; its own clock. */
async function goFloor(binary: string, server: string): Promise<number> {
  const { stdout } = await promisify(execFile)(binary, [
    'floor',
    server,
    DOMAIN,
    '1',
    String(CLUSTERS),
    String(DNS_RESOLVE_DEFAULTS.concurrency),
  ]);
  const { found, ms } = JSON.parse(stdout) as { found: number; ms: number[] };
  if (found !== CLUSTERS) throw new Error(`Go floor found ${found} clusters, expected ${CLUSTERS}`);
  return ms[0] ?? NaN;
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
  const goAnchor = await buildGoAnchor();
  const bind = await startBind({ zones: { [DOMAIN]: zoneText() }, threads: 2 });
  console.log(`DNS-SD: ${CLUSTERS} clusters under ${DOMAIN} on BIND ${bind.server}; median of ${runs} runs`);
  console.log(
    'added RTT | measured RTT | floor, Go (ms) | floor (ms) | ours (ms) | Liqo seq, node:dns (ms) |' +
      ' ratio | Liqo v0.2, Go miekg/dns (ms) | ratio',
  );
  try {
    for (const rtt of rtts) {
      const relay = rtt > 0 ? await startRelayProcess(bind.server, rtt / 2) : undefined;
      const server = relay?.server ?? bind.server;
      try {
        // Warm every path once (BIND caches, V8 compiles), then alternate.
        await packetFloor(server);
        await ours(server);
        await liqoSequence(server);
        if (goAnchor) await liqoGo(goAnchor, server);
        if (goAnchor) await goFloor(goAnchor, server);
        const times = {
          goFloor: [] as number[],
          floor: [] as number[],
          ours: [] as number[],
          liqo: [] as number[],
          go: [] as number[],
        };
        for (let run = 0; run < runs; run++) {
          if (goAnchor) times.goFloor.push(await goFloor(goAnchor, server));
          times.floor.push(await timed(() => packetFloor(server)));
          times.ours.push(await timed(() => ours(server)));
          times.liqo.push(await timed(() => liqoSequence(server)));
          if (goAnchor) times.go.push(await liqoGo(goAnchor, server));
        }
        const rttNow = await measuredRtt(server);
        const [goFloorMs, floorMs, oursMs, liqoMs, goMs] = [
          times.goFloor,
          times.floor,
          times.ours,
          times.liqo,
          times.go,
        ].map(median) as [number, number, number, number, number];
        if (process.env.DNS_BENCH_VERBOSE) console.log(times);
        const goColumns = goAnchor
          ? ` ${goMs.toFixed(0).padStart(28)} | ${(goMs / oursMs).toFixed(1)}x`
          : ' (no Go) | -';
        console.log(
          `${String(rtt).padStart(6)} ms | ${rttNow.toFixed(2).padStart(9)} ms |` +
            ` ${(goAnchor ? goFloorMs.toFixed(0) : '-').padStart(14)} | ${floorMs.toFixed(0).padStart(10)} |` +
            ` ${oursMs.toFixed(0).padStart(9)} | ${liqoMs.toFixed(0).padStart(23)} | ${(liqoMs / oursMs).toFixed(1)}x |` +
            goColumns,
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
