// fetchClusterIdentity against real HTTPS servers on loopback: trust detection, certificate facts,
// every bound and every error, IPv6, and hostile bodies (fast-check).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import fc from 'fast-check';
import { fetchClusterIdentity, IdentityFetchError } from '../../shared/lookup/ids.js';
import type { FetchIdentityOptions, IdentityErrorCode } from '../../shared/lookup/types.js';
import {
  createCertificateAuthority,
  createServingCertificate,
  type PemKeyPair,
} from '../../shared/tls/certificates.js';
import { GUIDE_IDENTITY, startIdsServer, testKeyPem, type IdsServer } from '../helpers/https-ids-server.js';

const LOOPBACK_HOSTS = ['127.0.0.1', '::1', 'localhost'];
const DAY = 86_400_000;

/** Runs `fn`, expects an IdentityFetchError with `code` whose message names `url`. */
async function expectFailure(
  fn: () => Promise<unknown>,
  code: IdentityErrorCode,
  url: string,
): Promise<IdentityFetchError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof IdentityFetchError, `expected IdentityFetchError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.ok(err.message.startsWith(`${url}: `), `message should name ${url}: ${err.message}`);
    assert.ok(!err.message.includes('\n'), 'one line');
    return err;
  }
  assert.fail(`expected ${code}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Writes `bytes` of filler in 16 KiB chunks and then keeps the response open. */
function writeFiller(res: ServerResponse, bytes: number): void {
  const chunk = Buffer.alloc(16 * 1024, 0x61);
  for (let sent = 0; sent < bytes; sent += chunk.length) res.write(chunk);
}

describe('fetchClusterIdentity (/ids client)', function () {
  this.timeout(20_000);
  let ca: PemKeyPair;
  let trusted: PemKeyPair;
  let selfSigned: PemKeyPair;
  let wrongName: PemKeyPair;
  let expired: PemKeyPair;
  let expiredSelfSigned: PemKeyPair;
  const servers: IdsServer[] = [];
  const start = async (...args: Parameters<typeof startIdsServer>) => {
    const s = await startIdsServer(...args);
    servers.push(s);
    return s;
  };

  before(async () => {
    const keyPem = await testKeyPem();
    ca = createCertificateAuthority({ commonName: 'ids test CA', keyPem });
    trusted = createServingCertificate({ commonName: '127.0.0.1', hosts: LOOPBACK_HOSTS, keyPem }, ca);
    selfSigned = createServingCertificate({ commonName: '127.0.0.1', hosts: LOOPBACK_HOSTS, keyPem });
    wrongName = createServingCertificate({ commonName: 'auth.elsewhere.test', keyPem }, ca);
    const past = { notBefore: new Date(Date.now() - 3 * DAY), notAfter: new Date(Date.now() - DAY) };
    expired = createServingCertificate(
      { commonName: '127.0.0.1', hosts: LOOPBACK_HOSTS, keyPem, ...past },
      ca,
    );
    expiredSelfSigned = createServingCertificate({
      commonName: '127.0.0.1',
      hosts: LOOPBACK_HOSTS,
      keyPem,
      ...past,
    });
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  describe('trust detection', () => {
    it('verifies a certificate from the given CA bundle: Trusted, with its fingerprint and expiry', async () => {
      const ids = await start({ ...trusted });
      const r = await fetchClusterIdentity(ids.url, { caBundle: ca.certPem });
      const x509 = new X509Certificate(trusted.certPem);
      assert.equal(r.trustMode, 'Trusted');
      assert.equal(r.untrustedReason, undefined);
      assert.equal(r.certificateSha256, x509.fingerprint256);
      assert.equal(r.certificateNotAfter.getTime(), new Date(x509.validTo).getTime());
      assert.deepEqual(r.identity, GUIDE_IDENTITY);
      assert.equal(r.authUrl, ids.url);
      // strict accepts what verifies; a Buffer bundle works too
      const strict = await fetchClusterIdentity(ids.url, { caBundle: Buffer.from(ca.certPem), strict: true });
      assert.equal(strict.trustMode, 'Trusted');
    });

    it('parses the guide example answer exactly', async () => {
      const body =
        '{"clusterId":"0558de48-097b-4b7d-ba04-6bd2a0f9d24f","clusterName":"LiqoCluster0692","guestNamespace":"liqo"}';
      const ids = await start({ ...selfSigned, handler: (_q, res) => res.writeHead(200).end(body) });
      const r = await fetchClusterIdentity(ids.url);
      assert.deepEqual(r.identity, {
        clusterId: '0558de48-097b-4b7d-ba04-6bd2a0f9d24f',
        clusterName: 'LiqoCluster0692',
        guestNamespace: 'liqo',
      });
    });

    it('self-signed (what Liqo serves): Untrusted, identity still read', async () => {
      const ids = await start({ ...selfSigned });
      const r = await fetchClusterIdentity(ids.url);
      assert.equal(r.trustMode, 'Untrusted');
      assert.equal(r.untrustedReason, 'self-signed certificate');
      assert.equal(r.certificateSha256, new X509Certificate(selfSigned.certPem).fingerprint256);
      assert.deepEqual(r.identity, GUIDE_IDENTITY);
    });

    it('a CA-signed certificate without its CA: Untrusted (issuer unknown)', async () => {
      const ids = await start({ ...trusted });
      const r = await fetchClusterIdentity(ids.url);
      assert.equal(r.trustMode, 'Untrusted');
      assert.match(r.untrustedReason ?? '', /issuer/);
    });

    it('self-signed with strict: UNTRUSTED, and no request reaches the server', async () => {
      const ids = await start({ ...selfSigned });
      const err = await expectFailure(
        () => fetchClusterIdentity(ids.url, { strict: true }),
        'UNTRUSTED',
        `${ids.url}/ids`,
      );
      assert.match(err.message, /self-signed/);
      assert.equal(ids.requests, 0);
    });

    it('CA-signed for another host name: Untrusted (name mismatch); strict refuses', async () => {
      const ids = await start({ ...wrongName });
      const r = await fetchClusterIdentity(ids.url, { caBundle: ca.certPem });
      assert.equal(r.trustMode, 'Untrusted');
      assert.equal(r.untrustedReason, 'certificate not issued for 127.0.0.1');
      assert.deepEqual(r.identity, GUIDE_IDENTITY);
      await expectFailure(
        () => fetchClusterIdentity(ids.url, { caBundle: ca.certPem, strict: true }),
        'UNTRUSTED',
        `${ids.url}/ids`,
      );
    });

    it('expired: CERT_EXPIRED, never a fallback (CA-signed or self-signed, strict or not)', async () => {
      const caSigned = await start({ ...expired });
      const own = await start({ ...expiredSelfSigned });
      for (const [url, opts] of [
        [caSigned.url, { caBundle: ca.certPem }],
        [caSigned.url, { caBundle: ca.certPem, strict: true }],
        [caSigned.url, {}],
        [own.url, {}],
      ] as const) {
        const err = await expectFailure(() => fetchClusterIdentity(url, opts), 'CERT_EXPIRED', `${url}/ids`);
        assert.match(err.message, /expired/);
      }
    });

    it('IPv6 literal https://[::1]:port', async function () {
      let ids: IdsServer;
      try {
        ids = await start({ ...trusted, host: '::1' });
      } catch (err) {
        // machines (containers) without IPv6 loopback cannot run this one
        console.log(`      skipped: cannot listen on ::1 (${(err as NodeJS.ErrnoException).code})`);
        return this.skip();
      }
      assert.match(ids.url, /^https:\/\/\[::1\]:\d+$/);
      const r = await fetchClusterIdentity(ids.url, { caBundle: ca.certPem });
      assert.equal(r.trustMode, 'Trusted'); // the IP SAN ::1 matched the bracket-less host
      assert.equal(r.identity.clusterId, GUIDE_IDENTITY.clusterId);
    });
  });

  describe('URL handling', () => {
    it('asks <authUrl>/ids with or without a trailing slash; a base path is refused like the webhook does', async () => {
      const seen: string[] = [];
      const ids = await start({
        ...selfSigned,
        handler: (req, res) => {
          seen.push(req.url ?? '');
          res.writeHead(200).end(JSON.stringify({ clusterId: 'x' }));
        },
      });
      await fetchClusterIdentity(ids.url);
      await fetchClusterIdentity(`${ids.url}/`);
      for (const withPath of [`${ids.url}/auth`, `${ids.url}//`, `${ids.url}/ids`]) {
        const err = await expectFailure(
          () => fetchClusterIdentity(withPath),
          'INVALID_URL',
          JSON.stringify(withPath),
        );
        assert.match(err.message, /has the path .*; give the base URL/);
      }
      assert.deepEqual(seen, ['/ids', '/ids']);
    });

    it('refuses what is not an absolute https URL: INVALID_URL naming it', async () => {
      for (const bad of [
        'http://127.0.0.1:1',
        '',
        'not a url',
        '127.0.0.1:443',
        'https://u:p@127.0.0.1:1',
        'https://h:1/?q=1',
        'https://h\n:1',
        'https://h:0',
      ]) {
        const err = await expectFailure(() => fetchClusterIdentity(bad), 'INVALID_URL', JSON.stringify(bad));
        assert.equal(err.url, bad);
      }
    });
  });

  describe('bounds and errors', () => {
    let behaviours: IdsServer;
    // one server, the behaviour picked by the host name asked for (an auth URL has no path):
    // https://<behaviour>.ids.test:<port>, connected to on loopback
    const at = (name: string) => `https://${name}.ids.test:${new URL(behaviours.url).port}`;
    const idsOf = (name: string) => `${at(name)}/ids`;
    const fetchAt = (name: string, opts: FetchIdentityOptions = {}) =>
      fetchClusterIdentity(at(name), { addresses: ['127.0.0.1'], ...opts });

    before(async () => {
      behaviours = await start({
        ...selfSigned,
        handler: (req, res) => {
          const name = (req.headers.host ?? '').split('.')[0];
          switch (name) {
            case 'drip': {
              res.writeHead(200, { 'content-type': 'application/json' });
              res.write('{"clusterId":');
              const t = setInterval(() => res.write(' '), 20);
              res.on('close', () => clearInterval(t));
              return;
            }
            case 'huge-declared':
              res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
              return writeFiller(res, 16 * 1024); // and then nothing: the header alone must fail it
            case 'huge-chunked':
              res.writeHead(200);
              return writeFiller(res, 80 * 1024); // never ends: the cap must cut it
            case 'huge-exact':
            case 'at-cap': {
              // A valid identity padded with spaces to the cap (65,536 bytes) or one byte over it.
              const identity = '{"clusterId":"at-cap","clusterName":"c","guestNamespace":"liqo"}';
              const size = name === 'at-cap' ? 64 * 1024 : 64 * 1024 + 1;
              res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(size) });
              return res.end(identity.padEnd(size, ' '));
            }
            case 'redirect':
              return res.writeHead(302, { location: 'https://127.0.0.1:9/ids' }).end();
            case 'html':
              return res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>');
            case 'error':
              return res.writeHead(500).end('boom');
            case 'missing':
              return res.writeHead(404).end();
            case 'empty-id':
              return res.writeHead(200).end('{"clusterId":"","clusterName":"x"}');
            case 'no-id':
              return res.writeHead(200).end('{"clusterName":"x"}');
            case 'number-id':
              return res.writeHead(200).end('{"clusterId":42}');
            case 'bad-name':
              return res.writeHead(200).end('{"clusterId":"a","clusterName":["x"]}');
            case 'array':
              return res.writeHead(200).end('[]');
            case 'extra':
              return res.writeHead(200).end('{"clusterId":"a","clusterName":"","future":{"x":1}}');
            case 'cut':
              res.writeHead(200, { 'content-length': '100' });
              res.write('{"clusterId"');
              return void setImmediate(() => res.destroy());
            default:
              res.writeHead(404).end();
          }
        },
      });
    });

    it('slow-drip body: TIMEOUT within timeoutMs, and the connection is closed', async () => {
      const err = await expectFailure(() => fetchAt('drip', { timeoutMs: 300 }), 'TIMEOUT', idsOf('drip'));
      assert.match(err.message, /300 ms \(stalled reading the body\)/);
      await behaviours.idle();
    });

    it('slow-drip body without a timeout given: the 5 s default ends it', async function () {
      this.timeout(15_000);
      const err = await expectFailure(() => fetchAt('drip'), 'TIMEOUT', idsOf('drip'));
      assert.match(err.message, /within 5000 ms \(stalled reading the body\)/);
      await behaviours.idle();
    });

    it('a peer that accepts TCP and never speaks TLS: TIMEOUT', async () => {
      const silent: NetServer = createNetServer(() => undefined);
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const url = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      try {
        const err = await expectFailure(
          () => fetchClusterIdentity(url, { timeoutMs: 200 }),
          'TIMEOUT',
          `${url}/ids`,
        );
        assert.match(err.message, /TLS handshake/);
      } finally {
        silent.close();
      }
    });

    it('huge body: TOO_LARGE by Content-Length, by counting, and at exactly one byte over; the cap itself passes', async () => {
      // a generous timeout shows the cap, not the clock, ends these
      for (const name of ['huge-declared', 'huge-chunked', 'huge-exact']) {
        const err = await expectFailure(() => fetchAt(name, { timeoutMs: 15_000 }), 'TOO_LARGE', idsOf(name));
        assert.match(err.message, /65536-byte cap/);
      }
      // The cap itself is allowed: only the byte after it is refused.
      const atCap = await fetchAt('at-cap');
      assert.equal(atCap.identity.clusterId, 'at-cap');
      await expectFailure(() => fetchAt('html', { maxBodyBytes: 10 }), 'TOO_LARGE', idsOf('html'));
      await behaviours.idle();
    });

    it('redirect: REDIRECT, not followed; the Location is in the details, never quoted in the message', async () => {
      const before = behaviours.requests;
      const err = await expectFailure(() => fetchAt('redirect'), 'REDIRECT', idsOf('redirect'));
      assert.match(err.message, /302\) to another server; redirects are not followed/);
      assert.doesNotMatch(err.message, /:9\/ids/); // peer bytes never reach a status message
      assert.equal(err.location, 'https://127.0.0.1:9/ids');
      assert.equal(err.status, 302);
      assert.equal(behaviours.requests, before + 1);
    });

    it('status and content: HTTP_STATUS, NOT_JSON, MISSING_CLUSTER_ID', async () => {
      const cases: Array<[string, IdentityErrorCode, RegExp]> = [
        ['error', 'HTTP_STATUS', /HTTP 500/],
        ['missing', 'HTTP_STATUS', /HTTP 404/],
        ['html', 'NOT_JSON', /not JSON \(it looks like HTML/],
        ['array', 'NOT_JSON', /an array/],
        ['bad-name', 'NOT_JSON', /clusterName is an array/],
        ['empty-id', 'MISSING_CLUSTER_ID', /clusterId is empty/],
        ['no-id', 'MISSING_CLUSTER_ID', /no clusterId/],
        ['number-id', 'MISSING_CLUSTER_ID', /clusterId is a number/],
        ['cut', 'NETWORK', /closed/],
      ];
      for (const [name, code, message] of cases) {
        const err = await expectFailure(() => fetchAt(name), code, idsOf(name));
        assert.match(err.message, message);
        if (code === 'HTTP_STATUS') assert.equal(err.details.status, name === 'error' ? 500 : 404);
      }
    });

    it('ignores unknown fields and treats an empty clusterName as absent', async () => {
      const r = await fetchAt('extra');
      assert.deepEqual(r.identity, { clusterId: 'a' });
    });

    it('refused port: REFUSED with a hint', async () => {
      const url = `https://127.0.0.1:${await freePort()}`;
      const err = await expectFailure(() => fetchClusterIdentity(url), 'REFUSED', `${url}/ids`);
      assert.match(err.message, /connection refused \(is the auth service running/);
    });

    it('plain HTTP on the port: TLS error', async () => {
      const plain = createHttpServer((_q, res) => res.end('{}'));
      await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
      const url = `https://127.0.0.1:${(plain.address() as AddressInfo).port}`;
      try {
        await expectFailure(() => fetchClusterIdentity(url), 'TLS', `${url}/ids`);
      } finally {
        plain.closeAllConnections();
        plain.close();
      }
    });

    it('abort signal: ABORTED, before and during the request', async () => {
      const early = new AbortController();
      early.abort();
      await expectFailure(() => fetchAt('drip', { signal: early.signal }), 'ABORTED', idsOf('drip'));
      const late = new AbortController();
      const pending = fetchAt('drip', { signal: late.signal });
      setTimeout(() => late.abort(), 50);
      await expectFailure(() => pending, 'ABORTED', idsOf('drip'));
      await behaviours.idle();
    });

    it('a CA bundle without certificates: TLS error naming the URL', async () => {
      await expectFailure(() => fetchAt('extra', { caBundle: 'junk' }), 'TLS', idsOf('extra'));
    });
  });

  describe('hostile bodies (property)', () => {
    it('any body yields an identity or an IdentityFetchError, nothing else', async () => {
      let body: Buffer = Buffer.alloc(0);
      const ids = await start({ ...selfSigned, handler: (_q, res) => res.writeHead(200).end(body) });
      const bodies = fc.oneof(
        fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
        fc.json().map((j) => Buffer.from(j)),
        fc
          .record(
            { clusterId: fc.anything(), clusterName: fc.anything(), guestNamespace: fc.anything() },
            { requiredKeys: [] },
          )
          .map((o) => Buffer.from(JSON.stringify(o) ?? '')),
      );
      await fc.assert(
        fc.asyncProperty(bodies, async (b) => {
          body = b;
          try {
            const r = await fetchClusterIdentity(ids.url, { timeoutMs: 3000 });
            assert.equal(typeof r.identity.clusterId, 'string');
            assert.notEqual(r.identity.clusterId.trim(), '');
          } catch (err) {
            if (!(err instanceof IdentityFetchError)) throw err;
            assert.ok(!err.message.includes('\n'), err.message);
          }
        }),
        { numRuns: 60 },
      );
    });
  });
});
