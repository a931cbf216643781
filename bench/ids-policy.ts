// The cost of the connect-time address policy (shared/net/address-policy.ts) on /ids fetch
// latency: fetchClusterIdentity with the policy against the same call with `addressPolicy: 'off'`
// (the anchor), in one run, interleaved sample by sample so drift hits both alike. Three host
// forms, because the policy hooks in differently for each:
//   literal   https://127.0.0.1:<port>  — judged once before connecting (Node skips the look-up)
//   name      https://localhost:<port>  — our lookup hook: getaddrinfo, then every address judged;
//                                         the anchor uses Node's own lookup
//   addresses https://peer.invalid:<port> with addresses [127.0.0.1] — the hook's given answer
//                                         judged (the anchor answers it unchecked)
// Also prints the policy's own cost per address (refusalOf) as a floor. Loopback only; the
// policy used allows loopback, so every fetch completes.
//   npx tsx bench/ids-policy.ts          (IDS_POLICY_BENCH_RUNS=2000 to change the sample count)
import { performance } from 'node:perf_hooks';
import { fetchClusterIdentity } from '../shared/lookup/ids.js';
import type { FetchIdentityOptions } from '../shared/lookup/types.js';
import { refusalOf } from '../shared/net/address-policy.js';
import { createServingCertificate } from '../shared/tls/certificates.js';
import { startIdsServer, testKeyPem } from '../test/helpers/https-ids-server.js';

const RUNS = Number(process.env['IDS_POLICY_BENCH_RUNS'] ?? 1000);
const WARMUP = 50;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

async function timeFetch(url: string, opts: FetchIdentityOptions): Promise<number> {
  const start = performance.now();
  await fetchClusterIdentity(url, opts);
  return performance.now() - start;
}

interface Row {
  name: string;
  policy: number[];
  anchor: number[];
}

async function main(): Promise<void> {
  const keyPem = await testKeyPem();
  const cert = createServingCertificate({ commonName: 'bench', hosts: ['127.0.0.1', 'localhost'], keyPem });
  const ids = await startIdsServer({ ...cert, host: '127.0.0.1' });
  const port = ids.port;
  const forms: { name: string; url: string; extra: FetchIdentityOptions }[] = [
    { name: 'literal 127.0.0.1', url: `https://127.0.0.1:${port}`, extra: {} },
    { name: 'name localhost (getaddrinfo)', url: `https://localhost:${port}`, extra: {} },
    { name: 'given addresses', url: `https://peer.invalid:${port}`, extra: { addresses: ['127.0.0.1'] } },
  ];
  const withPolicy: FetchIdentityOptions = { addressPolicy: { allowLoopback: true } };
  const withoutPolicy: FetchIdentityOptions = { addressPolicy: 'off' };
  const rows: Row[] = [];
  try {
    for (const form of forms) {
      const row: Row = { name: form.name, policy: [], anchor: [] };
      for (let i = 0; i < WARMUP; i++) {
        await timeFetch(form.url, { ...form.extra, ...withPolicy });
        await timeFetch(form.url, { ...form.extra, ...withoutPolicy });
      }
      for (let i = 0; i < RUNS; i++) {
        // alternate which goes first, so neither always follows the other's garbage
        if (i % 2) {
          row.policy.push(await timeFetch(form.url, { ...form.extra, ...withPolicy }));
          row.anchor.push(await timeFetch(form.url, { ...form.extra, ...withoutPolicy }));
        } else {
          row.anchor.push(await timeFetch(form.url, { ...form.extra, ...withoutPolicy }));
          row.policy.push(await timeFetch(form.url, { ...form.extra, ...withPolicy }));
        }
      }
      rows.push(row);
    }
  } finally {
    await ids.close();
  }

  // the judgement alone, per address, over a mix of address forms
  const sample = [
    '10.1.2.3',
    '127.0.0.1',
    '169.254.169.254',
    '::1',
    'fd00:ec2::254',
    '::ffff:10.0.0.1',
    '2a00:1450::1',
  ];
  const judgements = 200_000;
  const start = performance.now();
  for (let i = 0; i < judgements; i++) refusalOf(sample[i % sample.length]!, { allowLoopback: false });
  const perJudgementUs = ((performance.now() - start) * 1000) / judgements;

  const ms = (x: number) => x.toFixed(3);
  console.log(`/ids fetch over loopback, ${RUNS} samples each, interleaved (median / p90 / p99, ms)\n`);
  console.log('| host form | with policy | no policy (anchor) | ratio of medians | ratio of p90 |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) {
    const [p50, p90, p99] = [0.5, 0.9, 0.99].map((q) => quantile(row.policy, q)) as [number, number, number];
    const [a50, a90, a99] = [0.5, 0.9, 0.99].map((q) => quantile(row.anchor, q)) as [number, number, number];
    console.log(
      `| ${row.name} | ${ms(p50)} / ${ms(p90)} / ${ms(p99)} | ${ms(a50)} / ${ms(a90)} / ${ms(a99)} | **${(p50 / a50).toFixed(3)}×** | ${(p90 / a90).toFixed(3)}× |`,
    );
  }
  console.log(
    `\nthe judgement alone: ${perJudgementUs.toFixed(2)} µs per address (refusalOf, ${judgements} calls)`,
  );
}

await main();
