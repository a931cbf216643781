// The webhook's HTTP and TLS behaviour on a real HTTPS server: malformed requests get a 400
// (or 413) with a message and the server keeps answering; health, readiness and metrics; no
// TLS below 1.2; certificate files reloaded on change; in-flight requests finished on close.
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../webhook/logger.js';
import { startWebhookServer, type WebhookServer, type WebhookServerOptions } from '../../webhook/server.js';
import { admissionReview, makeTestPki, postReview, request, type TestPki } from './webhook-support.js';

const foreignCluster = {
  apiVersion: 'discovery.liqo.io/v1alpha1',
  kind: 'ForeignCluster',
  metadata: { name: 'peer' },
  spec: { authUrl: 'https://10.1.2.3:443' },
};

function silent() {
  return createLogger('silent');
}

/** A webhook server on 127.0.0.1 (any port), out of cluster, silent unless `options` give a logger. */
function startLocal(options: Partial<WebhookServerOptions>): Promise<WebhookServer> {
  return startWebhookServer({
    port: 0,
    bindAddress: '127.0.0.1',
    inCluster: false,
    logger: silent(),
    ...options,
  });
}

/** A pino destination that keeps the lines and lets a test wait for one. */
/**
 * The only bound on waiting for a log line or a served certificate: the suite's mocha timeout
 * (no shorter deadline of their own). It is below the 60 s certificate poll interval the
 * reload tests set, so a reload seen in time came from the file watch.
 */
const SUITE_TIMEOUT_MS = 30_000;

function capturedLog() {
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ match: (l: Record<string, unknown>) => boolean; resolve: () => void }> = [];
  const stream = {
    write(text: string) {
      const line = JSON.parse(text) as Record<string, unknown>;
      lines.push(line);
      for (const w of waiters.splice(0)) {
        if (w.match(line)) w.resolve();
        else waiters.push(w);
      }
    },
  };
  const waitFor = (msg: string, timeoutMs = SUITE_TIMEOUT_MS) =>
    new Promise<void>((resolve, reject) => {
      const seen = lines.length;
      if (lines.some((l) => l.msg === msg)) return resolve();
      const timer = setTimeout(
        () => reject(new Error(`no log "${msg}" within ${timeoutMs} ms (${seen} lines)`)),
        timeoutMs,
      );
      waiters.push({
        match: (l) => l.msg === msg,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  return { logger: createLogger('info', stream), lines, waitFor };
}

/** Serial number of the certificate a fresh TLS connection is served. */
function servedSerial(port: number, caPem: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: caPem, servername: 'localhost' }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.end();
      resolve(serial);
    });
    socket.on('error', reject);
  });
}

function serialOf(certPem: string): string {
  return new X509Certificate(certPem).serialNumber;
}

async function waitForSerial(
  port: number,
  caPem: string,
  serial: string,
  timeoutMs = SUITE_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await servedSerial(port, caPem);
    if (last === serial) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`still served serial ${last}, expected ${serial} after ${timeoutMs} ms`);
}

describe('webhook server', function () {
  this.timeout(SUITE_TIMEOUT_MS);
  let pki: TestPki;

  before(async () => {
    pki = await makeTestPki();
  });

  describe('malformed requests', () => {
    let server: WebhookServer;
    before(async () => {
      server = await startLocal({ certificate: pki.serving });
    });
    after(() => server?.close());

    const post = (body: string | Buffer, contentType?: string | null, path = '/validate') =>
      request(server.url, pki.ca.certPem, {
        path,
        body,
        contentType: contentType === undefined ? 'application/json' : contentType,
      });
    const valid = () => admissionReview('CREATE', foreignCluster);

    const cases: Array<[string, () => Promise<{ status: number; text: string }>, number, RegExp]> = [
      ['bad JSON', () => post('{"apiVersion": "admission.k8s.io/v1", '), 400, /not valid JSON/],
      ['a JSON array', () => post('[]'), 400, /expected a JSON object/],
      [
        'the wrong kind',
        () => post(JSON.stringify({ ...valid().body, kind: 'Pod' })),
        400,
        /expected apiVersion "admission\.k8s\.io\/v1" and kind "AdmissionReview".*kind "Pod"/,
      ],
      [
        'admission.k8s.io/v1beta1',
        () => post(JSON.stringify({ ...valid().body, apiVersion: 'admission.k8s.io/v1beta1' })),
        400,
        /admission\.k8s\.io\/v1beta1/,
      ],
      [
        'no request',
        () => post(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' })),
        400,
        /no "request"/,
      ],
      [
        'no uid',
        () => {
          const body = valid().body as { request: Record<string, unknown> };
          delete body.request.uid;
          return post(JSON.stringify(body));
        },
        400,
        /request\.uid/,
      ],
      [
        'CREATE without an object',
        () => {
          const body = valid().body as { request: Record<string, unknown> };
          body.request.object = null;
          return post(JSON.stringify(body), undefined, '/mutate');
        },
        400,
        /request\.object/,
      ],
      ['the wrong content type', () => post(JSON.stringify(valid().body), 'text/plain'), 400, /Content-Type/],
      ['no content type', () => post(JSON.stringify(valid().body), null), 400, /Content-Type.*none/],
      ['a body over 3 MiB', () => post(Buffer.alloc(4 * 1024 * 1024, 0x20)), 413, /larger than/],
    ];
    for (const [what, send, status, message] of cases) {
      it(`answers ${what} with ${status} and a message, and keeps serving`, async () => {
        const answer = await send();
        assert.equal(answer.status, status, answer.text);
        assert.match(answer.text, message);
        const after = valid();
        const response = await postReview(server.url, pki.ca.certPem, '/validate', after);
        assert.equal(response.uid, after.uid);
        assert.equal(response.allowed, true);
      });
    }

    it("answers on the API server's URL, which carries ?timeout=5s", async () => {
      const review = valid();
      const answer = await request(server.url, pki.ca.certPem, {
        path: '/validate?timeout=5s',
        body: JSON.stringify(review.body),
      });
      assert.equal(answer.status, 200, answer.text);
      assert.equal((JSON.parse(answer.text) as { response: { uid: string } }).response.uid, review.uid);
    });

    it('answers 405 for GET /validate and 404 for an unknown path', async () => {
      const get = await request(server.url, pki.ca.certPem, { path: '/validate' });
      assert.equal(get.status, 405);
      assert.equal(get.headers.allow, 'POST');
      const unknown = await request(server.url, pki.ca.certPem, { path: '/nowhere' });
      assert.equal(unknown.status, 404);
      assert.match(unknown.text, /POST \/mutate/);
      const slash = await request(server.url, pki.ca.certPem, { path: '/validate/', body: '{}' });
      assert.equal(slash.status, 404);
      assert.match(slash.text, /no POST \/validate\/: this webhook serves POST \/mutate, POST \/validate/);
    });
  });

  describe('health, readiness and metrics', () => {
    let server: WebhookServer;
    before(async () => {
      server = await startLocal({ certificate: pki.serving });
    });
    after(() => server?.close());
    const get = (path: string) => request(server.url, pki.ca.certPem, { path });

    it('is healthy, and ready while saying that cross-object checks are off', async () => {
      assert.deepEqual([(await get('/healthz')).status, (await get('/healthz')).text], [200, 'ok\n']);
      const ready = await get('/readyz');
      assert.equal(ready.status, 200);
      assert.match(ready.text, /cross-object checks are off/);
    });

    it('counts admissions by kind, operation, endpoint and result, with a latency histogram', async () => {
      const bad = { ...foreignCluster, spec: { authUrl: 'http://10.1.2.3' } };
      await postReview(server.url, pki.ca.certPem, '/validate', admissionReview('CREATE', foreignCluster));
      await postReview(server.url, pki.ca.certPem, '/validate', admissionReview('CREATE', bad));
      await postReview(server.url, pki.ca.certPem, '/validate', admissionReview('CREATE', bad));
      await postReview(
        server.url,
        pki.ca.certPem,
        '/mutate',
        admissionReview('UPDATE', foreignCluster, foreignCluster),
      );
      await request(server.url, pki.ca.certPem, { path: '/mutate', body: 'nope' });
      const metrics = await get('/metrics');
      assert.equal(metrics.status, 200);
      const sample = (labels: string) =>
        new RegExp(`^liqo_webhook_admission_requests_total\\{${labels}\\} (\\d+)$`, 'm').exec(
          metrics.text,
        )?.[1];
      assert.equal(
        sample('kind="ForeignCluster",operation="CREATE",endpoint="validate",result="allowed"'),
        '1',
      );
      assert.equal(
        sample('kind="ForeignCluster",operation="CREATE",endpoint="validate",result="denied"'),
        '2',
      );
      assert.equal(
        sample('kind="ForeignCluster",operation="UPDATE",endpoint="mutate",result="allowed"'),
        '1',
      );
      assert.equal(sample('kind="unknown",operation="unknown",endpoint="mutate",result="error"'), '1');
      assert.match(metrics.text, /^liqo_webhook_admission_duration_seconds_count\{endpoint="validate"\} 3$/m);
      assert.match(
        metrics.text,
        /^liqo_webhook_admission_duration_seconds_bucket\{le="0\.005",endpoint="validate"\} \d+$/m,
      );
    });
  });

  describe('TLS', () => {
    let server: WebhookServer;
    before(async () => {
      server = await startLocal({ certificate: pki.serving });
    });
    after(() => server?.close());

    // A client that would speak TLS 1.1 (OpenSSL 3 needs security level 0 for it).
    const tls11 = (port: number) =>
      new Promise<string>((resolve, reject) => {
        const socket = tls.connect({
          host: '127.0.0.1',
          port,
          ca: pki.ca.certPem,
          servername: 'localhost',
          minVersion: 'TLSv1.1',
          maxVersion: 'TLSv1.1',
          ciphers: 'DEFAULT@SECLEVEL=0',
        });
        socket.on('secureConnect', () => {
          resolve(socket.getProtocol() ?? '');
          socket.end();
        });
        socket.on('error', reject);
      });

    it('refuses TLS 1.1, which the same client speaks with a server that allows it', async () => {
      const permissive = https.createServer({
        cert: pki.serving.certPem,
        key: pki.serving.keyPem,
        minVersion: 'TLSv1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      permissive.listen(0, '127.0.0.1');
      await once(permissive, 'listening');
      try {
        assert.equal(await tls11((permissive.address() as AddressInfo).port), 'TLSv1.1');
      } finally {
        permissive.close();
      }
      await assert.rejects(tls11(server.port), /protocol|version/i);
    });

    it('speaks TLS 1.2', async () => {
      const protocol = await new Promise<string>((resolve, reject) => {
        const socket = tls.connect(
          {
            host: '127.0.0.1',
            port: server.port,
            ca: pki.ca.certPem,
            servername: 'localhost',
            maxVersion: 'TLSv1.2',
          },
          () => {
            resolve(socket.getProtocol() ?? '');
            socket.end();
          },
        );
        socket.on('error', reject);
      });
      assert.equal(protocol, 'TLSv1.2');
    });
  });

  describe('certificate files', () => {
    let dir: string;
    let server: WebhookServer;
    let log: ReturnType<typeof capturedLog>;
    const certFile = () => join(dir, 'tls.crt');
    const keyFile = () => join(dir, 'tls.key');

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'webhook-certs-'));
      await writeFile(certFile(), pki.serving.certPem);
      await writeFile(keyFile(), pki.serving.keyPem);
      log = capturedLog();
      server = await startLocal({
        tlsCertFile: certFile(),
        tlsKeyFile: keyFile(),
        // long, so that the reload seen below comes from the file watch
        certificatePollIntervalMs: 60_000,
        logger: log.logger,
      });
    });
    after(async () => {
      await server?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('serves the certificate from the files', async () => {
      assert.equal(await servedSerial(server.port, pki.ca.certPem), serialOf(pki.serving.certPem));
    });

    it('keeps the old certificate when the new files are not a usable pair', async () => {
      await writeFile(
        certFile(),
        '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n',
      );
      await log.waitFor('new TLS certificate files rejected; keeping the previous certificate');
      assert.equal(await servedSerial(server.port, pki.ca.certPem), serialOf(pki.serving.certPem));
      const response = await postReview(
        server.url,
        pki.ca.certPem,
        '/validate',
        admissionReview('CREATE', foreignCluster),
      );
      assert.equal(response.allowed, true);
    });

    it('serves a rewritten certificate to new connections, keeping open ones', async () => {
      // an open keep-alive connection made before the rotation
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: pki.ca.certPem });
      const before = await new Promise<IncomingMessage>((resolve, reject) =>
        https.get(`${server.url}/healthz`, { agent }, resolve).on('error', reject),
      );
      before.resume();
      const socketBefore = before.socket;

      const next = await makeTestPki();
      // the client trusts both CAs; the new pair is signed by the new one
      const trust = `${pki.ca.certPem}${next.ca.certPem}`;
      await writeFile(keyFile(), next.serving.keyPem);
      await writeFile(certFile(), next.serving.certPem);
      await waitForSerial(server.port, trust, serialOf(next.serving.certPem));

      const after = await new Promise<IncomingMessage>((resolve, reject) =>
        https.get(`${server.url}/healthz`, { agent }, resolve).on('error', reject),
      );
      after.resume();
      assert.equal(after.statusCode, 200);
      assert.equal(after.socket, socketBefore, 'the open connection was not dropped');
      agent.destroy();
      pki = { ...pki, ca: { ...pki.ca, certPem: trust } };
    });
  });

  describe('certificate files mounted from a Secret (kubelet-style symlink swap)', () => {
    let dir: string;
    let server: WebhookServer | undefined;
    after(async () => {
      await server?.close();
      await rm(dir, { recursive: true, force: true });
    });

    // The kubelet writes each version into a new directory, then renames a "..data" symlink
    // over the old one; tls.crt and tls.key are symlinks through "..data".
    async function publish(version: string, pair: { certPem: string; keyPem: string }) {
      await mkdir(join(dir, version));
      await writeFile(join(dir, version, 'tls.crt'), pair.certPem);
      await writeFile(join(dir, version, 'tls.key'), pair.keyPem);
      await symlink(version, join(dir, '..data_tmp'));
      await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    }

    it('follows the swap to the new certificate', async () => {
      dir = await mkdtemp(join(tmpdir(), 'webhook-secret-'));
      await publish('..v1', pki.serving);
      await symlink('..data/tls.crt', join(dir, 'tls.crt'));
      await symlink('..data/tls.key', join(dir, 'tls.key'));
      server = await startLocal({
        tlsCertFile: join(dir, 'tls.crt'),
        tlsKeyFile: join(dir, 'tls.key'),
        certificatePollIntervalMs: 60_000,
      });
      assert.equal(await servedSerial(server.port, pki.ca.certPem), serialOf(pki.serving.certPem));
      const next = await makeTestPki();
      await publish('..v2', next.serving);
      await waitForSerial(server.port, `${pki.ca.certPem}${next.ca.certPem}`, serialOf(next.serving.certPem));
    });
  });

  describe('shutdown', () => {
    it('finishes an in-flight request, then closes', async () => {
      const server = await startLocal({ certificate: pki.serving });
      const review = admissionReview('CREATE', foreignCluster);
      const body = Buffer.from(JSON.stringify(review.body));
      const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = https.request(`${server.url}/validate`, {
          method: 'POST',
          ca: pki.ca.certPem,
          agent: false,
          headers: { 'content-type': 'application/json', 'content-length': body.length },
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        // half the body now; the rest once the server has the request and close() has begun
        server.server.once('request', () => {
          closing = server.close();
          req.end(body.subarray(10));
        });
        req.write(body.subarray(0, 10));
      });
      let closing: Promise<void> | undefined;
      const { status, text } = await answer;
      assert.equal(status, 200);
      assert.equal((JSON.parse(text) as { response: { uid: string } }).response.uid, review.uid);
      await closing;
      await assert.rejects(request(server.url, pki.ca.certPem, { path: '/healthz' }), /ECONNREFUSED/);
    });
  });
});
