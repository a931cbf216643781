// The built program, `node dist/liqo-webhook.cjs`, as the Deployment runs it: flag errors are
// one `error:` line and exit 1; it serves AdmissionReviews over HTTPS with certificates from
// files, says at start-up and in /readyz that cross-object checks are off without a
// kubeconfig, and exits 0 on SIGTERM.
import { strict as assert } from 'node:assert';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import {
  admissionReview,
  applyReturnedPatch,
  makeTestPki,
  postReview,
  request,
  type TestPki,
} from './webhook-support.js';

const BUNDLE = 'dist/liqo-webhook.cjs';

// The program must not find an API server from the test machine's environment.
const env = { ...process.env };
delete env.KUBERNETES_SERVICE_HOST;
delete env.KUBECONFIG;

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', [BUNDLE, ...args], { env, timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

describe('liqo-webhook (the built CLI)', function () {
  this.timeout(60_000);
  let pki: TestPki;
  let dir: string;

  before(async () => {
    if (!existsSync(BUNDLE)) await promisify(execFile)('node', ['scripts/build.mjs']);
    pki = await makeTestPki();
    dir = await mkdtemp(join(tmpdir(), 'webhook-cli-'));
    await writeFile(join(dir, 'tls.crt'), pki.serving.certPem);
    await writeFile(join(dir, 'tls.key'), pki.serving.keyPem);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  describe('flag errors', () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['no certificate', [], /give --tls-cert-file and --tls-key-file, or --bootstrap-tls/],
      ['a cert without its key', ['--tls-cert-file', 'x.crt'], /--tls-key-file is missing/],
      [
        'a bad port',
        ['--port', '99999', '--tls-cert-file', 'a', '--tls-key-file', 'b'],
        /--port "99999" is not a port/,
      ],
      ['an unknown flag', ['--frobnicate'], /frobnicate/],
      ['a bad log level', ['--log-level', 'verbose'], /log-level.*verbose.*Choices/],
      ['a flag without its value', ['--tls-cert-file'], /--tls-cert-file needs a file path/],
      [
        'a bad duration',
        ['--bootstrap-tls', '--renew-before', 'soon'],
        /--renew-before "soon" is not a duration/,
      ],
      ['bootstrap without an API server', ['--bootstrap-tls'], /needs the API server/],
      [
        'a missing certificate file',
        ['--tls-cert-file', '/nonexistent.crt', '--tls-key-file', '/nonexistent.key'],
        /cannot read --tls-cert-file \/nonexistent\.crt: no such file/,
      ],
    ];
    for (const [what, args, message] of cases) {
      it(`${what}: one "error:" line, exit 1`, async () => {
        const { code, stdout, stderr } = await run(args);
        assert.equal(code, 1, stderr);
        assert.equal(stdout, '');
        const lines = stderr.trimEnd().split('\n');
        assert.equal(lines.length, 1, stderr);
        assert.match(lines[0] ?? '', /^error: /);
        assert.match(lines[0] ?? '', message);
      });
    }

    it('documents the bootstrap flags in --help', async () => {
      const { code, stdout } = await run(['--help']);
      assert.equal(code, 0);
      for (const flag of [
        '--tls-cert-file',
        '--bootstrap-tls',
        '--tls-secret-name',
        '--webhook-configuration-name',
        '--renew-before',
        '--extra-san',
      ]) {
        assert.ok(stdout.includes(flag), `--help lacks ${flag}`);
      }
    });
  });

  describe('serving', () => {
    let child: ChildProcess;
    let url: string;
    const logs: Array<Record<string, unknown>> = [];

    before(async () => {
      child = spawn(
        'node',
        [
          BUNDLE,
          '--port',
          '0',
          '--bind-address',
          '127.0.0.1',
          '--tls-cert-file',
          join(dir, 'tls.crt'),
          '--tls-key-file',
          join(dir, 'tls.key'),
        ],
        { env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const lines = createInterface({ input: child.stdout! });
      url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('no "webhook serving HTTPS" log line within 15 s')),
          15_000,
        );
        child.once('exit', (code) => reject(new Error(`liqo-webhook exited with ${code} before serving`)));
        lines.on('line', (line) => {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (entry.msg === 'webhook serving HTTPS') {
            clearTimeout(timer);
            resolve(`https://127.0.0.1:${entry.port as number}`);
          }
        });
      });
    });
    after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });

    it('says at start-up that cross-object checks are off', () => {
      assert.ok(
        logs.some(
          (l) => typeof l.msg === 'string' && /cross-object checks are off/.test(l.msg) && l.level === 'info',
        ),
        JSON.stringify(logs),
      );
    });

    it('answers /readyz saying so too', async () => {
      const ready = await request(url, pki.ca.certPem, { path: '/readyz' });
      assert.equal(ready.status, 200);
      assert.match(ready.text, /cross-object checks are off/);
    });

    it('defaults and validates the guide ForeignCluster', async () => {
      const fc = {
        apiVersion: 'discovery.liqo.io/v1alpha1',
        kind: 'ForeignCluster',
        metadata: { name: 'my-cluster' },
        spec: { join: true, authUrl: 'https://172.16.0.20:443' },
      };
      const review = admissionReview('CREATE', fc);
      const mutated = await postReview(url, pki.ca.certPem, '/mutate', review);
      assert.equal(mutated.uid, review.uid);
      const defaulted = applyReturnedPatch(fc, mutated);
      assert.deepEqual(defaulted.spec, { ...fc.spec, discoveryType: 'Manual', trustMode: 'Unknown' });
      const refused = await postReview(
        url,
        pki.ca.certPem,
        '/validate',
        admissionReview('CREATE', { ...fc, spec: { authUrl: '' } }),
      );
      assert.equal(refused.allowed, false);
      assert.match(refused.status?.message ?? '', /^ForeignCluster "my-cluster" is invalid: spec\.authUrl: /);
    });

    it('logs the refusal as one JSON line and exports process metrics', async () => {
      const metrics = await request(url, pki.ca.certPem, { path: '/metrics' });
      assert.match(metrics.text, /^process_resident_memory_bytes \d+/m);
      assert.match(
        metrics.text,
        /liqo_webhook_admission_requests_total\{kind="ForeignCluster",operation="CREATE",endpoint="validate",result="denied"\} 1/,
      );
      assert.ok(logs.some((l) => l.msg === 'admission refused' && l.kind === 'ForeignCluster'));
    });

    it('exits 0 on SIGTERM', async () => {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.ok(logs.some((l) => l.msg === 'stopped'));
    });
  });
});
