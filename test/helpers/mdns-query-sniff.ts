// Listens to the mDNS group inside a network namespace and reports every query it hears, with
// the time it arrived (epoch ms, the same clock as every other process on this machine), the
// source port (5353, or an ephemeral one for an RFC 6762 §6.7 legacy-unicast query), the raw QU
// bit of each question (dns-packet's decoder hides it) and the known answers. For tests of when
// and what a browser asks. It never sends anything.
//   argv[2]: JSON { interface: <ipv4 of this host> }
// stdout: {"event":"ready"}, then {"event":"query",at,from,port,questions:[{name,type}],qu,
//          knownAnswers:[{name,type,data,ttl}],probe} per packet. SIGTERM ends it.
import { createSocket } from 'node:dgram';
import dnsPacket, { type Packet } from 'dns-packet';
import { quBits } from './mdns-wire.js';

const args = JSON.parse(process.argv[2] ?? '{}') as { interface: string };

const socket = createSocket({ type: 'udp4', reuseAddr: true });
socket.on('message', (msg, rinfo) => {
  const at = Date.now();
  let packet: Packet;
  try {
    packet = dnsPacket.decode(msg);
  } catch {
    return;
  }
  if (packet.type !== 'query') return;
  const line = {
    event: 'query',
    at,
    from: rinfo.address,
    port: rinfo.port,
    questions: (packet.questions ?? []).map((q) => ({ name: q.name, type: q.type })),
    qu: quBits(msg),
    knownAnswers: (packet.answers ?? []).map((a) => ({
      name: a.name,
      type: a.type,
      data: 'data' in a ? a.data : undefined,
      ttl: 'ttl' in a ? a.ttl : undefined,
    })),
    probe: (packet.authorities ?? []).length > 0,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
});
socket.bind(5353, '0.0.0.0', () => {
  socket.addMembership('224.0.0.251', args.interface);
  process.stdout.write(`${JSON.stringify({ event: 'ready' })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
