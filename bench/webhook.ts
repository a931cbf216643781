// Webhook load benchmark: POST /validate and /mutate over HTTPS keep-alive with autocannon
// (concurrency 32), against the built program (dist/liqo-webhook.cjs, as the Deployment runs
// it), and in the same run against the floor: a bare Node https server that reads the body
// and answers a constant AdmissionReview. Each server runs in its own child process, so the
// RSS reported (peak VmRSS during the load) is the server's alone.
//   npx tsx bench/webhook.ts                 # 10 s per target after a 2 s warm-up
//   WEBHOOK_BENCH_SECONDS=20 npx tsx bench/webhook.ts
// Targets: throughput ≥ 0.5× the floor's, p99 ≤ 5 ms, RSS ≤ 100 MB.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
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
const SECONDS = Number(process.env.WEBHOOK_BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 2;
const BUNDLE = 'dist/liqo-webhook.cjs';

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

const guideForeignCluster = {
  apiVersion: 'discovery.liqo.io/v1alpha1',
  kind: 'ForeignCluster',
  metadata: { name: 'my-cluster' },
  spec: { join: true, authUrl: 'https://192.168.1.10:30443' },
};

function reviewBody(): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: 'discovery.liqo.io', version: 'v1alpha1', kind: 'ForeignCluster' },
      resource: { group: 'discovery.liqo.io', version: 'v1alpha1', resource: 'foreignclusters' },
      name: 'my-cluster',
      operation: 'CREATE',
      userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
      object: guideForeignCluster,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  });
}

interface Server {
  child: ChildProcess;
  url: string;
}

function startServer(args: string[]): Promise<Server> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
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

async function load(name: string, server: Server, path: string): Promise<Measured> {
  const options = {
    url: `${server.url}${path}`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json' },
    body: reviewBody(),
    connections: CONNECTIONS,
    pipelining: 1,
  };
  await autocannon({ ...options, duration: WARMUP_SECONDS });
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

  const results: Measured[] = [];
  const measureFloor = async (name: string) => {
    const floor = await startServer(['-e', FLOOR_SOURCE, certFile, keyFile]);
    results.push(await load(name, floor, '/'));
    await stopServer(floor);
  };
  try {
    // the floor before and after the webhook: the machine's load drifts, the anchor is their mean
    await measureFloor('floor (before)');

    const env = { ...process.env };
    delete env.KUBERNETES_SERVICE_HOST;
    const webhook = await startServer([
      BUNDLE,
      '--port=0',
      '--bind-address=127.0.0.1',
      `--tls-cert-file=${certFile}`,
      `--tls-key-file=${keyFile}`,
      '--log-level=info',
    ]);
    results.push(await load('webhook /validate', webhook, '/validate'));
    results.push(await load('webhook /mutate', webhook, '/mutate'));
    await stopServer(webhook);
    await measureFloor('floor (after)');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const floors = results.filter((r) => r.name.startsWith('floor'));
  const anchor = (pick: (r: Measured) => number) =>
    floors.reduce((sum, r) => sum + pick(r), 0) / floors.length;
  const floorRps = anchor((r) => r.requestsPerSecond);
  const floorCpu = anchor((r) => r.cpuMicrosPerRequest);
  console.log(
    `\nwebhook benchmark: ${CONNECTIONS} keep-alive HTTPS connections, ${SECONDS} s per target (Node ${process.version}, ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1)})\n`,
  );
  console.log(row(['target', 'req/s', 'p50 ms', 'p99 ms', 'RSS MB', 'CPU us/req', 'vs floor', 'errors']));
  for (const r of results) {
    console.log(
      row([
        r.name,
        Math.round(r.requestsPerSecond),
        r.p50,
        r.p99,
        r.rssMb.toFixed(1),
        r.cpuMicrosPerRequest.toFixed(0),
        `${(r.requestsPerSecond / floorRps).toFixed(2)}x`,
        r.errors,
      ]),
    );
  }
  console.log(
    `\nfloor (mean of before/after): ${Math.round(floorRps)} req/s, ${floorCpu.toFixed(0)} us CPU per request`,
  );
  console.log('targets: throughput >= 0.5x floor, p99 <= 5 ms, RSS <= 100 MB');
  for (const r of results.filter((x) => !x.name.startsWith('floor'))) {
    const checks = [
      [`throughput ${(r.requestsPerSecond / floorRps).toFixed(2)}x`, r.requestsPerSecond >= 0.5 * floorRps],
      [`p99 ${r.p99} ms`, r.p99 <= 5],
      [`RSS ${r.rssMb.toFixed(1)} MB`, r.rssMb <= 100],
      [`${r.errors} errors`, r.errors === 0],
    ] as const;
    console.log(
      `  ${r.name}: ${checks.map(([what, ok]) => `${what} ${ok ? 'ok' : 'MISSED'}`).join(', ')}; CPU per request ${(r.cpuMicrosPerRequest / floorCpu).toFixed(1)}x the floor's`,
    );
  }
}

await main();
