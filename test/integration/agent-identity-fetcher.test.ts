// The agent's bounded /ids pool against real HTTPS servers on loopback: peers that hang or
// lie fail on their own, and never keep the honest peers from being read.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import { IdentityFetcher } from '../../agent/identity-fetcher.js';

type Behaviour = 'ok' | 'hang' | 'not-json' | 'no-id' | 'huge';

describe('agent identity fetcher (bounded pool)', function () {
  this.timeout(30_000);
  const tls = createServingCertificate({ commonName: '127.0.0.1', hosts: ['127.0.0.1'], keyBits: 1024 });
  const servers: Server[] = [];
  const sockets = new Set<Socket>();

  async function peer(behaviour: Behaviour, id: string): Promise<string> {
    const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
      if (behaviour === 'hang') return; // accepts, never answers
      res.writeHead(200, { 'content-type': 'application/json' });
      if (behaviour === 'not-json') res.end('<html>hello</html>');
      else if (behaviour === 'no-id') res.end('{"clusterName":"liar"}');
      else if (behaviour === 'huge') res.end(`{"clusterId":"${'x'.repeat(200_000)}"}`);
      else res.end(JSON.stringify({ clusterId: id, clusterName: id, guestNamespace: 'liqo' }));
    });
    server.on('connection', (s: Socket) => sockets.add(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  after(() => {
    for (const s of sockets) s.destroy();
    for (const s of servers) s.close();
  });

  it('reads honest peers while others hang or lie, each failure with its own reason', async () => {
    const hanging = await Promise.all([peer('hang', 'h1'), peer('hang', 'h2')]);
    const liars = await Promise.all([peer('not-json', 'l1'), peer('no-id', 'l2'), peer('huge', 'l3')]);
    const honest = await Promise.all(['c1', 'c2', 'c3', 'c4', 'c5'].map((id) => peer('ok', id)));
    const fetcher = new IdentityFetcher({ concurrency: 4, timeoutMs: 1500, allowLoopback: true });
    const finished: string[] = [];
    const track = (url: string) =>
      fetcher.fetch(url).then(
        (r) => {
          finished.push(url);
          return { url, id: r.identity.clusterId, trust: r.trustMode };
        },
        (err: { code?: string; message: string }) => {
          finished.push(url);
          return { url, code: err.code, message: err.message };
        },
      );
    // the hanging peers go first, taking two of the four slots
    const results = await Promise.all([...hanging, ...liars, ...honest].map(track));
    const byUrl = new Map(results.map((r) => [r.url, r]));
    for (const [i, url] of honest.entries()) {
      assert.deepEqual(byUrl.get(url), { url, id: `c${i + 1}`, trust: 'Untrusted' });
    }
    for (const url of hanging) assert.equal((byUrl.get(url) as { code?: string }).code, 'TIMEOUT');
    for (const url of liars) {
      const r = byUrl.get(url) as { code?: string; message: string };
      assert.ok(r.code && r.code !== 'TIMEOUT', `${url}: ${r.message}`);
      assert.ok(r.message.length < 500, 'a one-line reason');
    }
    // honest peers were all read before the hanging ones gave up
    const lastHonest = Math.max(...honest.map((u) => finished.indexOf(u)));
    const firstHanging = Math.min(...hanging.map((u) => finished.indexOf(u)));
    assert.ok(lastHonest < firstHanging, `finish order: ${finished.join(' ')}`);
    assert.equal(fetcher.pending, 0);
  });

  it('shares one fetch between concurrent requests for the same URL', async () => {
    let hits = 0;
    const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (_req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"clusterId":"shared"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const fetcher = new IdentityFetcher({ concurrency: 2, timeoutMs: 2000, allowLoopback: true });
    const all = await Promise.all([fetcher.fetch(url), fetcher.fetch(url), fetcher.fetch(url)]);
    assert.deepEqual(
      all.map((r) => r.identity.clusterId),
      ['shared', 'shared', 'shared'],
    );
    assert.equal(hits, 1, 'one request reached the server');
  });

  it('connects to given addresses instead of resolving the host (SearchDomain targets)', async () => {
    const url = await peer('ok', 'by-address');
    const port = new URL(url).port;
    const fetcher = new IdentityFetcher({ concurrency: 1, timeoutMs: 2000, allowLoopback: true });
    // .invalid never resolves (RFC 6761): only the given address can make this work
    const r = await fetcher.fetch(`https://auth.cluster.invalid:${port}`, ['127.0.0.1']);
    assert.equal(r.identity.clusterId, 'by-address');
    assert.equal(r.authUrl, `https://auth.cluster.invalid:${port}`);
    await assert.rejects(
      fetcher.fetch(`https://auth.cluster.invalid:${port}`),
      (err: { code?: string }) => err.code === 'DNS',
    );
  });
});
