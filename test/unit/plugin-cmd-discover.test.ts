// kubectl liqo discover, one step at a time: complete and validate from flag objects, run against
// the in-memory LiqoResources (test/helpers/memory-liqo-resources.ts). run() is only called with
// the LAN off (--no-lan, or --url/--domain, or ClusterConfig's switch), so nothing here sends
// mDNS: the sources are a real HTTPS /ids server on loopback, a closed loopback port, and a DNS
// "server" on a closed loopback port. LAN runs are in the integration layer (inside network
// namespaces) and the e2e layer runs the same command against a real kube-apiserver.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import type { ClientFactory } from '../../plugin/command.js';
import { complete, run, validate, type DiscoverOptions } from '../../plugin/commands/discover.js';
import { captureIO } from '../../plugin/io.js';
import {
  clusterConfigFixture,
  foreignClusterFixture,
  memoryClients,
  noKubeconfigClients,
  searchDomainFixture,
  type MemoryClientFactory,
} from '../helpers/memory-liqo-resources.js';
import { startIdsServer, testKeyPem, type IdsServer } from '../helpers/https-ids-server.js';

const options = (o: Partial<DiscoverOptions> = {}): DiscoverOptions => ({
  urls: [],
  domains: [],
  dnsServer: undefined,
  lan: undefined,
  interfaces: [],
  timeoutMs: 10_000,
  intervalMs: 30_000,
  skipIdentity: false,
  interactive: false,
  join: false,
  watch: false,
  output: 'table',
  color: true,
  verbose: 0,
  haveCluster: true,
  terminal: false,
  ...o,
});

function ctxFor(clients: ClientFactory = memoryClients(), io = captureIO().io) {
  return { io, clients };
}

async function discover(o: Partial<DiscoverOptions>, clients: ClientFactory = memoryClients()) {
  const c = captureIO();
  await run(options(o), { io: c.io, clients });
  return { stdout: c.stdout(), stderr: c.stderr() };
}

async function discoverFails(o: Partial<DiscoverOptions>, clients: ClientFactory = memoryClients()) {
  const c = captureIO();
  const err = await run(options(o), { io: c.io, clients }).then(
    () => assert.fail('discover should have failed'),
    (e: Error) => e,
  );
  return { err, stdout: c.stdout(), stderr: c.stderr() };
}

/** A loopback port where nothing listens (the kernel refuses at once). */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The memory cluster with LAN discovery switched off in its ClusterConfig. */
function lanOffCluster(): MemoryClientFactory {
  const clients = memoryClients();
  clients.resources.clusterConfigs.seed(clusterConfigFixture({ enableDiscovery: false }));
  return clients;
}

describe('plugin discover (unit)', () => {
  describe('complete', () => {
    it('fills the defaults: 10 s run, 30 s interval, table, the LAN left to ClusterConfig', () => {
      assert.deepEqual(complete({}, ctxFor()), options());
    });

    it('parses the durations kubectl-style and keeps the sources as given', () => {
      const o = complete(
        {
          timeout: '500ms',
          interval: '2m',
          url: ['https://10.0.0.5:30443'],
          domain: ['example.com'],
          dnsServer: '10.0.0.53',
          lan: true,
          skipIdentity: true,
          output: 'json',
          color: false,
          verbose: 2,
        },
        ctxFor(),
      );
      assert.deepEqual(
        o,
        options({
          timeoutMs: 500,
          intervalMs: 120_000,
          urls: ['https://10.0.0.5:30443'],
          domains: ['example.com'],
          dnsServer: '10.0.0.53',
          lan: true,
          skipIdentity: true,
          output: 'json',
          color: false,
          verbose: 2,
        }),
      );
      assert.equal(complete({ timeout: '3' }, ctxFor()).timeoutMs, 3000, 'a bare number is seconds');
    });

    it('a duration that does not parse names its flag', () => {
      assert.throws(() => complete({ timeout: 'soon' }, ctxFor()), {
        name: 'UserError',
        message: '--timeout: invalid duration "soon" (use e.g. 500ms, 10s, 2m)',
      });
      assert.throws(() => complete({ interval: '1d' }, ctxFor()), {
        message: /^--interval: invalid duration/,
      });
    });

    it('reads whether there is a cluster from the factory, and whether -i has a terminal from the IO', () => {
      assert.equal(complete({}, ctxFor(noKubeconfigClients())).haveCluster, false);
      const tty = captureIO({ stdin: { isTTY: true } as NodeJS.ReadStream, stderrIsTTY: true });
      assert.equal(complete({}, ctxFor(memoryClients(), tty.io)).terminal, true);
      const noStderr = captureIO({ stdin: { isTTY: true } as NodeJS.ReadStream, stderrIsTTY: false });
      assert.equal(complete({}, ctxFor(memoryClients(), noStderr.io)).terminal, false);
    });

    it("--interface is read against this host's interface table (loopback exists; a made-up name does not)", () => {
      assert.deepEqual(complete({ interface: ['lo'] }, ctxFor()).interfaces, ['lo']);
      assert.throws(() => complete({ interface: ['nosuch0'] }, ctxFor()), {
        name: 'UserError',
        message: /^--interface: mDNS interface "nosuch0" is neither an interface name nor a local address/,
      });
    });
  });

  describe('validate', () => {
    it('accepts the defaults, a URL, a domain with a DNS server, --watch with an interval', () => {
      for (const o of [
        options(),
        options({ urls: ['https://10.0.0.5:30443'] }),
        options({ domains: ['example.com'], dnsServer: '[::1]:5353' }),
        options({ watch: true, intervalMs: 1000 }),
        options({ join: true }),
        options({ interactive: true, terminal: true }),
      ]) {
        assert.doesNotThrow(() => validate(o), JSON.stringify(o));
      }
    });

    it('each refusal is one line naming the flag', () => {
      for (const [o, message] of [
        [{ timeoutMs: 0 }, /^--timeout must be more than 0$/],
        [{ watch: true, join: true }, /^--watch cannot be combined with -i or --join$/],
        [
          { watch: true, interactive: true, terminal: true },
          /^--watch cannot be combined with -i or --join$/,
        ],
        [
          { interactive: true },
          /^-i needs a terminal \(stdin and stderr\); use --join to join without asking$/,
        ],
        [
          { urls: ['http://10.0.0.5'] },
          /^--url "http:\/\/10\.0\.0\.5" has scheme "http"; only https is allowed \(accepted: https:/,
        ],
        [{ domains: ['bad..test'] }, /^--domain: domain "bad\.\.test" has an empty label/],
        [
          { dnsServer: '127.0.0.1:abc' },
          /^--dns-server "127\.0\.0\.1:abc": port must be 1-65535 \(accepted: an IP address with an optional port/,
        ],
        [{ dnsServer: 'dns.example' }, /^--dns-server "dns\.example": expected an IP address/],
        [{ watch: true, intervalMs: 0 }, /^--interval must be more than 0$/],
        [
          { join: true, haveCluster: false },
          /^-i and --join need a cluster: set KUBECONFIG or pass --kubeconfig$/,
        ],
      ] as [Partial<DiscoverOptions>, RegExp][]) {
        assert.throws(() => validate(options(o)), { name: 'UserError', message }, JSON.stringify(o));
      }
    });

    it('without a cluster, discovery alone is fine (only STATUS is missing)', () => {
      assert.doesNotThrow(() => validate(options({ haveCluster: false, urls: ['https://10.0.0.5'] })));
    });
  });

  describe('run', () => {
    let peer: IdsServer;
    let deadPort: number;
    const PEER_ID = 'peer-one';

    before(async () => {
      const keyPem = await testKeyPem();
      peer = await startIdsServer({
        ...createServingCertificate({ commonName: 'peer', hosts: ['127.0.0.1'], keyPem }),
        identity: { clusterId: PEER_ID, clusterName: 'Peer One' },
      });
      deadPort = await closedPort();
    });
    after(() => peer?.close());

    it('a URL: its /ids read, one row with the STATUS against the cluster; liqo() bounded by --timeout', async () => {
      const clients = memoryClients();
      const r = await discover({ urls: [peer.url], timeoutMs: 8000 }, clients);
      const [header, row, ...rest] = r.stdout.trimEnd().split('\n');
      assert.match(header ?? '', /^CLUSTER-ID\s+NAME\s+AUTH-URL\s+SOURCE\s+TRUST\s+STATUS$/);
      assert.match(
        row ?? '',
        new RegExp(`^${PEER_ID}\\s+Peer One\\s+${peer.url}\\s+url\\s+Untrusted\\s+new$`),
      );
      assert.deepEqual(rest, []);
      assert.deepEqual(clients.requestsMade, [{ defaultRequestTimeoutMs: 8000 }]);
      assert.deepEqual(clients.resources.writes(), [], 'discover alone writes nothing');
    });

    it('-o json: one document, STATUS from the ForeignClusters (known, joined)', async () => {
      const clients = memoryClients();
      clients.resources.foreignClusters.seed(
        foreignClusterFixture('their-name', { clusterId: PEER_ID, join: false }),
      );
      const known = await discover({ urls: [peer.url], output: 'json' }, clients);
      const doc = JSON.parse(known.stdout) as { clusters: Record<string, unknown>[] };
      assert.deepEqual(doc.clusters, [
        {
          clusterId: PEER_ID,
          clusterName: 'Peer One',
          authUrl: peer.url,
          sources: ['url'],
          trustMode: 'Untrusted',
          status: 'known: their-name',
        },
      ]);
      const joinedClients = memoryClients();
      joinedClients.resources.foreignClusters.seed(
        foreignClusterFixture('their-name', { clusterId: PEER_ID, join: true, joined: true }),
      );
      const joined = await discover({ urls: [peer.url], output: 'json' }, joinedClients);
      assert.equal(
        (JSON.parse(joined.stdout) as { clusters: { status: string }[] }).clusters[0]?.status,
        'joined',
      );
    });

    it('this cluster itself is "self"; an endpoint that refuses is "unreachable" with the reason', async () => {
      const clients = memoryClients();
      clients.resources.ownClusterId = PEER_ID;
      const dead = `https://127.0.0.1:${deadPort}`;
      const r = await discover({ urls: [peer.url, dead], output: 'json' }, clients);
      const byUrl = new Map(
        (
          JSON.parse(r.stdout) as { clusters: { authUrl: string; status: string; error?: string }[] }
        ).clusters.map((c) => [c.authUrl, c]),
      );
      assert.equal(byUrl.get(peer.url)?.status, 'self');
      assert.equal(byUrl.get(dead)?.status, 'unreachable');
      assert.ok(byUrl.get(dead)?.error, 'the reason is in the record');
    });

    it('--skip-identity: the endpoint is listed and never contacted', async () => {
      const before = peer.requests;
      const r = await discover({ urls: [peer.url], skipIdentity: true });
      assert.match(
        r.stdout.split('\n')[1] ?? '',
        new RegExp(`^<unknown>\\s+<none>\\s+${peer.url}\\s+url\\s+<unknown>\\s+new$`),
      );
      assert.equal(peer.requests, before);
    });

    it('without a kubeconfig: a warning, no client asked for, STATUS unknown', async () => {
      const r = await discover(
        { urls: [peer.url], skipIdentity: true, haveCluster: false },
        noKubeconfigClients(),
      );
      assert.match(
        r.stderr,
        /^Warning: no kubeconfig: discovering without a cluster, so the STATUS of each cluster cannot be shown\n/,
      );
      assert.match(r.stdout.split('\n')[1] ?? '', /\s<unknown>$/);
    });

    it('a cluster that cannot be reached: a warning, and discovery goes on', async () => {
      const failing: ClientFactory = {
        hasKubeconfig: () => true,
        liqo: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6443')),
      };
      const r = await discover({ urls: [peer.url], skipIdentity: true }, failing);
      assert.match(
        r.stderr,
        /^Warning: cannot show cluster status: connect ECONNREFUSED 127\.0\.0\.1:6443\n/,
      );
      assert.match(
        r.stdout.split('\n')[1] ?? '',
        new RegExp(`${peer.url}\\s+url\\s+<unknown>\\s+<unknown>$`),
      );
    });

    it('LAN off in ClusterConfig and no SearchDomains: nothing to search, said before anything is sent', async () => {
      const r = await discoverFails({}, lanOffCluster());
      assert.equal(r.err.name, 'UserError');
      assert.equal(
        r.err.message,
        'nothing to search: LAN discovery is off and there are no SearchDomains; pass --lan, --domain or --url',
      );
      assert.match(
        r.stderr,
        /Warning: LAN discovery is disabled in ClusterConfig; pass --lan to browse the LAN anyway\n/,
      );
      assert.equal(r.stdout, '');
    });

    it("the cluster's SearchDomains are searched when no --url/--domain is given; all failing ends in one error", async () => {
      const clients = lanOffCluster();
      clients.resources.searchDomains.seed(searchDomainFixture('corp', 'corp.test'));
      const r = await discoverFails({ dnsServer: `127.0.0.1:${deadPort}`, timeoutMs: 8000 }, clients);
      assert.equal(
        r.err.message,
        'nothing could be searched: searchdomain:corp failed (see the warnings above)',
      );
      assert.match(r.stderr, /Warning: searchdomain:corp: .*corp\.test.*connection refused/);
      assert.equal(r.stdout, '', 'no empty table: nothing was searched');
    });

    it('--domain replaces the SearchDomains (and the LAN); a URL beside it is still searched', async () => {
      const clients = memoryClients();
      clients.resources.searchDomains.seed(searchDomainFixture('corp', 'corp.test'));
      const r = await discover(
        { domains: ['other.test'], urls: [peer.url], dnsServer: `127.0.0.1:${deadPort}`, output: 'json' },
        clients,
      );
      assert.match(r.stderr, /Warning: dns:other\.test: /);
      assert.doesNotMatch(r.stderr, /searchdomain:corp/);
      assert.deepEqual(
        (JSON.parse(r.stdout) as { clusters: { clusterId: string }[] }).clusters.map((c) => c.clusterId),
        [PEER_ID],
      );
    });

    it('--no-lan without a cluster and no --url/--domain: nothing to search', async () => {
      const r = await discoverFails({ lan: false, haveCluster: false }, noKubeconfigClients());
      assert.match(r.err.message, /^nothing to search: /);
      assert.equal(r.stdout, '');
    });

    it('--join joins every new cluster and says so on stdout; known ones stay as they are', async () => {
      const clients = memoryClients();
      const r = await discover({ urls: [peer.url], join: true }, clients);
      assert.match(r.stdout, new RegExp(`^foreigncluster\\.discovery\\.liqo\\.io/${PEER_ID} created$`, 'm'));
      const stored = clients.resources.foreignClusters.stored(PEER_ID);
      assert.equal(stored?.spec.authUrl, peer.url);
      assert.equal(stored?.spec.join, true);
      // a second run finds it joined (known by cluster id): nothing new to join
      const writes = clients.resources.writes().length;
      const again = await discover({ urls: [peer.url], join: true }, clients);
      assert.doesNotMatch(again.stdout, /created/);
      assert.equal(clients.resources.writes().length, writes);
    });

    it('--join with -o json keeps stdout one JSON document (the join lines go to stderr)', async () => {
      const clients = memoryClients();
      const r = await discover({ urls: [peer.url], join: true, output: 'json' }, clients);
      assert.doesNotThrow(() => JSON.parse(r.stdout));
      assert.match(r.stderr, new RegExp(`foreigncluster\\.discovery\\.liqo\\.io/${PEER_ID} created`));
    });
  });
});
