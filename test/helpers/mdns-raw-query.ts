// Sends one hand-made mDNS query inside a namespace and prints what comes back to its socket,
// for tests of the responder's rules (QU bit, known-answer suppression, legacy unicast).
//   argv[2]: JSON { interface: <ipv4>, questions: Question[], knownAnswers?: Answer[],
//                   qu?: boolean, fromPort?: number (default 5353; 0 = ephemeral), waitMs?: number }
// The socket does NOT join the multicast group, so in a namespace where nothing else joined it
// only sees unicast replies. stdout: {"event":"done","responses":[decoded packets]}
import { createSocket } from 'node:dgram';
import dnsPacket, { type Answer, type Packet, type Question } from 'dns-packet';

interface Args {
  interface: string;
  questions: Question[];
  knownAnswers?: Answer[];
  qu?: boolean;
  fromPort?: number;
  waitMs?: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const wire = dnsPacket.encode({
  type: 'query',
  id: 4242,
  flags: 0,
  questions: args.questions,
  answers: args.knownAnswers ?? [],
});
if (args.qu) {
  // dns-packet cannot encode the QU bit: set the top bit of each question's class by hand
  let offset = 12;
  for (const q of args.questions) {
    offset += Buffer.byteLength(q.name.replace(/\.$/, '')) + 2 + 2; // labels + root, then the type
    wire.writeUInt16BE(wire.readUInt16BE(offset) | 0x8000, offset);
    offset += 2;
  }
}
const responses: Packet[] = [];
const socket = createSocket({ type: 'udp4', reuseAddr: true });
socket.on('message', (msg) => {
  try {
    const packet = dnsPacket.decode(msg);
    if (packet.type === 'response') responses.push(packet);
  } catch {
    // not ours to judge here
  }
});
socket.bind(args.fromPort ?? 5353, '0.0.0.0', () => {
  socket.setMulticastInterface(args.interface);
  socket.send(wire, 5353, '224.0.0.251');
  setTimeout(() => {
    process.stdout.write(`${JSON.stringify({ event: 'done', responses })}\n`);
    socket.close();
  }, args.waitMs ?? 600);
});
