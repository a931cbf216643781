// "Our" cluster for the discover e2e tests, run inside a network namespace of the test LAN
// (discover browses mDNS, which must never happen in the root namespace): a real control
// plane with our CRDs and webhook, and a real BIND serving the guide's kind of zone.
//   argv[2]: JSON { zone: string, domain: string }
// stdout (JSON lines): {"event":"ready","kubeconfig","clusterId","dnsServer","limitedKubeconfig"}
// stdin "stop" (or SIGTERM): stops everything and exits.
import { createInterface } from 'node:readline';
import { startLiqoEnvironment } from '../harness/liqo-environment.js';
import { startBind } from '../helpers/bind.js';

function print(msg: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as { zone: string; domain: string };
  const [env, bind] = await Promise.all([
    startLiqoEnvironment({ webhook: {} }),
    startBind({ zones: { [args.domain]: args.zone } }),
  ]);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled([env.stop(), bind.stop()]);
    print({ event: 'stopped' });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'stop') void stop();
  });
  print({
    event: 'ready',
    kubeconfig: env.controlPlane.adminKubeconfig,
    limitedKubeconfig: env.controlPlane.createUserKubeconfig('nobody'),
    clusterId: env.clusterId,
    dnsServer: bind.server,
  });
}

main().catch((err: Error) => {
  print({ event: 'error', message: err.message });
  process.exit(1);
});
