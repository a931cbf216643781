// kubectl liqo ids, one step at a time: complete and validate from flag objects; run reads a
// real HTTPS /ids on loopback (test/helpers/https-ids-server.ts) and never asks for a cluster.
// The trust and --strict/--ca-file cases are in test/integration/plugin.test.ts.
import assert from 'node:assert/strict';
import { complete, run, validate, type IdsOptions } from '../../plugin/commands/ids.js';
import { captureIO } from '../../plugin/io.js';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import { startIdsServer, testKeyPem, type IdsServer } from '../helpers/https-ids-server.js';
import { memoryClients } from '../helpers/memory-liqo-resources.js';

const options = (o: Partial<IdsOptions> = {}): IdsOptions => ({
  authUrl: 'https://127.0.0.1:1',
  timeoutMs: 5000,
  strict: false,
  output: 'table',
  color: false,
  ...o,
});

describe('plugin ids (unit)', function () {
  this.timeout(20_000);

  describe('complete', () => {
    it('parses --timeout and fills the defaults', () => {
      assert.deepEqual(
        complete({ authUrl: 'https://h:1' }),
        options({ authUrl: 'https://h:1', color: true }),
      );
      assert.deepEqual(
        complete({
          authUrl: 'https://h:1',
          timeout: '1500ms',
          strict: true,
          caFile: '/ca.pem',
          output: 'json',
          color: false,
        }),
        options({ authUrl: 'https://h:1', timeoutMs: 1500, strict: true, caFile: '/ca.pem', output: 'json' }),
      );
    });

    it('a --timeout that is no duration names the flag and an example', () => {
      assert.throws(() => complete({ authUrl: 'https://h:1', timeout: 'soon' }), {
        name: 'UserError',
        message: '--timeout: invalid duration "soon" (use e.g. 500ms, 10s, 2m)',
      });
    });
  });

  describe('validate', () => {
    it('leaves the URL to the /ids look-up', () => {
      validate(options({ authUrl: 'not a url' }));
    });
  });

  describe('run', () => {
    let server: IdsServer;
    before(async () => {
      const keyPem = await testKeyPem();
      const cert = createServingCertificate({ commonName: 'peer', hosts: ['127.0.0.1'], keyPem });
      server = await startIdsServer({ ...cert, identity: { clusterId: 'c-1', clusterName: 'one' } });
    });
    after(() => server?.close());

    it('prints the identity read at <authUrl>/ids, without asking for a cluster', async () => {
      const c = captureIO();
      const clients = memoryClients();
      await run(options({ authUrl: server.url }), { io: c.io, clients });
      assert.match(
        c.stdout(),
        /^Auth URL: +https:\/\/127\.0\.0\.1:\d+\nCluster ID: +c-1\nCluster name: +one\nNamespace: +<none>\nTrust: +Untrusted/,
      );
      assert.equal(server.requests, 1);
      assert.equal(clients.connections, 0);
    });

    it('an unreadable --ca-file is one line naming it', async () => {
      const c = captureIO();
      await assert.rejects(
        run(options({ authUrl: server.url, caFile: '/nonexistent/ca.pem' }), {
          io: c.io,
          clients: memoryClients(),
        }),
        {
          name: 'UserError',
          message: `cannot read the identity at ${server.url}: --ca-file: cannot read /nonexistent/ca.pem: ENOENT`,
        },
      );
    });
  });
});
