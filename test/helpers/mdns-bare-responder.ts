// A deliberately terse mDNS responder, run inside a network namespace: a plain dgram socket on
// port 5353 (dns-packet, no multicast-dns) that answers each question with ONLY the record asked
// for, one reply per question, never with additionals. Real responders do this too (rate limits,
// known-answer suppression, a PTR answer that outgrew the packet), and a browser must then ask
// for SRV, TXT and A itself. It logs every question it hears, so a test can see what was asked.
//   argv[2]: JSON { interface: <ipv4 of this host>, instance, clusterId, clusterName?, port,
//                   hostname (without .local), address, serviceTypes? (["_liqo._tcp.local"]),
//                   answerA? (true), answerTxt? (true), dropTxt? (0), answerLegacy? (true),
//                   ttl? (120) }
//   answerTxt false: no TXT record at all (as Liqo v0.2 publishes none); dropTxt N: the first N
//   TXT questions for each instance go unanswered (lost replies), later ones are answered;
//   answerLegacy false: queries from a port other than 5353 are logged and never answered.
// Replies go to the group (port 5353), or by unicast to the sender when the query came from
// another port (RFC 6762 §6.7 legacy unicast: id and question echoed, TTL at most 10 s) or had
// the QU bit. AAAA and every other type are logged and never answered.
// stdout: {"event":"ready"}, then {"event":"question",at,from,port,name,type,qu,answered} per
// question (at: epoch ms). SIGTERM ends it.
import { createSocket, type RemoteInfo } from 'node:dgram';
import dnsPacket, { type Answer, type Packet, type Question } from 'dns-packet';
import { quBits } from './mdns-wire.js';

interface Args {
  interface: string;
  instance: string;
  clusterId: string;
  clusterName?: string;
  port: number;
  hostname: string;
  address: string;
  serviceTypes?: string[];
  answerA?: boolean;
  answerTxt?: boolean;
  dropTxt?: number;
  answerLegacy?: boolean;
  ttl?: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const serviceTypes = (args.serviceTypes ?? ['_liqo._tcp.local']).map((t) => t.toLowerCase());
const host = `${args.hostname}.local`;
const ttl = args.ttl ?? 120;
const lower = (name: string) => name.replace(/\.$/, '').toLowerCase();
const txtQuestionsSeen = new Map<string, number>();

/** The one record answering a question, or undefined. */
function answerFor(q: Question): Answer | undefined {
  const name = lower(q.name);
  if (q.type === 'PTR' && serviceTypes.includes(name)) {
    return { name: q.name, type: 'PTR', class: 'IN', ttl, data: `${args.instance}.${name}` };
  }
  const serviceType = serviceTypes.find((t) => name === `${args.instance}.${t}`.toLowerCase());
  if (serviceType && q.type === 'SRV') {
    const data = { priority: 0, weight: 0, port: args.port, target: host };
    return { name: q.name, type: 'SRV', class: 'IN', ttl, flush: true, data };
  }
  if (serviceType && q.type === 'TXT') {
    const seen = (txtQuestionsSeen.get(name) ?? 0) + 1;
    txtQuestionsSeen.set(name, seen);
    if (args.answerTxt === false || seen <= (args.dropTxt ?? 0)) return undefined;
    const entries = [`txtvers=1`, `id=${args.clusterId}`];
    if (args.clusterName) entries.push(`name=${args.clusterName}`);
    const data = entries.map((e) => Buffer.from(e));
    return { name: q.name, type: 'TXT', class: 'IN', ttl, flush: true, data };
  }
  if (name === host && q.type === 'A' && args.answerA !== false) {
    return { name: q.name, type: 'A', class: 'IN', ttl, flush: true, data: args.address };
  }
  return undefined;
}

const socket = createSocket({ type: 'udp4', reuseAddr: true });

function reply(query: Packet, q: Question, answer: Answer, to: RemoteInfo, unicast: boolean): void {
  const legacy = to.port !== 5353;
  const packet: Packet = {
    type: 'response',
    id: legacy ? query.id : 0,
    flags: dnsPacket.AUTHORITATIVE_ANSWER,
    questions: legacy ? [q] : [],
    answers: [legacy ? ({ ...answer, ttl: Math.min(10, ttl), flush: false } as Answer) : answer],
  };
  const wire = dnsPacket.encode(packet);
  if (unicast) socket.send(wire, to.port, to.address);
  else socket.send(wire, 5353, '224.0.0.251');
}

socket.on('message', (msg, rinfo) => {
  let packet: Packet;
  try {
    packet = dnsPacket.decode(msg);
  } catch {
    return;
  }
  if (packet.type !== 'query' || (packet.authorities ?? []).length > 0) return; // probes are not ours
  const qu = quBits(msg);
  const ignored = rinfo.port !== 5353 && args.answerLegacy === false;
  for (const [i, q] of (packet.questions ?? []).entries()) {
    const answer = ignored ? undefined : answerFor(q);
    const line = {
      event: 'question',
      at: Date.now(),
      from: rinfo.address,
      port: rinfo.port,
      name: q.name,
      type: q.type,
      qu: qu[i] ?? false,
      answered: answer !== undefined,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    if (answer) reply(packet, q, answer, rinfo, rinfo.port !== 5353 || (qu[i] ?? false));
  }
});

socket.bind(5353, '0.0.0.0', () => {
  socket.addMembership('224.0.0.251', args.interface);
  socket.setMulticastInterface(args.interface);
  socket.setMulticastTTL(255);
  socket.setMulticastLoopback(false);
  process.stdout.write(`${JSON.stringify({ event: 'ready' })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
