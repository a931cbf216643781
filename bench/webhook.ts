// Webhook load benchmark: POST /validate and /mutate over HTTPS keep-alive with autocannon
// (concurrency 32), against the built program (dist/liqo-webhook.cjs, as the Deployment runs
// it), and in the same run against the floor: a bare Node https server that reads the body
// and answers a constant AdmissionReview. Each server runs in its own child process, so the
// RSS reported (peak VmRSS during the load) is the server's alone. The machine is shared and
// its load drifts, so the targets are measured in interleaved rounds (floor, /validate,
// /mutate, again), each ratio against the floor of the same round, and the medians reported.
//   npx tsx bench/webhook.ts                 # 3 rounds of 5 s per target, after a 2 s warm-up
//   WEBHOOK_BENCH_ROUNDS=5 WEBHOOK_BENCH_SECONDS=10 npx tsx bench/webhook.ts
// Targets: throughput ≥ 0.5× the floor's, p99 ≤ 5 ms, RSS ≤ 100 MB.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import { GUIDE_FOREIGN_CLUSTER, admissionReviewJson } from './admission-review.js';
import { issueCertificateAuthority, issueServingCertificate } from '../webhook/certificates/authority.js';

// autocannon ships no types; this is the part of its API used here.
interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const CONNECTIONS = 32;
const SECONDS = Number(process.env.WEBHOOK_BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.WEBHOOK_BENCH_ROUNDS ?? 3);
const WARMUP_SECONDS = 2;
const BUNDLE = 'dist/liqo-webhook.cjs';

/** The node flags the image runs the webhook with (the Dockerfile's ENTRYPOINT), so the
 * figures are the deployed program's. */
function imageNodeFlags(): string[] {
  const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1];
  const argv = entrypoint ? (JSON.parse(entrypoint) as string[]) : [];
  return argv.slice(1).filter((a) => a.startsWith('--'));
}

// The floor: what this runtime does for an https request carrying an AdmissionReview, with
// no framework, no parsing and no rules. Plain JavaScript, run by `node -e`.
const FLOOR_SOURCE = `
const https = require('node:https');
const fs = require('node:fs');
const answer = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
  response: { uid: '00000000-0000-0000-0000-000000000000', allowed: true } });
const server = https.createServer({ cert: fs.readFileSync(process.argv[1]), key: fs.readFileSync(process.argv[2]),
  minVersion: 'TLSv1.2' }, (req, res) => {
  req.on('data', () => {});
  req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(answer); });
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ msg: 'webhook serving HTTPS', port: server.address().port })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

interface Server {
  child: ChildProcess;
  url: string;
}

function startServer(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Server> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start-up line from ${args[0]} within 20 s`)), 20_000);
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; port?: number };
      if (entry.msg === 'webhook serving HTTPS') {
        clearTimeout(timer);
        resolve({ child, url: `https://127.0.0.1:${entry.port}` });
      }
    });
  });
}

async function stopServer(server: Server): Promise<void> {
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  await exited;
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** User + system CPU time of a process so far, in ms (clock ticks are 10 ms on Linux). */
async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Measured {
  name: string;
  requestsPerSecond: number;
  /** Server CPU per request: unlike req/s, barely affected by other load on the machine. */
  cpuMicrosPerRequest: number;
  p50: number;
  p99: number;
  rssMb: number;
  errors: number;
}

async function load(name: string, server: Server, path: string, warmUp: boolean): Promise<Measured> {
  const options = {
    url: `${server.url}${path}`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json' },
    body: admissionReviewJson('CREATE', GUIDE_FOREIGN_CLUSTER),
    connections: CONNECTIONS,
    pipelining: 1,
  };
  if (warmUp) await autocannon({ ...options, duration: WARMUP_SECONDS });
  let peak = 0;
  const sampler = setInterval(() => {
    void rssMb(server.child.pid ?? 0).then((mb) => (peak = Math.max(peak, mb)));
  }, 200);
  const cpuBefore = await cpuMs(server.child.pid ?? 0);
  const result = await autocannon({ ...options, duration: SECONDS });
  const cpu = (await cpuMs(server.child.pid ?? 0)) - cpuBefore;
  clearInterval(sampler);
  peak = Math.max(peak, await rssMb(server.child.pid ?? 0));
  const bad = result.errors + result.timeouts + result.non2xx;
  return {
    name,
    requestsPerSecond: result.requests.average,
    cpuMicrosPerRequest: (cpu * 1000) / Math.max(1, result.requests.average * SECONDS),
    p50: result.latency.p50,
    p99: result.latency.p99,
    rssMb: peak,
    errors: bad,
  };
}

function row(cells: Array<string | number>): string {
  return cells
    .map((c, i) =>
      String(c)
        .padStart(i === 0 ? 0 : 12)
        .padEnd(i === 0 ? 18 : 0),
    )
    .join('');
}

async function main(): Promise<void> {
  if (!existsSync(BUNDLE)) execFileSync('node', ['scripts/build.mjs'], { stdio: 'inherit' });
  const dir = await mkdtemp(join(tmpdir(), 'webhook-bench-'));
  const ca = await issueCertificateAuthority('bench-ca', 24 * 3600 * 1000);
  const serving = await issueServingCertificate(ca, ['127.0.0.1'], 24 * 3600 * 1000);
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  await writeFile(certFile, serving.certPem);
  await writeFile(keyFile, serving.keyPem);

  const env = { ...process.env };
  delete env.KUBERNETES_SERVICE_HOST;
  const servers: Server[] = [];
  const rounds: Array<Record<string, Measured>> = [];
  try {
    const floor = await startServer(['-e', FLOOR_SOURCE, certFile, keyFile]);
    servers.push(floor);
    const webhook = await startServer(
      [
        ...imageNodeFlags(),
        BUNDLE,
        '--port=0',
        '--bind-address=127.0.0.1',
        `--tls-cert-file=${certFile}`,
        `--tls-key-file=${keyFile}`,
        '--log-level=info',
      ],
      env,
    );
    servers.push(webhook);
    const targets: Array<[string, Server, string]> = [
      ['floor (bare https)', floor, '/'],
      ['webhook /validate', webhook, '/validate'],
      ['webhook /mutate', webhook, '/mutate'],
    ];
    for (let round = 0; round < ROUNDS; round++) {
      const measured: Record<string, Measured> = {};
      for (const [name, server, path] of targets)
        measured[name] = await load(name, server, path, round === 0);
      rounds.push(measured);
      process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
    }
    for (const server of servers) await stopServer(server);
  } finally {
    for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
  report(rounds);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function report(rounds: Array<Record<string, Measured>>): void {
  const names = Object.keys(rounds[0] ?? {});
  const floorName = names[0] ?? '';
  const of = (name: string, pick: (m: Measured) => number) => rounds.map((r) => pick(r[name]!));
  console.log(
    `\nwebhook benchmark: ${CONNECTIONS} keep-alive HTTPS connections, ${ROUNDS} rounds of ${SECONDS} s per target (Node ${process.version}, ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1)}; webhook run as the image runs it: node ${imageNodeFlags().join(' ')})`,
  );
  console.log('medians over the rounds; "vs floor" is the median of per-round ratios; RSS is the peak\n');
  console.log(row(['target', 'req/s', 'p50 ms', 'p99 ms', 'RSS MB', 'CPU us/req', 'vs floor', 'errors']));
  const summary = names.map((name) => {
    const ratios = rounds.map((r) => r[name]!.requestsPerSecond / r[floorName]!.requestsPerSecond);
    const cpuRatios = rounds.map((r) => r[name]!.cpuMicrosPerRequest / r[floorName]!.cpuMicrosPerRequest);
    return {
      name,
      rps: median(of(name, (m) => m.requestsPerSecond)),
      p50: median(of(name, (m) => m.p50)),
      p99: median(of(name, (m) => m.p99)),
      rss: Math.max(...of(name, (m) => m.rssMb)),
      cpu: median(of(name, (m) => m.cpuMicrosPerRequest)),
      ratio: median(ratios),
      ratios,
      cpuRatio: median(cpuRatios),
      errors: of(name, (m) => m.errors).reduce((a, b) => a + b, 0),
    };
  });
  for (const s of summary) {
    console.log(
      row([
        s.name,
        Math.round(s.rps),
        s.p50,
        s.p99,
        s.rss.toFixed(1),
        s.cpu.toFixed(0),
        `${s.ratio.toFixed(2)}x`,
        s.errors,
      ]),
    );
  }
  console.log('\ntargets: throughput >= 0.5x floor, p99 <= 5 ms, RSS <= 100 MB');
  for (const s of summary.slice(1)) {
    const checks = [
      [
        `throughput ${s.ratio.toFixed(2)}x (rounds: ${s.ratios.map((r) => r.toFixed(2)).join(', ')})`,
        s.ratio >= 0.5,
      ],
      [`p99 ${s.p99} ms`, s.p99 <= 5],
      [`RSS ${s.rss.toFixed(1)} MB`, s.rss <= 100],
      [`${s.errors} errors`, s.errors === 0],
    ] as const;
    console.log(`  ${s.name}: ${checks.map(([what, ok]) => `${what} ${ok ? 'ok' : 'MISSED'}`).join(', ')}`);
    console.log(`    server CPU per request ${s.cpuRatio.toFixed(1)}x the floor's`);
  }
  const floorP99 = summary[0]?.p99 ?? 0;
  if (floorP99 > 5)
    console.log(`  (the floor's own p99 was ${floorP99} ms: this machine cannot show 5 ms at this load)`);
}

await main();
