// Listens to the mDNS group inside a network namespace and reports what it hears, for tests of
// what the advertiser sends: every probe (a query with an authority section) with the raw QU
// bit of each question, which dns-packet's decoder hides; and, with arrival times, every query
// and every response (each record's name, type, TTL and cache-flush bit). On request it sends a
// plain multicast query (QM) from port 5353, like a browser that shares the port.
//   argv[2]: JSON { interface: <ipv4 of this host> }
//   stdin:   JSON lines {"query": {"name", "type"}}
// stdout: {"event":"ready"}, then
//   {"event":"probe","from","names","qu":[bool per question]}
//   {"event":"query","t","from","port","names","types","qu","authorities":<count>}
//   {"event":"response","t","from","port","answers":[Rec],"additionals":[Rec]}
//   {"event":"sent","t","name","type"}        Rec = {name, type, ttl, flush}; t: just before sending
// t: performance.now() of this process, in ms (one clock for sends and arrivals).
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import dnsPacket, { type Answer } from 'dns-packet';
import { quBits } from './mdns-wire.js';

const args = JSON.parse(process.argv[2] ?? '{}') as { interface: string };
const print = (msg: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(msg)}\n`);

const rec = (a: Answer) => ({
  name: a.name,
  type: a.type,
  ttl: 'ttl' in a ? a.ttl : undefined,
  flush: 'flush' in a ? !!a.flush : false,
});

const socket = createSocket({ type: 'udp4', reuseAddr: true });
socket.on('message', (msg, rinfo) => {
  const t = performance.now();
  let packet;
  try {
    packet = dnsPacket.decode(msg);
  } catch {
    return;
  }
  const from = { from: rinfo.address, port: rinfo.port };
  if (packet.type === 'response') {
    const answers = (packet.answers ?? []).map(rec);
    const additionals = (packet.additionals ?? []).map(rec);
    return print({ event: 'response', t, ...from, answers, additionals });
  }
  if (packet.type !== 'query') return;
  const qu = quBits(msg);
  const names = (packet.questions ?? []).map((q) => q.name);
  const types = (packet.questions ?? []).map((q) => q.type);
  const authorities = (packet.authorities ?? []).length;
  print({ event: 'query', t, ...from, names, types, qu, authorities });
  if (authorities > 0) print({ event: 'probe', from: rinfo.address, names, qu });
});
socket.bind(5353, '0.0.0.0', () => {
  socket.addMembership('224.0.0.251', args.interface);
  socket.setMulticastInterface(args.interface);
  socket.setMulticastTTL(255);
  print({ event: 'ready' });
});
createInterface({ input: process.stdin }).on('line', (line) => {
  const { query } = JSON.parse(line) as { query: { name: string; type: string } };
  const wire = dnsPacket.encode({
    type: 'query',
    id: 0,
    flags: 0,
    questions: [{ name: query.name, type: query.type as 'PTR', class: 'IN' }],
  });
  // stamped before the send, so that an answer's measured delay is never shorter than the real one
  const t = performance.now();
  socket.send(wire, 5353, '224.0.0.251', () => print({ event: 'sent', t, ...query }));
});
process.on('SIGTERM', () => process.exit(0));
