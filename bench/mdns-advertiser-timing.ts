// When our mDNS advertiser sends, and how soon a goodbye takes a peer off a browser: the timings
// that test/integration/mdns-advertiser-wire.test.ts and mdns-liqo-zeroconf.test.ts used to
// bound from above, measured instead (the tests assert only the RFC 6762 lower bounds and the
// order of events). On a namespace LAN of three hosts: a sniffer (test/helpers/mdns-sniff.ts),
// our advertiser (test/helpers/mdns-advertise.ts, a new cluster id each run) and our continuous
// browser (test/helpers/mdns-browse.ts). The anchor of each figure is the RFC's value, printed
// beside it: §8.1 probes 250 ms apart, §8.3 announcements 1 s apart, §6 a shared answer delayed
// 20-120 ms, §10.1 a goodbye ends the record 1 s later.
//   npx tsx bench/mdns-advertiser-timing.ts                     # 5 runs
//   MDNS_BENCH_RUNS=9 MDNS_BENCH_VERBOSE=1 npx tsx bench/mdns-advertiser-timing.ts
// Root only (ip netns); sends nothing on the machine's real interfaces.
import { createLan, tsxCommand, type JsonLinesChild, type NetnsHost } from '../test/helpers/netns.js';

const RUNS = Number(process.env.MDNS_BENCH_RUNS ?? 5);
const WAIT_MS = 60_000;

type Msg = Record<string, unknown>;

const samples = new Map<string, number[]>();
const nominal = new Map<string, string>();
function record(name: string, ms: number, expected: string): void {
  const rounded = Math.round(ms * 10) / 10;
  if (!samples.has(name)) samples.set(name, []);
  samples.get(name)!.push(rounded);
  nominal.set(name, expected);
  if (process.env.MDNS_BENCH_VERBOSE) console.log(`  ${name}: ${rounded} ms`);
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

async function main(): Promise<void> {
  const lan = await createLan(3);
  const [sniffHost, advertiseHost, browseHost] = lan.hosts as [NetnsHost, NetnsHost, NetnsHost];
  const running: JsonLinesChild[] = [];
  const spawn = (host: NetnsHost, script: string, args: Msg) => {
    const child = lan.spawnJson(host, tsxCommand(script, JSON.stringify(args)));
    running.push(child);
    return child;
  };
  const stopAll = async () => {
    for (const c of running.splice(0)) if (!c.exited) c.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1200));
  };
  const from = advertiseHost.address;
  const stop = () => void lan.teardown().then(() => process.exit(1));
  process.once('SIGINT', stop);
  try {
    for (let run = 0; run < RUNS; run++) {
      if (process.env.MDNS_BENCH_VERBOSE) console.log(`run ${run + 1}`);
      const clusterId = `bench-adv-${process.pid}-${run}`;
      const sniffer = spawn(sniffHost, 'test/helpers/mdns-sniff.ts', { interface: sniffHost.address });
      const browser = spawn(browseHost, 'test/helpers/mdns-browse.ts', { mode: 'continuous' });
      await Promise.all([
        sniffer.waitFor((m) => m.event === 'ready', WAIT_MS),
        browser.waitFor((m) => m.event === 'ready', WAIT_MS),
      ]);
      const advertiser = spawn(advertiseHost, 'test/helpers/mdns-advertise.ts', { clusterId, port: 6443 });
      await advertiser.waitFor((m) => m.event === 'started', WAIT_MS);

      const isProbe = (m: Msg) => m.event === 'query' && m.from === from && (m.authorities as number) > 0;
      const isResponse = (m: Msg) => m.event === 'response' && m.from === from;
      const probes = [
        await nth(sniffer, isProbe, 1),
        await nth(sniffer, isProbe, 2),
        await nth(sniffer, isProbe, 3),
      ];
      const announcements = [await nth(sniffer, isResponse, 1), await nth(sniffer, isResponse, 2)];
      const t = (m: Msg) => m.t as number;
      record('probe 2 after probe 1', t(probes[1]!) - t(probes[0]!), '250 (§8.1)');
      record('probe 3 after probe 2', t(probes[2]!) - t(probes[1]!), '250 (§8.1)');
      record('first announcement after the last probe', t(announcements[0]!) - t(probes[2]!), '250 (§8.1)');
      record(
        'second announcement after the first',
        t(announcements[1]!) - t(announcements[0]!),
        '>= 1000 (§8.3)',
      );

      // a plain multicast PTR query once the announcements are over (§6: no multicast again
      // within 1 s), answered after the shared record's delay
      await new Promise((r) => setTimeout(r, 1200));
      sniffer.send(JSON.stringify({ query: { name: '_liqo._tcp.local', type: 'PTR' } }));
      const sent = await sniffer.waitFor((m) => m.event === 'sent', WAIT_MS);
      const answer = await sniffer.waitFor((m) => isResponse(m) && t(m) > t(sent), WAIT_MS);
      record('PTR answer after the query', t(answer) - t(sent), '20-120 (§6)');

      // the goodbye: from asking the advertiser to stop to the browser's 'removed'
      const isOurs = (m: Msg) => (m.peer as { clusterId?: string } | undefined)?.clusterId === clusterId;
      await browser.waitFor((m) => m.event === 'added' && isOurs(m), WAIT_MS);
      const stoppedAt = Date.now();
      advertiser.send('stop');
      const removed = await browser.waitFor((m) => m.event === 'removed' && isOurs(m), WAIT_MS);
      record('goodbye: removed from a browser', (removed.at as number) - stoppedAt, '~1000 (§10.1)');
      await stopAll();
    }
  } finally {
    await stopAll();
    await lan.teardown();
  }

  console.log(`mDNS advertiser timings, ${RUNS} runs (ms; three namespace hosts, fresh processes each run):`);
  const width = Math.max(...[...samples.keys()].map((k) => k.length));
  console.log(`${'figure'.padEnd(width)}   median      p90      max   RFC 6762`);
  for (const [name, values] of samples) {
    const cells = [percentile(values, 50), percentile(values, 90), Math.max(...values)].map((v) =>
      String(v).padStart(8),
    );
    console.log(`${name.padEnd(width)} ${cells.join(' ')}   ${nominal.get(name)}`);
  }
}

await main();
