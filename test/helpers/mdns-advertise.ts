// Runs an MdnsAdvertiser inside a network namespace for tests and benchmarks, talking JSON lines.
//   argv[2]: JSON AdvertiseOptions, plus optional `ids: { clusterName?, guestNamespace? }` to
//   also serve GET /ids over HTTPS on 0.0.0.0 (self-signed) and advertise that server's port.
// stdout: {"event":"started","instance","hostname","port"}, {"event":"renamed",...},
//         {"event":"stopped"}; stdin "stop" (or SIGTERM) sends goodbyes and exits.
import { createInterface } from 'node:readline';
import { MdnsAdvertiser } from '../../shared/lookup/mdns.js';
import type { AdvertiseOptions } from '../../shared/lookup/types.js';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import { startIdsServer, testKeyPem } from './https-ids-server.js';

type Args = AdvertiseOptions & { ids?: { clusterName?: string; guestNamespace?: string } };

function print(msg: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as Args;
  let closeIds: (() => void) | undefined;
  if (args.ids) {
    const keyPem = await testKeyPem();
    const cert = createServingCertificate({ commonName: 'liqo-auth', keyPem }); // self-signed, like Liqo's
    const identity = { clusterId: args.clusterId, guestNamespace: 'liqo', ...args.ids };
    const server = await startIdsServer({ ...cert, identity, host: '0.0.0.0' });
    args.port = Number(new URL(server.url).port);
    closeIds = () => void server.close();
  }
  const { ids: _ids, ...options } = args;
  const advertiser = new MdnsAdvertiser(options);
  advertiser.on('renamed', (names: Record<string, unknown>) => print({ event: 'renamed', ...names }));
  advertiser.on('warning', (err: Error) => print({ event: 'warning', message: err.message }));
  advertiser.on('topology', (topology: string) => print({ event: 'topology', topology }));
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await advertiser.stop();
    closeIds?.();
    print({ event: 'stopped' });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'stop') void stop();
  });
  await advertiser.start();
  print({ event: 'started', instance: advertiser.instance, hostname: advertiser.hostname, port: args.port });
}

main().catch((err: Error) => {
  print({ event: 'error', message: err.message });
  process.exit(1);
});
