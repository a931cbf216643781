// `kubectl liqo discover` exit codes and warnings, through main(): a flag value that cannot work
// fails at validation in one line; when every source fails the run ends with exit 1 and a
// summary; each warning is printed once. DNS only (--domain against a real BIND on loopback, the
// LAN off with --no-lan), so nothing is sent by mDNS; the one LAN case runs inside a network
// namespace the test creates, with its interfaces down (a machine with no network).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../plugin/main.js';
import { captureIO } from '../../plugin/io.js';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import { runCommand } from '../harness/kubectl.js';
import { startBind, startDnsRelay, type RunningBind } from '../helpers/bind.js';
import { identityHandler, startIdsServer, testKeyPem, type IdsServer } from '../helpers/https-ids-server.js';
import { createLan, tsxCommand, type NetnsHost, type NetnsLan } from '../helpers/netns.js';

function noKubeconfigEnv() {
  const home = mkdtempSync(join(tmpdir(), 'plugin-discover-exit-'));
  return { HOME: home, KUBECONFIG: join(home, 'none') };
}

async function discover(args: string[]) {
  const c = captureIO({ env: noKubeconfigEnv() });
  const code = await main(['discover', '--no-lan', '--timeout', '8s', ...args], c.io);
  const stderrLines = c.stderr().split('\n').filter(Boolean);
  return { code, stdout: c.stdout(), stderrLines };
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

describe('plugin: discover exit codes and warnings (integration, DNS only)', function () {
  this.timeout(60_000);
  let bind: RunningBind;
  let peer: IdsServer;
  let deadServer: string;

  before(async () => {
    const keyPem = await testKeyPem();
    peer = await startIdsServer({
      ...createServingCertificate({ commonName: 'peer', hosts: ['127.0.0.1'], keyPem }),
      identity: { clusterId: 'peer-one' },
    });
    bind = await startBind({
      zones: {
        'good.test': [
          '@ PTR peer.good.test.',
          `peer SRV 0 0 ${new URL(peer.url).port} host.good.test.`,
          'host A 127.0.0.1',
        ].join('\n'),
        // served, but no cluster in it: searched, nothing found
        'empty.test': '@ TXT "nothing here"',
      },
    });
    deadServer = `127.0.0.1:${await closedPort()}`;
  });
  after(async () => {
    await Promise.all([bind?.stop(), peer?.close()]);
  });

  it('a flag value that cannot work: one line naming the flag and what it accepts, exit 1, nothing searched', async () => {
    for (const [args, expected] of [
      [
        ['--domain', 'good.test', '--dns-server', '127.0.0.1:abc'],
        /^error: --dns-server "127\.0\.0\.1:abc": port must be 1-65535 \(accepted: an IP address with an optional port/,
      ],
      [
        ['--domain', 'good.test', '--dns-server', 'dns.example'],
        /^error: --dns-server "dns\.example": expected an IP address/,
      ],
      [['--domain', 'bad..test'], /^error: --domain: domain "bad\.\.test" has an empty label/],
      [
        ['--url', 'http://10.0.0.5'],
        /^error: --url "http:\/\/10\.0\.0\.5" has scheme "http"; only https is allowed \(accepted: https:/,
      ],
      [
        ['--url', 'https://10.0.0.5/ids'],
        /^error: --url "https:\/\/10\.0\.0\.5\/ids" has the path "\/ids"; give the base URL/,
      ],
      [
        ['--interface', 'nosuch0'],
        /^error: --interface: mDNS interface "nosuch0" is neither an interface name nor a local address/,
      ],
      [['--watch', '--interval', '0', '--domain', 'good.test'], /^error: --interval must be more than 0$/],
    ] as const) {
      const r = await discover([...args]);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderrLines.join('\n')}`);
      assert.equal(r.stdout, '');
      assert.equal(r.stderrLines.length, 1, r.stderrLines.join('\n'));
      assert.match(r.stderrLines[0] ?? '', expected);
    }
  });

  it('every source failed: each warning once, then a summary line and exit 1 (table and -o json)', async () => {
    for (const output of [[], ['-o', 'json']]) {
      const r = await discover([
        '--domain',
        'a.test',
        '--domain',
        'b.test',
        '--dns-server',
        deadServer,
        ...output,
      ]);
      assert.equal(r.code, 1, r.stderrLines.join('\n'));
      assert.equal(r.stdout, '', 'no empty table or empty list: nothing was searched');
      for (const domain of ['a.test', 'b.test']) {
        const warnings = r.stderrLines.filter((l) => l.startsWith(`Warning: dns:${domain}: `));
        assert.equal(warnings.length, 1, r.stderrLines.join('\n'));
        assert.match(
          warnings[0] ?? '',
          new RegExp(`PTR ${domain} and _liqo\\._tcp\\.${domain}: connection refused`),
        );
      }
      assert.equal(
        r.stderrLines.at(-1),
        'error: nothing could be searched: dns:a.test and dns:b.test failed (see the warnings above)',
      );
      assert.equal(r.stderrLines.filter((l) => l.startsWith('error:')).length, 1);
    }
  });

  it('--watch: when its first round searches nothing it ends the same way', async () => {
    const r = await discover(['--watch', '--domain', 'a.test', '--dns-server', deadServer]);
    assert.equal(r.code, 1, r.stderrLines.join('\n'));
    assert.equal(
      r.stderrLines.at(-1),
      'error: nothing could be searched: dns:a.test failed (see the warnings above)',
    );
  });

  it('one source answered: its clusters, a warning for the other, exit 0', async () => {
    // BIND refuses the zone it does not serve: that domain was not searched, good.test was
    const r = await discover([
      '--domain',
      'good.test',
      '--domain',
      'other.test',
      '--dns-server',
      bind.server,
    ]);
    assert.equal(r.code, 0, r.stderrLines.join('\n'));
    assert.match(r.stdout, /^peer-one\s+<none>\s+https:\/\/host\.good\.test:\d+\s+dns:good\.test\s/m);
    const warnings = r.stderrLines.filter((l) => l.startsWith('Warning: dns:other.test: '));
    assert.equal(warnings.length, 1, r.stderrLines.join('\n'));
    assert.ok(!r.stderrLines.some((l) => l.startsWith('error:')), r.stderrLines.join('\n'));
  });

  it('a domain that answered with no clusters was searched: "No clusters found", exit 0', async () => {
    const r = await discover(['--domain', 'empty.test', '--dns-server', bind.server]);
    assert.equal(r.code, 0, r.stderrLines.join('\n'));
    assert.equal(r.stdout, '');
    assert.equal(r.stderrLines.at(-1), 'No clusters found on 1 domain.');
  });

  it('--watch says a source that keeps failing the same way once, not every round', async () => {
    // the relay counts the queries, so the test sees the rounds go by
    const relay = await startDnsRelay({ upstream: bind.server });
    const child = spawn(
      process.execPath,
      [
        ...tsxCommand('plugin/cli.ts').slice(1),
        'discover',
        '--watch',
        '--no-lan',
        '--interval',
        '1s',
        '-o',
        'json',
        '--domain',
        'good.test',
        '--domain',
        'other.test',
        '--dns-server',
        relay.server,
      ],
      { env: { ...process.env, ...noKubeconfigEnv(), NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const until = async (done: () => boolean) => {
      while (!done()) await new Promise((r) => setTimeout(r, 50));
    };
    try {
      await until(() => stdout.includes('"ADDED"'));
      const firstRound = relay.udpStats().queries;
      await until(() => relay.udpStats().queries >= 3 * firstRound); // two more rounds at least
    } finally {
      child.kill('SIGINT');
      await exited;
      await relay.stop();
    }
    const warnings = stderr.split('\n').filter((l) => l.startsWith('Warning: dns:other.test: '));
    assert.equal(warnings.length, 1, stderr);
  });

  describe('the LAN, in a network namespace with its interfaces down', () => {
    let lan: NetnsLan;
    let host: NetnsHost;
    before(async () => {
      lan = await createLan(1);
      host = lan.hosts[0] as NetnsHost;
      await lan.exec(host, ['ip', 'link', 'set', 'eth0', 'down']);
      await lan.exec(host, ['ip', 'link', 'set', 'lo', 'down']);
    });
    after(async () => {
      await lan?.teardown();
    });

    it('a LAN that cannot be browsed is the only source: exit 1 with the summary', async () => {
      const r = await runCommand(
        'ip',
        ['netns', 'exec', host.ns, ...tsxCommand('plugin/cli.ts', 'discover', '--lan', '--timeout', '5s')],
        { env: { ...process.env, ...noKubeconfigEnv(), NO_COLOR: '1' } },
      );
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, '');
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.filter((l) => l.startsWith('Warning: lan: ')).length, 1, r.stderr);
      assert.equal(lines.at(-1), 'error: nothing could be searched: the LAN failed (see the warnings above)');
    });
  });
});

describe('plugin: discover table on a pipe (integration, DNS only)', function () {
  this.timeout(60_000);
  let bind: RunningBind | undefined;
  const peers: IdsServer[] = [];

  after(async () => {
    await Promise.all([bind?.stop(), ...peers.map((p) => p.close())]);
  });

  it('holds the rows and prints them aligned to the widest cell (a long auth URL)', async () => {
    const keyPem = await testKeyPem();
    const longHost = 'auth.a-rather-long-cluster-host-name.long.test';
    // the long one answers last, so a table printed as rows come would have sized itself by then
    for (const [id, host, delayMs] of [
      ['peer-short', 'h.long.test', 0],
      ['peer-long', longHost, 500],
    ] as const) {
      const answer = identityHandler({ clusterId: id });
      peers.push(
        await startIdsServer({
          ...createServingCertificate({ commonName: id, hosts: [host, '127.0.0.1'], keyPem }),
          handler: (req, res) => void setTimeout(() => answer(req, res), delayMs),
        }),
      );
    }
    bind = await startBind({
      zones: {
        'long.test': [
          '@ PTR short.long.test.',
          '@ PTR long.long.test.',
          `short SRV 0 0 ${new URL(peers[0]!.url).port} h.long.test.`,
          `long SRV 0 0 ${new URL(peers[1]!.url).port} ${longHost}.`,
          'h A 127.0.0.1',
          `${longHost}. A 127.0.0.1`,
        ].join('\n'),
      },
    });
    const r = await discover(['--domain', 'long.test', '--dns-server', bind.server]);
    assert.equal(r.code, 0, r.stderrLines.join('\n'));
    const lines = r.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 3, r.stdout);
    assert.ok(lines.some((l) => l.includes(longHost)));
    // each column starts at the same place on every line (three-space gaps)
    const starts = (line: string) =>
      [...line.matchAll(/ {3,}(?=\S)/g)].map((m) => (m.index ?? 0) + m[0].length);
    assert.deepEqual(starts(lines[1]!), starts(lines[0]!));
    assert.deepEqual(starts(lines[2]!), starts(lines[0]!));
  });
});
