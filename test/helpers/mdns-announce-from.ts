// Sends complete, unsolicited mDNS announcements (PTR, SRV, TXT and A records in one response)
// from a chosen source address inside a network namespace, every `intervalMs`, and never
// listens: a LAN host that says whatever it likes, for the trust-boundary tests. The socket is
// bound to `source` (port 5353), so that address is the packets' source, whatever the routes.
//   argv[2]: JSON { source: <ipv4 of this host>, intervalMs?: 300,
//                   services: [{ instance, clusterId, host (without .local), port, addresses }] }
// stdout: {"event":"ready"}, then {"event":"sent","count"} after each round. SIGTERM ends it.
import { createSocket } from 'node:dgram';
import dnsPacket, { type Answer } from 'dns-packet';

interface Service {
  instance: string;
  clusterId: string;
  host: string;
  port: number;
  addresses: string[];
}
const args = JSON.parse(process.argv[2] ?? '{}') as {
  source: string;
  intervalMs?: number;
  services: Service[];
};
const TYPE = '_liqo._tcp.local';
const TTL = 120;

function recordsOf(s: Service): Answer[] {
  const instance = `${s.instance}.${TYPE}`;
  const target = `${s.host}.local`;
  return [
    { name: TYPE, type: 'PTR', class: 'IN', ttl: TTL, data: instance },
    {
      name: instance,
      type: 'SRV',
      class: 'IN',
      ttl: TTL,
      flush: true,
      data: { priority: 0, weight: 0, port: s.port, target },
    },
    {
      name: instance,
      type: 'TXT',
      class: 'IN',
      ttl: TTL,
      flush: true,
      data: [Buffer.from('txtvers=1'), Buffer.from(`id=${s.clusterId}`)],
    },
    ...s.addresses.map((address): Answer => ({
      name: target,
      type: 'A',
      class: 'IN',
      ttl: TTL,
      flush: true,
      data: address,
    })),
  ];
}

const wire = dnsPacket.encode({
  type: 'response',
  id: 0,
  flags: dnsPacket.AUTHORITATIVE_ANSWER,
  answers: args.services.flatMap(recordsOf),
});
const socket = createSocket({ type: 'udp4', reuseAddr: true });
let count = 0;
socket.bind(5353, args.source, () => {
  socket.setMulticastInterface(args.source);
  socket.setMulticastTTL(255);
  process.stdout.write(`${JSON.stringify({ event: 'ready' })}\n`);
  const round = () =>
    socket.send(wire, 5353, '224.0.0.251', () => {
      count += 1;
      process.stdout.write(`${JSON.stringify({ event: 'sent', count })}\n`);
    });
  round();
  setInterval(round, args.intervalMs ?? 300);
});
process.on('SIGTERM', () => process.exit(0));
