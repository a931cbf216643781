// The plugin through main() with captured IO (kubectl's IOStreams pattern): what a user would see
// on stdout/stderr, with real HTTPS /ids servers and a real BIND on loopback. No API server
// here (test/e2e/plugin*.test.ts), and no `discover`: it may browse mDNS, so it runs only
// inside network namespaces (test/e2e/plugin-discover.test.ts).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterMerger, collectClusters, type DiscoveredCluster } from '../../shared/discovery/collect.js';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import { main } from '../../plugin/main.js';
import { captureIO, type CommandIO } from '../../plugin/io.js';
import { parseDuration } from '../../plugin/global.js';
import { colorsFor } from '../../plugin/output/color.js';
import { startSpinner } from '../../plugin/output/spinner.js';
import { age, formatTable, StreamingTable } from '../../plugin/output/table.js';
import { startBind, type RunningBind } from '../helpers/bind.js';
import { startIdsServer, testKeyPem, type IdsServer } from '../helpers/https-ids-server.js';

const noKubeconfigEnv = () => {
  const home = mkdtempSync(join(tmpdir(), 'plugin-int-'));
  return { HOME: home, KUBECONFIG: join(home, 'none') };
};

async function cli(args: string[], opts: Partial<Omit<CommandIO, 'stdout' | 'stderr'>> = {}) {
  const c = captureIO({ env: noKubeconfigEnv(), ...opts });
  const code = await main(args, c.io);
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

describe('plugin (integration)', function () {
  this.timeout(30_000);
  let keyPem: string;
  let a1: IdsServer;
  let a2: IdsServer;
  let b: IdsServer;
  const cert = (hosts = ['127.0.0.1']) => createServingCertificate({ commonName: 'peer', hosts, keyPem });

  before(async () => {
    keyPem = await testKeyPem();
    // cluster A answers on two ports (two addresses of one cluster); B on a third
    a1 = await startIdsServer({ ...cert(), identity: { clusterId: 'aaaa', clusterName: 'a' } });
    a2 = await startIdsServer({ ...cert(), identity: { clusterId: 'aaaa', clusterName: 'a' } });
    b = await startIdsServer({ ...cert(), identity: { clusterId: 'bbbb' } });
  });
  after(async () => {
    await Promise.all([a1?.close(), a2?.close(), b?.close()]);
  });

  describe('main: usage and errors', () => {
    it('--help says "kubectl liqo" and exits 0 with nothing on stderr', async () => {
      const r = await cli(['--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^kubectl liqo <command> \[flags\]/);
      assert.equal(r.stderr, '');
    });

    it('no command, an unknown command, a bad flag value: one "error:" line, exit 1', async () => {
      for (const [args, re] of [
        [[], /^error: a command is required/],
        [['frobnicate'], /^error: unknown command "frobnicate" for "kubectl liqo"/],
        [['list', '-o', 'xml'], /^error: --output: unsupported format "xml"/],
        [['ids', 'https://127.0.0.1:1', '--timeout', 'soon'], /^error: --timeout: invalid duration "soon"/],
      ] as const) {
        const r = await cli([...args]);
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stdout, '');
        assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
        assert.match(r.stderr, re);
      }
    });

    it('a command that needs the cluster, without a kubeconfig, says so in one line', async () => {
      const r = await cli(['list']);
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        'error: no kubeconfig: set KUBECONFIG, pass --kubeconfig, or create ~/.kube/config\n',
      );
    });

    it('version --client needs no cluster; -o json', async () => {
      const r = await cli(['version', '--client', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const v = JSON.parse(r.stdout) as { clientVersion: { version: string; nodeVersion: string } };
      assert.match(v.clientVersion.version, /^\d+\.\d+\.\d+/);
      assert.equal(v.clientVersion.nodeVersion, process.version);
    });

    it('version without a kubeconfig prints "unknown" for the servers and says why on stderr', async () => {
      const r = await cli(['version']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /Webhook Version: unknown\nAgent Version: unknown\n$/);
      assert.match(r.stderr, /no kubeconfig/);
    });

    it("__complete answers commands and flags in cobra's protocol", async () => {
      assert.equal((await cli(['__complete', 'disc'])).stdout, 'discover\ndiscovery\n:4\n');
      const flags = (await cli(['__complete', 'discover', '--do'])).stdout.split('\n');
      assert.ok(flags.includes('--domain'), flags.join(','));
      assert.equal(flags.at(-2), ':4');
    });
  });

  describe('ids', () => {
    it('table and -o json for a self-signed (Untrusted) peer', async () => {
      const t = await cli(['ids', a1.url]);
      assert.equal(t.code, 0, t.stderr);
      assert.match(t.stdout, /^Auth URL: +https:\/\/127\.0\.0\.1:\d+\nCluster ID: +aaaa\nCluster name: +a\n/);
      const j = JSON.parse((await cli(['ids', a1.url, '-o', 'json'])).stdout) as Record<string, string>;
      assert.equal(j.trustMode, 'Untrusted');
      assert.match(j.certificateSha256 ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      assert.ok(!Number.isNaN(Date.parse(j.certificateNotAfter ?? '')));
    });

    it('--strict refuses the self-signed certificate; an unreachable URL is one line', async () => {
      const strict = await cli(['ids', a1.url, '--strict']);
      assert.equal(strict.code, 1);
      assert.match(strict.stderr, /^error: .*127\.0\.0\.1/);
      const gone = await cli(['ids', 'https://127.0.0.1:1']);
      assert.equal(gone.code, 1);
      assert.equal(gone.stderr.split('\n').filter(Boolean).length, 1);
      assert.match(gone.stderr, /refused/);
    });

    it('--ca-file makes the same peer Trusted', async () => {
      const { writeFileSync } = await import('node:fs');
      const { createCertificateAuthority } = await import('../../shared/tls/certificates.js');
      const ca = createCertificateAuthority({ commonName: 'test-ca', keyPem });
      const served = createServingCertificate({ commonName: '127.0.0.1', hosts: ['127.0.0.1'], keyPem }, ca);
      const trusted = await startIdsServer({ ...served, identity: { clusterId: 'cccc' } });
      try {
        const caFile = join(mkdtempSync(join(tmpdir(), 'ca-')), 'ca.pem');
        writeFileSync(caFile, ca.certPem);
        const r = await cli(['ids', trusted.url, '--ca-file', caFile, '-o', 'json']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal((JSON.parse(r.stdout) as { trustMode: string }).trustMode, 'Trusted');
      } finally {
        await trusted.close();
      }
    });
  });

  describe('collectClusters (the source-merging layer)', () => {
    let bind: RunningBind;
    before(async () => {
      const port = (s: IdsServer) => new URL(s.url).port;
      bind = await startBind({
        zones: {
          'example.test': [
            '@ PTR a.example.test.',
            '@ PTR b.example.test.',
            '@ PTR broken.example.test.',
            // a's first SRV target is dead; the lower-priority one answers
            `a SRV 0 0 1 dead.example.test.`,
            `a SRV 10 0 ${port(a2)} alive.example.test.`,
            `b SRV 0 0 ${port(b)} b-host.example.test.`,
            'dead A 127.0.0.1',
            'alive A 127.0.0.1',
            'b-host A 127.0.0.1',
          ].join('\n'),
        },
      });
    });
    after(async () => {
      await bind?.stop();
    });

    it('merges by cluster id across URLs and DNS, tries SRV fallbacks, reports broken entries', async () => {
      const events: [string, string][] = [];
      const sourceErrors: string[] = [];
      const clusters = await collectClusters({
        urls: [a1.url, b.url, b.url],
        domains: [{ domain: 'example.test', kind: 'dns', source: 'dns:example.test' }],
        dnsServers: [bind.server],
        identity: { timeoutMs: 3000 },
        onCluster: (c, change) => events.push([change, c.clusterId ?? c.authUrl]),
        onSourceError: (source, message) => sourceErrors.push(`${source}: ${message}`),
      });
      const summary = clusters.map((c: DiscoveredCluster) => [c.clusterId, [...c.sources].sort(), c.error]);
      assert.deepEqual(summary, [
        ['aaaa', ['dns:example.test', 'url'], undefined],
        ['bbbb', ['dns:example.test', 'url'], undefined],
      ]);
      assert.equal(events.filter(([e]) => e === 'added').length, 2, JSON.stringify(events));
      assert.ok(
        sourceErrors.some((e) => e.includes('broken')),
        sourceErrors.join('\n'),
      );
    });

    it('an endpoint that does not answer is its own entry with the reason, keyed by URL', async () => {
      const clusters = await collectClusters({
        urls: ['https://127.0.0.1:1'],
        identity: { timeoutMs: 2000 },
      });
      assert.equal(clusters.length, 1);
      assert.equal(clusters[0]!.clusterId, undefined);
      assert.match(clusters[0]!.error ?? '', /refused/);
      assert.doesNotMatch(clusters[0]!.error ?? '', /127\.0\.0\.1:1\/ids/, 'the row already shows the URL');
    });

    it('an unanswered endpoint whose source named a cluster reached elsewhere folds into that row', async () => {
      for (const order of ['dead first', 'dead last']) {
        const merger = new ClusterMerger({ identity: { timeoutMs: 2000 } });
        const dead = {
          authUrl: 'https://127.0.0.1:1',
          fallbackUrls: [],
          kind: 'lan' as const,
          source: 'lan',
          hintClusterId: 'aaaa',
        };
        const alive = { authUrl: a1.url, fallbackUrls: [], kind: 'url' as const, source: 'url' };
        if (order === 'dead first') {
          merger.sight(dead);
          await merger.settled();
          merger.sight(alive);
        } else {
          merger.sight(alive);
          await merger.settled();
          merger.sight(dead);
        }
        await merger.settled();
        const all = merger.clusters();
        assert.deepEqual(
          all.map((c) => [c.clusterId, c.authUrl, [...c.sources].sort(), c.error]),
          [['aaaa', a1.url, ['lan', 'url'], undefined]],
          order,
        );
      }
    });

    it('skipIdentity lists endpoints without contacting them', async () => {
      const before = a1.requests;
      const clusters = await collectClusters({ urls: [a1.url], skipIdentity: true });
      assert.deepEqual(
        clusters.map((c) => c.authUrl),
        [a1.url],
      );
      assert.equal(a1.requests, before);
    });

    it('an aborted run ends promptly with what it has', async () => {
      const silent = await startIdsServer({ ...cert(), handler: () => undefined }); // never answers
      try {
        // aborted once b has answered (an order, not a time); 'promptly' is the suite's mocha
        // timeout (30 s), far below the silent peer's identity timeout: only the abort ends it
        const abort = new AbortController();
        const clusters = await collectClusters({
          urls: [silent.url, b.url],
          identity: { timeoutMs: 300_000 },
          signal: abort.signal,
          onCluster: (cluster) => {
            if (cluster.clusterId === 'bbbb') abort.abort();
          },
        });
        assert.deepEqual(
          clusters.map((c) => c.clusterId ?? 'none'),
          ['bbbb', 'none'],
        );
      } finally {
        await silent.close();
      }
    });
  });

  describe('output', () => {
    it('tables pad to the widest cell; streaming tables print the header once', () => {
      assert.equal(
        formatTable(
          ['A', 'LONGER'],
          [
            ['xyz', '1'],
            ['x', '22'],
          ],
        ),
        'A     LONGER\nxyz   1\nx     22\n',
      );
      const lines: string[] = [];
      const t = new StreamingTable([{ header: 'ID', width: 4 }, { header: 'S' }], (s) => lines.push(s));
      t.row(['a', 'new']);
      t.row(['bbbbbb', 'self']);
      assert.deepEqual(lines, ['ID     S\n', 'a      new\n', 'bbbbbb   self\n']);
    });

    it('age and durations read like kubectl', () => {
      const now = Date.parse('2026-01-10T00:00:00Z');
      assert.equal(age('2026-01-09T23:59:30Z', now), '30s');
      assert.equal(age('2026-01-09T23:00:00Z', now), '60m');
      assert.equal(age('2026-01-07T00:00:00Z', now), '3d');
      assert.equal(parseDuration('500ms', 'x'), 500);
      assert.equal(parseDuration('2m', 'x'), 120_000);
      assert.equal(parseDuration('30', 'x'), 30_000);
    });

    it('colour only on a TTY, never with --no-color or NO_COLOR', () => {
      const io = captureIO().io;
      assert.equal(colorsFor(true, io, true).red('x'), '\u001b[31mx\u001b[39m');
      assert.equal(colorsFor(false, io, true).red('x'), 'x');
      assert.equal(colorsFor(true, io, false).red('x'), 'x');
      assert.equal(colorsFor(true, { ...io, env: { NO_COLOR: '1' } }, true).red('x'), 'x');
    });

    it('the spinner writes nothing unless stderr is a terminal', async () => {
      const c = captureIO();
      const s = await startSpinner(c.io, 'working');
      s.around(() => c.io.stdout.write('row\n'));
      s.stop();
      assert.equal(c.stderr(), '');
      assert.equal(c.stdout(), 'row\n');
      // on a terminal it draws on stderr only, stdout still carries just the row
      const tty = captureIO({ stderrIsTTY: true, env: { NO_COLOR: '1' } });
      const shown = await startSpinner(tty.io, 'working');
      shown.around(() => tty.io.stdout.write('row\n'));
      shown.stop();
      assert.match(tty.stderr(), /working/);
      // eslint-disable-next-line no-control-regex -- ANSI colour codes
      assert.doesNotMatch(tty.stderr(), /\u001b\[3\dm/, 'no colour with NO_COLOR');
      assert.equal(tty.stdout(), 'row\n');
    });
  });
});
