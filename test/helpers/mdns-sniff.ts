// Listens to the mDNS group inside a network namespace and reports every probe it hears (a
// query with an authority section) with the raw QU bit of each question, which dns-packet's
// decoder hides. For tests of what the advertiser sends.
//   argv[2]: JSON { interface: <ipv4 of this host> }
// stdout: {"event":"ready"}, then {"event":"probe","from","names","qu":[bool per question]}
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';

const args = JSON.parse(process.argv[2] ?? '{}') as { interface: string };
const socket = createSocket({ type: 'udp4', reuseAddr: true });
socket.on('message', (msg, rinfo) => {
  let packet;
  try {
    packet = dnsPacket.decode(msg);
  } catch {
    return;
  }
  if (packet.type !== 'query' || (packet.authorities ?? []).length === 0) return;
  const qu: boolean[] = [];
  let offset = 12;
  for (let q = 0; q < msg.readUInt16BE(4); q++) {
    while ((msg[offset] ?? 0) !== 0) {
      if (((msg[offset] ?? 0) & 0xc0) === 0xc0) {
        offset += 1; // a pointer ends the name (its second byte is skipped below)
        break;
      }
      offset += (msg[offset] ?? 0) + 1;
    }
    offset += 1 + 2;
    qu.push((msg.readUInt16BE(offset) & 0x8000) !== 0);
    offset += 2;
  }
  const names = (packet.questions ?? []).map((q) => q.name);
  process.stdout.write(`${JSON.stringify({ event: 'probe', from: rinfo.address, names, qu })}\n`);
});
socket.bind(5353, '0.0.0.0', () => {
  socket.addMembership('224.0.0.251', args.interface);
  process.stdout.write(`${JSON.stringify({ event: 'ready' })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
