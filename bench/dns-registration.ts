// DNS registration benchmark: how many UPDATE round trips each registrar call costs (counted at a
// loopback relay in front of a real BIND that takes TSIG-signed updates) and how long a steady-
// state refresh takes, against two anchors measured in the same run on the same server:
//   - one signed TXT query through the same transport: the floor of any signed exchange;
//   - `nsupdate -y` doing the same refresh (prerequisite, delete, add): BIND's own client, one
//     process per refresh, as a shell-out registrar (external-dns's rfc2136 provider keeps a
//     process instead, so this anchor includes a process start on purpose).
// The relay can add latency (DNS_REG_BENCH_RTT ms per round trip, default 0 and 10) to show that
// a refresh costs one round trip.
//   npx tsx bench/dns-registration.ts
//   DNS_REG_BENCH_RUNS=100 DNS_REG_BENCH_RTTS=0,20 npx tsx bench/dns-registration.ts
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import {
  deregister,
  register,
  type RegistrationSpec,
  type TsigKey,
} from '../shared/dns-registration/index.js';
import { exchange } from '../shared/dns-registration/transport.js';
import { signMessage } from '../shared/dns-registration/tsig.js';
import { encodeQuery } from '../shared/dns-registration/update-message.js';
import { startDnsRelay } from '../test/helpers/bind.js';
import { startUpdatableBind } from '../test/helpers/bind-update.js';

const RUNS = Number(process.env.DNS_REG_BENCH_RUNS ?? 30);
const RTTS = (process.env.DNS_REG_BENCH_RTTS ?? '0,10').split(',').map(Number);
const ZONE = 'bench.test';

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function timed(runs: number, work: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await work();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

function nsupdateRefresh(server: string, key: TsigKey): Promise<void> {
  const [host, port] = server.split(':') as [string, string];
  const script = [
    `server ${host} ${port}`,
    `zone ${ZONE}`,
    `prereq yxrrset _liqo-owner.anchor.${ZONE} TXT "heritage=liqo-discovery" "cluster-id=anchor"`,
    `update delete anchor.${ZONE} SRV`,
    `update delete anchor.${ZONE} TXT`,
    `update delete anchor.${ZONE} A`,
    `update add ${ZONE} 60 PTR anchor.${ZONE}.`,
    `update add anchor.${ZONE} 60 SRV 0 0 443 anchor.${ZONE}.`,
    `update add anchor.${ZONE} 60 TXT "txtvers=1" "id=anchor"`,
    `update add anchor.${ZONE} 60 A 127.0.0.99`,
    'send',
    '',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn('nsupdate', ['-y', `${key.algorithm}:${key.name}:${key.secret}`], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`nsupdate: ${stderr}`))));
    child.stdin.end(script);
  });
}

async function main(): Promise<void> {
  const bind = await startUpdatableBind({
    zone: ZONE,
    keys: ['bench'],
    records: `_liqo-owner.anchor TXT "heritage=liqo-discovery" "cluster-id=anchor"\n`,
  });
  const key = bind.keys.bench as TsigKey;
  try {
    console.log(`dns-registration bench: BIND ${bind.server}, ${RUNS} runs per median\n`);
    console.log(
      '| added RTT | refresh (ours) | UPDATEs/refresh | signed query (floor) | nsupdate refresh | ours/floor | nsupdate/ours |',
    );
    console.log('|---|---|---|---|---|---|---|');
    for (const rtt of RTTS) {
      const relay = await startDnsRelay({ upstream: bind.server, delayMs: rtt / 2 });
      try {
        const options = { server: relay.server, key, lease: { seconds: 3600 } };
        const spec: RegistrationSpec = {
          zone: ZONE,
          instance: `c-${rtt}`,
          authUrl: 'https://127.0.0.10:8443',
          clusterId: `id-${rtt}`,
          ttl: 60,
          browseDomains: true,
        };
        // the round trips of each kind of call, counted at the relay (UDP)
        const counts: string[] = [];
        const count = async (label: string, call: () => Promise<{ ok: boolean }>): Promise<void> => {
          const before = relay.udpStats().queries;
          const result = await call();
          if (!result.ok) throw new Error(`${label}: ${JSON.stringify(result)}`);
          counts.push(`${label} ${relay.udpStats().queries - before}`);
        };
        await count('create', () => register(spec, options));
        await count('refresh', () => register(spec, options));
        await count('move (new IP/port)', () =>
          register({ ...spec, authUrl: 'https://127.0.0.11:9443' }, options),
        );
        await count('move (in-zone host)', () =>
          register({ ...spec, authUrl: `https://h.${ZONE}:443`, targetAddresses: ['127.0.0.12'] }, options),
        );
        await count('deregister (spec)', () =>
          deregister({ ...spec, authUrl: `https://h.${ZONE}:443`, targetAddresses: ['127.0.0.12'] }, options),
        );
        await register(spec, options);
        await count('deregister (names only)', () =>
          deregister({ zone: ZONE, instance: spec.instance, clusterId: spec.clusterId }, options),
        );
        await register(spec, options);

        let updates = 0;
        const refresh = await timed(RUNS, async () => {
          const result = await register(spec, options);
          if (!result.ok || result.action !== 'refreshed') throw new Error(JSON.stringify(result));
          updates += result.updates;
        });
        const server = { host: '127.0.0.1', port: relay.port };
        const floor = await timed(RUNS, async () => {
          const signed = signMessage(encodeQuery(1234, ZONE, 'TXT'), key, {
            timeSigned: Math.floor(Date.now() / 1000),
          });
          await exchange(server, signed.message, { timeoutMs: 2000, tries: 2, deadline: Date.now() + 5000 });
        });
        const anchor = await timed(Math.min(RUNS, 15), () => nsupdateRefresh(relay.server, key));
        console.log(
          `| ${rtt} ms | ${refresh.toFixed(2)} ms | ${(updates / RUNS).toFixed(2)} | ${floor.toFixed(2)} ms | ${anchor.toFixed(1)} ms | ${(refresh / floor).toFixed(2)}x | ${(anchor / refresh).toFixed(1)}x |`,
        );
        console.log(`  round trips per call: ${counts.join(', ')}`);
        await deregister({ zone: ZONE, instance: spec.instance, clusterId: spec.clusterId }, options);
      } finally {
        await relay.stop();
      }
    }
  } finally {
    await bind.stop();
  }
}

await main();
