// The agent's HTTPS /ids server and its health/metrics server, as real servers on loopback.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { get as httpGet } from 'node:http';
import { createServingCertificate, type PemKeyPair } from '../../shared/tls/certificates.js';
import { startIdentityServer, type IdentityServer } from '../../agent/identity-server.js';
import { startHealthServer, type HealthServer } from '../../agent/health-server.js';
import { AgentMetrics } from '../../agent/metrics.js';
import { createLogger } from '../../agent/logger.js';

const log = createLogger('silent');

function httpsCall(
  port: number,
  path: string,
  method = 'GET',
): Promise<{ status: number; body: string; type?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method, rejectUnauthorized: false, timeout: 3000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function httpCall(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port, path, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('agent /ids server', function () {
  this.timeout(30_000);
  let tls: PemKeyPair;
  let server: IdentityServer;
  let name: string | undefined = 'cluster-a';
  const metrics = new AgentMetrics();

  before(async () => {
    tls = createServingCertificate({ commonName: '127.0.0.1', hosts: ['127.0.0.1'], keyBits: 1024 });
    server = await startIdentityServer({
      port: 0,
      host: '127.0.0.1',
      tls,
      identity: () => ({
        clusterId: '0558de48-097b-4b7d-ba04-6bd2a0f9d24f',
        ...(name ? { clusterName: name } : {}),
        guestNamespace: 'liqo',
      }),
      log,
      metrics,
    });
  });
  after(async () => server?.close());

  it("answers GET /ids in Liqo's wire format plus a protocol version", async () => {
    const r = await httpsCall(server.port, '/ids');
    assert.equal(r.status, 200);
    assert.match(r.type ?? '', /application\/json/);
    assert.equal(
      r.body,
      '{"clusterId":"0558de48-097b-4b7d-ba04-6bd2a0f9d24f","clusterName":"cluster-a","guestNamespace":"liqo","protocolVersion":1}',
    );
  });

  it('reads the name on each request and omits it when unset', async () => {
    name = undefined;
    const r = await httpsCall(server.port, '/ids');
    assert.deepEqual(JSON.parse(r.body), {
      clusterId: '0558de48-097b-4b7d-ba04-6bd2a0f9d24f',
      guestNamespace: 'liqo',
      protocolVersion: 1,
    });
    name = 'renamed';
    assert.equal(
      (JSON.parse((await httpsCall(server.port, '/ids')).body) as { clusterName: string }).clusterName,
      'renamed',
    );
  });

  it('refuses other paths and methods with a JSON reason', async () => {
    const notFound = await httpsCall(server.port, '/identity');
    assert.equal(notFound.status, 404);
    assert.match(notFound.body, /only GET \/ids/);
    const post = await httpsCall(server.port, '/ids', 'POST');
    assert.equal(post.status, 405);
  });

  it('serves health, readiness and Prometheus metrics', async () => {
    let reason: string | undefined = 'ClusterConfig not read yet';
    const health: HealthServer = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      notReadyReason: () => reason,
      metrics,
      log,
    });
    try {
      assert.equal((await httpCall(health.port, '/healthz')).status, 200);
      const notReady = await httpCall(health.port, '/readyz');
      assert.equal(notReady.status, 503);
      assert.match(notReady.body, /ClusterConfig not read yet/);
      reason = undefined;
      assert.equal((await httpCall(health.port, '/readyz')).status, 200);
      const m = await httpCall(health.port, '/metrics');
      assert.equal(m.status, 200);
      assert.match(m.body, /liqo_agent_ids_requests_total\{status="200"\} [1-9]/);
      assert.match(m.body, /process_resident_memory_bytes/);
    } finally {
      await health.close();
    }
  });
});
