// kubectl liqo join, one step at a time: complete and validate from flag objects; run against
// the in-memory LiqoResources (test/helpers/memory-liqo-resources.ts) with a real HTTPS /ids
// on loopback. The same command runs against a real kube-apiserver and the webhook in
// test/e2e/plugin.test.ts (and --dry-run=client, which reads the webhook's configuration, in
// test/e2e/plugin-dry-run.test.ts).
import assert from 'node:assert/strict';
import { complete, run, validate, type JoinOptions } from '../../plugin/commands/join.js';
import { captureIO } from '../../plugin/io.js';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import { startIdsServer, testKeyPem, type IdsServer } from '../helpers/https-ids-server.js';
import {
  foreignClusterFixture,
  memoryClients,
  type MemoryClientFactory,
} from '../helpers/memory-liqo-resources.js';

const FC = 'foreigncluster.discovery.liqo.io';

const options = (o: Partial<JoinOptions> = {}): JoinOptions => ({
  target: { kind: 'foreignCluster', nameOrId: 'peer' },
  dryRun: 'none',
  wait: false,
  waitTimeoutMs: 120_000,
  idsTimeoutMs: 5000,
  output: 'table',
  acceptIdentity: false,
  requestTimeoutMs: 0,
  verbose: 0,
  ...o,
});

describe('plugin join (unit)', function () {
  this.timeout(20_000);

  describe('complete', () => {
    it('a URL is an auth URL; anything else names a ForeignCluster', () => {
      assert.deepEqual(complete({ target: 'https://10.0.0.5:30443' }).target, {
        kind: 'authUrl',
        authUrl: 'https://10.0.0.5:30443',
      });
      assert.deepEqual(complete({ target: 'cluster-b' }).target, {
        kind: 'foreignCluster',
        nameOrId: 'cluster-b',
      });
    });

    it('fills the defaults and parses the durations', () => {
      assert.deepEqual(complete({ target: 'peer' }), options());
      const o = complete({
        target: 'peer',
        timeout: '30s',
        idsTimeout: '500ms',
        requestTimeout: '2s',
        verbose: 1,
        name: 'b',
        caFile: '/ca.pem',
      });
      assert.deepEqual(
        [o.waitTimeoutMs, o.idsTimeoutMs, o.requestTimeoutMs, o.verbose, o.name, o.caFile],
        [30_000, 500, 2000, 1, 'b', '/ca.pem'],
      );
    });

    it('a duration that does not parse names its flag', () => {
      assert.throws(() => complete({ target: 'peer', idsTimeout: 'soon' }), {
        name: 'UserError',
        message: '--ids-timeout: invalid duration "soon" (use e.g. 500ms, 10s, 2m)',
      });
    });
  });

  describe('validate', () => {
    it('accepts a plain join, a dry run, and --accept-identity of a named ForeignCluster', () => {
      validate(options());
      validate(options({ dryRun: 'client' }));
      validate(options({ acceptIdentity: true, wait: true }));
    });

    it('refuses the combinations that cannot work, naming the flags', () => {
      const refused: [Partial<JoinOptions>, string][] = [
        [{ wait: true, dryRun: 'server' }, '--wait cannot be combined with --dry-run'],
        [{ acceptIdentity: true, dryRun: 'client' }, '--accept-identity cannot be combined with --dry-run'],
        [
          { acceptIdentity: true, target: { kind: 'authUrl', authUrl: 'https://h:1' } },
          "--accept-identity needs the ForeignCluster's name or cluster id as target, not an auth URL (https://h:1)",
        ],
        [
          { target: { kind: 'foreignCluster', nameOrId: '' } },
          'join needs an auth URL (https://<host>:<port>), a cluster id or a ForeignCluster name',
        ],
      ];
      for (const [o, message] of refused)
        assert.throws(() => validate(options(o)), { name: 'UserError', message });
    });
  });

  describe('run', () => {
    let peer: IdsServer;
    before(async () => {
      const keyPem = await testKeyPem();
      const cert = createServingCertificate({ commonName: 'peer', hosts: ['127.0.0.1'], keyPem });
      peer = await startIdsServer({
        ...cert,
        identity: { clusterId: 'c-1', clusterName: 'one', guestNamespace: 'liqo' },
      });
    });
    after(() => peer?.close());

    const byUrl = (): JoinOptions['target'] => ({ kind: 'authUrl', authUrl: peer.url });

    async function join(o: Partial<JoinOptions>, clients: MemoryClientFactory = memoryClients()) {
      const c = captureIO();
      await run(options(o), { io: c.io, clients });
      return { stdout: c.stdout(), stderr: c.stderr(), resources: clients.resources };
    }

    it('an auth URL: creates the ForeignCluster named for the cluster id, pins the identity, warns about trust', async () => {
      const r = await join({ target: byUrl() });
      assert.equal(r.stdout, `${FC}/c-1 created\n`);
      assert.match(
        r.stderr,
        /^Warning: https:\/\/127\.0\.0\.1:\d+ has an untrusted certificate .*recorded its SHA-256 fingerprint /,
      );
      const stored = r.resources.foreignClusters.stored('c-1');
      assert.equal(stored?.spec.join, true);
      assert.equal(stored?.spec.clusterIdentity?.clusterID, 'c-1');
      assert.equal(stored?.spec.clusterIdentity?.clusterName, 'one');
      assert.equal(stored?.spec.trustMode, 'Untrusted');
      assert.equal(stored?.status?.pinnedIdentity?.clusterID, 'c-1');
      assert.deepEqual(
        r.resources.writes().map((w) => w.verb),
        ['create', 'patchStatus'],
      );
    });

    it('run again: "unchanged" and nothing written', async () => {
      const clients = memoryClients();
      await join({ target: byUrl() }, clients);
      const before = clients.resources.writes().length;
      const again = await join({ target: byUrl() }, clients);
      assert.equal(again.stdout, `${FC}/c-1 unchanged\n`);
      assert.equal(again.stderr, '', 'no trust warning when nothing changes');
      assert.equal(clients.resources.writes().length, before);
    });

    it('a ForeignCluster name: reads /ids at its authUrl and sets join on that object', async () => {
      const clients = memoryClients();
      clients.resources.foreignClusters.seed(
        foreignClusterFixture('peer', { clusterId: 'c-1', authUrl: peer.url, join: false }),
      );
      const r = await join({}, clients);
      assert.equal(r.stdout, `${FC}/peer configured\n`);
      assert.equal(clients.resources.foreignClusters.stored('peer')?.spec.join, true);
      assert.equal(clients.resources.foreignClusters.stored('c-1'), undefined);
    });

    it('a name that is neither: one line saying what to give, with a hint for host:port', async () => {
      await assert.rejects(join({ target: { kind: 'foreignCluster', nameOrId: '10.0.0.5:30443' } }), {
        name: 'UserError',
        message:
          '"10.0.0.5:30443" is not an auth URL nor a known ForeignCluster name or cluster id (did you mean https://10.0.0.5:30443?); give the auth URL, e.g. https://<host>:<port>',
      });
    });

    it('refuses to join this cluster itself, before writing', async () => {
      const clients = memoryClients();
      clients.resources.ownClusterId = 'c-1';
      await assert.rejects(join({ target: byUrl() }, clients), {
        message: `refusing to join ${peer.url}: it is this cluster itself (cluster id c-1)`,
      });
      assert.deepEqual(clients.resources.writes(), []);
    });

    it('--dry-run=server sends the create as a dry run; nothing is stored or pinned', async () => {
      const r = await join({ target: byUrl(), dryRun: 'server', output: 'name' });
      assert.equal(r.stdout, `${FC}/c-1\n`);
      assert.deepEqual(
        r.resources.requests.filter((q) => q.verb === 'create').map((q) => q.dryRun),
        [true],
      );
      assert.deepEqual(r.resources.writes(), []);
    });

    it('--wait: returns once status.outgoing.joined is true, saying so', async () => {
      const clients = memoryClients();
      await join({ target: byUrl() }, clients);
      await clients.resources.foreignClusters.patchStatus('c-1', { status: { outgoing: { joined: true } } });
      const r = await join({ target: byUrl(), wait: true }, clients);
      assert.equal(r.stdout, `${FC}/c-1 unchanged\n${FC}/c-1 joined\n`);
    });

    it('--wait: past --timeout, one line with what the status says', async () => {
      await assert.rejects(join({ target: byUrl(), wait: true, waitTimeoutMs: 0 }), {
        name: 'UserError',
        message:
          'timed out after 0s waiting for ForeignCluster "c-1" to join: status.outgoing.joined is unset, authStatus unset',
      });
    });

    it('--accept-identity: re-pins a named ForeignCluster to what /ids answers now', async () => {
      const clients = memoryClients();
      const fc = foreignClusterFixture('peer', { clusterId: 'c-1', authUrl: peer.url });
      fc.status = {
        pinnedIdentity: {
          clusterID: 'c-1',
          certificateFingerprint: 'AA:BB',
          authUrl: peer.url,
          pinnedAt: '2026-01-01T00:00:00Z',
        },
      };
      clients.resources.foreignClusters.seed(fc);
      const r = await join({ acceptIdentity: true }, clients);
      assert.match(
        r.stdout,
        /^foreigncluster\.discovery\.liqo\.io\/peer configured: identity accepted \(cluster c-1, certificate [0-9A-F:]+, https:\/\/127\.0\.0\.1:\d+\)\n$/,
      );
      const pin = clients.resources.foreignClusters.stored('peer')?.status?.pinnedIdentity;
      assert.notEqual(pin?.certificateFingerprint, 'AA:BB');
    });
  });
});
