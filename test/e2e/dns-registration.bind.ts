// The zone server of test/e2e/dns-registration.test.ts, run by that test inside its own network
// namespace: a real BIND on <address>:53 (and 127.0.0.1:53) serving one zone whose
// update-policy lets one TSIG key (random, as tsig-keygen makes it) update it. Prints one JSON
// line {server, key}, then runs until SIGTERM or its stdin closes. Not a test itself.
import { startBind } from '../helpers/bind.js';
import { randomKey } from '../helpers/bind-update.js';

async function main(): Promise<void> {
  const { zone, address, keyName } = JSON.parse(process.argv[2] ?? '{}') as {
    zone: string;
    address: string;
    keyName: string;
  };
  const key = randomKey(keyName);
  const bind = await startBind({
    zones: { [zone]: '' },
    port: 53,
    ttl: 5,
    extraOptions: `listen-on port 53 { ${address}; };`,
    extraConfig: `key "${key.name}" { algorithm ${key.algorithm}; secret "${key.secret}"; };`,
    zoneOptions: { [zone]: `update-policy { grant ${key.name} zonesub ANY; }; allow-transfer { any; };` },
  });
  const stop = async () => {
    await bind.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.stdin.on('end', () => void stop());
  process.stdin.resume();
  process.stdout.write(`${JSON.stringify({ server: `${address}:53`, key })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`zone server failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
