// Sends hostile mDNS traffic to 224.0.0.251:5353 inside a namespace, for the robustness tests:
// random bytes, truncated packets, compression loops, wrong counts, huge TXT records and many
// bogus instances of our service type; with `aimAt`, as many again about one advertiser's own
// names (probes, conflicting claims, spoofed goodbyes, garbage known answers).
//   argv[2]: JSON { interface: <ipv4>, count: number, aimAt?: { instances: string[], host: string } }
// stdout: {"event":"done","sent":n}
import { createSocket } from 'node:dgram';
import { aimedBuffers, hostileBuffers, type AimedNames } from './mdns-hostile.js';

const {
  interface: iface,
  count,
  aimAt,
} = JSON.parse(process.argv[2] ?? '{}') as {
  interface: string;
  count: number;
  aimAt?: AimedNames;
};
const socket = createSocket({ type: 'udp4', reuseAddr: true });
socket.bind(0, '0.0.0.0', async () => {
  socket.setMulticastInterface(iface);
  let sent = 0;
  const buffers = hostileBuffers(count);
  if (aimAt) {
    // interleaved, so the advertiser meets its own names in the middle of the noise
    const aimed = aimedBuffers(aimAt, count);
    buffers.splice(0, buffers.length, ...buffers.flatMap((buf, i) => [buf, aimed[i] as Buffer]));
  }
  for (const buf of buffers) {
    await new Promise<void>((resolve) => socket.send(buf, 5353, '224.0.0.251', () => resolve()));
    sent += 1;
  }
  process.stdout.write(`${JSON.stringify({ event: 'done', sent })}\n`);
  socket.close();
});
