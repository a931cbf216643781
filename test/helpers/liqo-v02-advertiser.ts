// A STAND-IN for Liqo v0.2's mDNS advertiser, for cases that need control over what is sent
// (announcement period, no answers, a chosen TTL). The real library, Liqo's zeroconf fork, is run
// by test/integration/mdns-liqo-zeroconf.test.ts (needs Go). This emulates what
// reference/liqo-v0.2-facts.md §2.2/§2.4 says it sends, with raw
// multicast-dns: instance = the cluster id, service `_liqo_auth._tcp.local`, an empty TXT, SRV to
// `<hostname>.local`, A records with TTL 120 and the rest with the configured TTL (90), periodic
// unsolicited responses (no question, no cache-flush bits) with the PTR in the answers and
// SRV/TXT/A in the additionals, and answers matched on the question name only.
//   argv[2]: JSON { clusterId, port, hostname?, address, intervalMs? (12000), answerQueries? (true) }
// stdout: {"event":"started"}; stdin "stop" sends a goodbye and exits.
import { createInterface } from 'node:readline';
import type { Answer } from 'dns-packet';
import makeMdns from 'multicast-dns';

interface Args {
  clusterId: string;
  port: number;
  hostname?: string;
  address: string;
  intervalMs?: number;
  answerQueries?: boolean;
  ttl?: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const service = '_liqo_auth._tcp.local';
const instance = `${args.clusterId}.${service}`;
const host = `${args.hostname ?? 'liqo-node'}.local`;
const ttl = args.ttl ?? 90;

function records(ttlOverride?: number): { ptr: Answer[]; rest: Answer[] } {
  const t = (v: number) => ttlOverride ?? v;
  return {
    ptr: [{ name: service, type: 'PTR', class: 'IN', ttl: t(ttl), data: instance }],
    rest: [
      {
        name: instance,
        type: 'SRV',
        class: 'IN',
        ttl: t(ttl),
        data: { priority: 0, weight: 0, port: args.port, target: host },
      },
      { name: instance, type: 'TXT', class: 'IN', ttl: t(ttl), data: [] },
      { name: host, type: 'A', class: 'IN', ttl: t(120), data: args.address },
    ],
  };
}

const mdns = makeMdns({ interface: args.address, bind: '0.0.0.0' });
mdns.on('warning', () => undefined);
mdns.on('query', (query) => {
  if (args.answerQueries === false || (query.authorities ?? []).length > 0) return;
  const { ptr, rest } = records();
  for (const q of query.questions) {
    const name = q.name.toLowerCase();
    if (name === service) mdns.respond({ answers: ptr, additionals: rest });
    else if (name === instance.toLowerCase()) mdns.respond({ answers: [...rest, ...ptr] });
  }
});

const announce = () => {
  const { ptr, rest } = records();
  mdns.respond({ answers: ptr, additionals: rest });
};

mdns.on('ready', () => {
  announce();
  const timer = setInterval(announce, args.intervalMs ?? 12000);
  process.stdout.write(`${JSON.stringify({ event: 'started' })}\n`);
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() !== 'stop') return;
    clearInterval(timer);
    const { ptr, rest } = records(0);
    mdns.respond({ answers: [...ptr, ...rest] }, () => {
      mdns.destroy();
      process.exit(0);
    });
  });
});
