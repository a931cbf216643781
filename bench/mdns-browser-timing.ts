// When our mDNS browser asks, and how soon it resolves: the timings that
// test/integration/mdns-browser-queries.test.ts used to bound from above, measured instead (the
// tests assert only order and the rules' lower bounds). The same scenarios, on a namespace LAN
// of three hosts (browser, the terse responder test/helpers/mdns-bare-responder.ts, the query
// sniffer test/helpers/mdns-query-sniff.ts); every run starts fresh processes and a responder
// with a new instance name. The anchor of each figure is the value the design or the RFC sets
// (printed beside it): the RFC 6762 §5.2 timing, the one-shot browse's ~1 s settle window, a
// retry period of 1 s for what a "promptly" would otherwise have waited.
//   npx tsx bench/mdns-browser-timing.ts                     # 5 runs
//   MDNS_BENCH_RUNS=9 MDNS_BENCH_VERBOSE=1 npx tsx bench/mdns-browser-timing.ts
// Root only (ip netns); sends nothing on the machine's real interfaces.
import { createLan, tsxCommand, type JsonLinesChild, type NetnsHost } from '../test/helpers/netns.js';

const RUNS = Number(process.env.MDNS_BENCH_RUNS ?? 5);
const RESPONDER = 'test/helpers/mdns-bare-responder.ts';
const SNIFF = 'test/helpers/mdns-query-sniff.ts';
const BROWSE = 'test/helpers/mdns-browse.ts';
const TYPES = ['_liqo._tcp.local', '_liqo_auth._tcp.local'];
const WAIT_MS = 60_000;

type Msg = Record<string, unknown>;
interface Question {
  at: number;
  from: string;
  port: number;
  name: string;
  type: string;
}

/** name → one sample per run, in ms */
const samples = new Map<string, number[]>();
const nominal = new Map<string, string>();
function record(name: string, ms: number, expected: string): void {
  if (!samples.has(name)) samples.set(name, []);
  samples.get(name)!.push(ms);
  nominal.set(name, expected);
  if (process.env.MDNS_BENCH_VERBOSE) console.log(`  ${name}: ${ms} ms`);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Resolves with the n-th matching message (already received or future). */
function nth(child: JsonLinesChild, match: (m: Msg) => boolean, n: number): Promise<Msg> {
  let seen = 0;
  return child.waitFor((m) => match(m) && ++seen === n, WAIT_MS);
}

let instanceCounter = 0;

async function main(): Promise<void> {
  const lan = await createLan(3);
  const [browseHost, responderHost, sniffHost] = lan.hosts as [NetnsHost, NetnsHost, NetnsHost];
  const running: JsonLinesChild[] = [];
  const spawn = (host: NetnsHost, script: string, args: Msg) => {
    const child = lan.spawnJson(host, tsxCommand(script, JSON.stringify(args)));
    running.push(child);
    return child;
  };
  const stopAll = async () => {
    for (const c of running.splice(0)) if (!c.exited) c.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1200)); // past the responders' 1 s multicast limit
  };
  const responder = async (extra: Msg = {}) => {
    const instance = `bench-${++instanceCounter}`;
    const opts = {
      interface: responderHost.address,
      instance,
      clusterId: `${instance}-id`,
      port: 6443,
      hostname: `${instance}-host`,
      address: responderHost.address,
      serviceTypes: TYPES,
      ...extra,
    };
    const child = spawn(responderHost, RESPONDER, opts);
    await child.waitFor((m) => m.event === 'ready', WAIT_MS);
    return { child, instance, host: `${instance}-host.local` };
  };
  const heard = (child: JsonLinesChild) =>
    child.messages.filter(
      (m) => m.event === 'question' && m.from === browseHost.address,
    ) as unknown as Question[];
  const isPtrQuery = (m: Msg) =>
    m.event === 'query' &&
    m.from === browseHost.address &&
    (m.questions as { type: string }[]).some((q) => q.type === 'PTR');

  const stop = () => void lan.teardown().then(() => process.exit(1));
  process.once('SIGINT', stop);
  try {
    for (let run = 0; run < RUNS; run++) {
      if (process.env.MDNS_BENCH_VERBOSE) console.log(`run ${run + 1}`);

      // 1. one-shot on an empty LAN: the legacy query, the multicast one after it, the settle
      {
        const sniffer = spawn(sniffHost, SNIFF, { interface: sniffHost.address });
        await sniffer.waitFor((m) => m.event === 'ready', WAIT_MS);
        const browser = spawn(browseHost, BROWSE, { mode: 'once' });
        const starting = await browser.waitFor((m) => m.event === 'starting', WAIT_MS);
        const done = await browser.waitFor((m) => m.event === 'done', WAIT_MS);
        const [legacy, multicast] = [await nth(sniffer, isPtrQuery, 1), await nth(sniffer, isPtrQuery, 2)];
        record('one-shot: legacy query after start', (legacy.at as number) - (starting.at as number), '~0');
        record(
          'one-shot: multicast after the legacy query',
          (multicast.at as number) - (legacy.at as number),
          '250-350',
        );
        record('one-shot, empty LAN: settled', (done.at as number) - (starting.at as number), '~1000');
        await stopAll();
      }

      // 2. one-shot, terse responder: A asked right after the SRV names the host
      {
        const r = await responder();
        const browser = spawn(browseHost, BROWSE, { mode: 'once' });
        const starting = await browser.waitFor((m) => m.event === 'starting', WAIT_MS);
        const done = await browser.waitFor((m) => m.event === 'done', WAIT_MS);
        const q = heard(r.child);
        const firstA = q.find((x) => x.type === 'A' && x.name === r.host);
        const srv = q.filter((x) => x.type === 'SRV' && firstA && x.at <= firstA.at).at(-1);
        if (firstA && srv) record('one-shot: A asked after the SRV', firstA.at - srv.at, 'a few; retry 1000');
        record('one-shot, one terse peer: settled', (done.at as number) - (starting.at as number), '~1000');
        await stopAll();
      }

      // 3. one-shot, a responder that ignores legacy queries: found by the multicast query
      {
        await responder({ answerLegacy: false });
        const browser = spawn(browseHost, BROWSE, { mode: 'once' });
        const starting = await browser.waitFor((m) => m.event === 'starting', WAIT_MS);
        const done = await browser.waitFor((m) => m.event === 'done', WAIT_MS);
        record(
          'one-shot, no legacy answers: settled',
          (done.at as number) - (starting.at as number),
          '~1000; cap 3000',
        );
        await stopAll();
      }

      // 4. continuous, terse responder: first query, the peer added, the second query
      {
        const r = await responder();
        const browser = spawn(browseHost, BROWSE, { mode: 'continuous' });
        const ready = await browser.waitFor((m) => m.event === 'ready', WAIT_MS);
        const added = await browser.waitFor((m) => m.event === 'added', WAIT_MS);
        const isPtr = (m: Msg) => m.event === 'question' && m.from === browseHost.address && m.type === 'PTR';
        const first = await nth(r.child, isPtr, 1);
        const second = await nth(r.child, isPtr, TYPES.length + 1);
        record(
          'continuous: first PTR query after start',
          (first.at as number) - (ready.at as number),
          '20-120, on the 250 tick',
        );
        record('continuous: peer added after start', (added.at as number) - (ready.at as number), '< 1000');
        record(
          'continuous: second query after the first',
          (second.at as number) - (first.at as number),
          '>= 1000',
        );
        await stopAll();
      }

      // 5. continuous, a PTR taken in before the sockets opened: followed up at once
      {
        const r = await responder();
        const type = TYPES[0]!;
        const ingestFirst = {
          type: 'response',
          id: 0,
          flags: 0x8400,
          answers: [{ name: type, type: 'PTR', class: 'IN', ttl: 120, data: `${r.instance}.${type}` }],
        };
        const browser = spawn(browseHost, BROWSE, { mode: 'continuous', ingestFirst });
        const ready = await browser.waitFor((m) => m.event === 'ready', WAIT_MS);
        const srv = await r.child.waitFor(
          (m) => m.event === 'question' && m.from === browseHost.address && m.type === 'SRV',
          WAIT_MS,
        );
        record(
          'continuous: early PTR followed up (SRV) after start',
          (srv.at as number) - (ready.at as number),
          'a few; retry 1000-1250',
        );
        await stopAll();
      }

      // 6. one-shot, A never answered: kept open to its cap
      {
        await responder({ answerA: false });
        const browser = spawn(browseHost, BROWSE, { mode: 'once' });
        const starting = await browser.waitFor((m) => m.event === 'starting', WAIT_MS);
        const done = await browser.waitFor((m) => m.event === 'done', WAIT_MS);
        record(
          'one-shot, A never answered: ended',
          (done.at as number) - (starting.at as number),
          '3000 (3 x settle)',
        );
        await stopAll();
      }
    }
  } finally {
    await stopAll();
    await lan.teardown();
  }

  console.log(`mDNS browser timings, ${RUNS} runs (ms; three namespace hosts, fresh processes each run):`);
  const width = Math.max(...[...samples.keys()].map((k) => k.length));
  console.log(`${'figure'.padEnd(width)}   median      p90      max   design / RFC`);
  for (const [name, values] of samples) {
    const cells = [percentile(values, 50), percentile(values, 90), Math.max(...values)].map((v) =>
      String(v).padStart(8),
    );
    console.log(`${name.padEnd(width)} ${cells.join(' ')}   ${nominal.get(name)}`);
  }
}

await main();
