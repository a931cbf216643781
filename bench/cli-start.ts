// Start-up of `kubectl liqo` against kubectl's own `kubectl version --client`, in one run.
// Measures, each through the real kubectl with the built plugin (launcher + modules) on PATH:
//   kubectl liqo --help, kubectl liqo version (no kubeconfig), kubectl liqo discover --url <local /ids>
// and, for reference, the plugin's entry run by node directly, a bare `node -e 0`, and an empty
// Node plugin (the floor of any plugin written for Node). When NODE_EXTRA_CA_CERTS is set (Node
// then loads it at start-up) the references are shown with and without it.
// Target: `kubectl liqo --help` ≤ 2.0× `kubectl version --client`.
//
// `discover` may only run inside a network namespace (TESTING.md), so the whole benchmark
// re-runs itself under `unshare -n` with only loopback up; the /ids server lives there too.
//   npx tsx bench/cli-start.ts            (CLI_BENCH_RUNS=30 to change the sample count)
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServingCertificate } from '../shared/tls/certificates.js';
import { KUBECTL } from '../test/harness/kubectl.js';
import { startIdsServer, testKeyPem } from '../test/helpers/https-ids-server.js';
import { installPluginOnPath } from '../test/e2e/plugin-helpers.js';

const IN_NETNS = 'LIQO_CLI_BENCH_IN_NETNS';

if (!process.env[IN_NETNS]) {
  const r = spawnSync(
    'unshare',
    [
      '-n',
      'sh',
      '-c',
      `ip link set lo up && exec "$0" "$@"`,
      process.execPath,
      ...process.execArgv,
      ...process.argv.slice(1),
    ],
    { stdio: 'inherit', env: { ...process.env, [IN_NETNS]: '1' } },
  );
  process.exit(r.status ?? 1);
}

const RUNS = Number(process.env.CLI_BENCH_RUNS ?? 20);
const WARMUP = 3;

interface Case {
  name: string;
  file: string;
  args: string[];
  /** Variables to remove from the environment for this case. */
  unset?: string[];
}

// async: the /ids server lives in this process and must keep answering meanwhile
function timeOnce(c: Case, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const caseEnv = { ...env };
    for (const name of c.unset ?? []) delete caseEnv[name];
    const child = spawn(c.file, c.args, { env: caseEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) reject(new Error(`${c.name} exited ${code}: ${stderr.trim().split('\n').pop()}`));
      else if (/unreachable/.test(stderr)) reject(new Error(`${c.name}: ${stderr.trim()}`));
      else resolve(ms);
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function main(): Promise<void> {
  const plugin = await installPluginOnPath();
  const keyPem = await testKeyPem();
  const ids = await startIdsServer({
    ...createServingCertificate({ commonName: 'bench', hosts: ['127.0.0.1'], keyPem }),
  });
  // no kubeconfig anywhere: version and discover must not load the client library
  const home = mkdtempSync(join(tmpdir(), 'cli-bench-home-'));
  // the floor of any Node plugin: kubectl finding and exec'ing an empty Node script
  writeFileSync(join(plugin.binDir, 'kubectl-nodefloor'), '#!/usr/bin/env node\n');
  chmodSync(join(plugin.binDir, 'kubectl-nodefloor'), 0o755);
  // the plugin without the launcher's deferral of NODE_EXTRA_CA_CERTS, to show what it buys
  writeFileSync(
    join(plugin.binDir, 'kubectl-liqonodefer'),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(plugin.bundle)} "$@"\n`,
  );
  chmodSync(join(plugin.binDir, 'kubectl-liqonodefer'), 0o755);
  const env = {
    ...process.env,
    PATH: `${plugin.binDir}:${process.env.PATH ?? ''}`,
    HOME: home,
    KUBECONFIG: join(home, 'none'),
    NO_COLOR: '1',
  };
  const cases: Case[] = [
    { name: 'kubectl version --client (anchor)', file: KUBECTL, args: ['version', '--client'] },
    { name: 'kubectl liqo --help', file: KUBECTL, args: ['liqo', '--help'] },
    { name: 'kubectl liqo version', file: KUBECTL, args: ['liqo', 'version'] },
    {
      name: `kubectl liqo discover --url <local /ids>`,
      file: KUBECTL,
      args: ['liqo', 'discover', '--url', ids.url],
    },
    {
      name: 'node <plugin entry> --help (no kubectl)',
      file: process.execPath,
      args: [plugin.bundle, '--help'],
    },
    { name: 'node -e 0', file: process.execPath, args: ['-e', '0'] },
    { name: 'kubectl nodefloor (empty Node plugin)', file: KUBECTL, args: ['nodefloor'] },
  ];
  const extraCa = process.env.NODE_EXTRA_CA_CERTS;
  if (extraCa) {
    // what Node's own start-up costs with the variable set, and what the launcher avoids
    for (const c of cases.slice(-3)) {
      cases.push({ ...c, name: `${c.name} -NODE_EXTRA_CA_CERTS`, unset: ['NODE_EXTRA_CA_CERTS'] });
    }
    cases.push({
      name: 'kubectl liqo --help, not deferring it',
      file: KUBECTL,
      args: ['liqonodefer', '--help'],
    });
  }
  try {
    for (const c of cases) for (let i = 0; i < WARMUP; i++) await timeOnce(c, env);
    const samples = cases.map(() => [] as number[]);
    // interleaved, so that load from other work on the machine hits every case alike
    for (let i = 0; i < RUNS; i++) {
      for (const [k, c] of cases.entries()) samples[k]!.push(await timeOnce(c, env));
    }
    const anchor = median(samples[0]!);
    console.log(`cli-start: median of ${RUNS} runs each (after ${WARMUP} warm-up), node ${process.version}`);
    if (extraCa) console.log(`  (NODE_EXTRA_CA_CERTS=${extraCa}; "-NODE_EXTRA_CA_CERTS": run without it)`);
    cases.forEach((c, k) => {
      const m = median(samples[k]!);
      console.log(`  ${c.name.padEnd(44)} ${m.toFixed(1).padStart(7)} ms   ${(m / anchor).toFixed(2)}×`);
    });
    const help = median(samples[1]!) / anchor;
    console.log(
      `target: kubectl liqo --help ≤ 2.0× kubectl version --client: ${help.toFixed(2)}× ${help <= 2 ? 'MET' : 'NOT MET'}`,
    );
    const floorIndex = cases.findLastIndex((c) => c.name.startsWith('kubectl nodefloor'));
    const floor = median(samples[floorIndex]!) / anchor;
    console.log(
      `(an empty Node plugin run through kubectl, without NODE_EXTRA_CA_CERTS: ${floor.toFixed(2)}×)`,
    );
  } finally {
    await ids.close();
    plugin.remove();
  }
}

await main();
