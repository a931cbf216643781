// The connect-time address policy (SPEC §"Security") through the real resolver: a network
// namespace whose hosts file (/etc/netns/<ns>/hosts) and BIND zone (on the namespace's own
// 127.0.0.1:53, named by its resolv.conf) point names at every forbidden range; a redirect to
// one; a name answering an allowed and a forbidden address at once, and one whose answer changes
// between two fetches (rebinding). Each is refused with the host, the address and its class, and
// a "victim" /ids server listening on every address of the namespace — the forbidden ones are
// assigned there too, so without the policy the same fetch DOES reach it (the 'off' controls) —
// records zero connections. Needs root (ip netns). IDS_POLICY_TABLE=1 prints each case's outcome.
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createLan, tsxCommand, type NetnsHost, type NetnsLan } from '../helpers/netns.js';
import type { ProbeArgs, ProbeCase, ProbeResult } from '../helpers/ids-policy-probe.js';

const VICTIM_PORT = 8443;
const REDIRECT_PORT = 8444;
/** Forbidden addresses given to the namespace's loopback, so the victim answers on them. */
const VICTIM_ADDRESSES = ['169.254.169.254/32', '169.254.170.2/32', '100.100.100.200/32'];
const VICTIM_ADDRESSES6 = ['fd00:ec2::254/128', '64:ff9b::a9fe:a9fe/128'];

interface Expected {
  /** A refusal: ADDRESS_REFUSED (or REDIRECT) with this message, and no connection. */
  refused?: RegExp;
  code?: string;
  /** Success: the victim answered, over at least one connection. */
  ok?: true;
}

describe('/ids address policy through the real resolver (hosts file, BIND, redirects, rebinding)', function () {
  this.timeout(120_000);
  let lan: NetnsLan;
  let host: NetnsHost;
  let results: Map<string, ProbeResult>;
  const expectations = new Map<string, Expected>();

  before(async () => {
    lan = await createLan(1);
    host = lan.hosts[0] as NetnsHost;
    const allowed = host.address; // a private test address of the namespace: what "public" stands for
    for (const address of VICTIM_ADDRESSES) await lan.exec(host, ['ip', 'addr', 'add', address, 'dev', 'lo']);
    for (const address of VICTIM_ADDRESSES6) {
      await lan.exec(host, ['ip', '-6', 'addr', 'add', address, 'dev', 'lo', 'nodad']);
    }
    await mkdir(`/etc/netns/${host.ns}`, { recursive: true });
    await writeFile(`/etc/netns/${host.ns}/resolv.conf`, 'nameserver 127.0.0.1\n');
    await writeFile(
      `/etc/netns/${host.ns}/hosts`,
      [
        '127.0.0.1 localhost',
        '::1 localhost ip6-localhost',
        '169.254.169.254 metadata.example.com',
        '100.100.100.200 metadata.hosts.test',
        'fd00:ec2::254 aws6.hosts.test',
        '0.0.0.0 zero.hosts.test',
        `${allowed} good.hosts.test`,
        '',
      ].join('\n'),
    );
    const zone = (rebindTo: string) =>
      [
        `good A ${allowed}`,
        `redirect A ${allowed}`,
        'metadata A 169.254.169.254',
        'ecs A 169.254.170.2',
        'alibaba A 100.100.100.200',
        'aws6 AAAA fd00:ec2::254',
        'linklocal6 AAAA fe80::1',
        'zero A 0.0.0.0',
        'zero6 AAAA ::',
        'mcast A 224.0.0.251',
        'mcast6 AAAA ff02::fb',
        'bcast A 255.255.255.255',
        'mapped AAAA ::ffff:169.254.169.254',
        'nat64 AAAA 64:ff9b::a9fe:a9fe',
        'loop A 127.0.0.1',
        'loop6 AAAA ::1',
        `mixed A ${allowed}`,
        'mixed A 169.254.169.254',
        `rebind A ${rebindTo}`,
      ].join('\n');

    const cases: ProbeCase[] = [];
    const add = (name: string, url: string, via: ProbeCase['via'], expected: Expected, extra = {}) => {
      cases.push({ name, url, via, ...extra });
      expectations.set(name, expected);
    };
    const at = (h: string) => `https://${h}:${VICTIM_PORT}`;
    const refusedAs = (shown: string, address: string, what: string) =>
      shown === address
        ? new RegExp(`: ${esc(address)} is ${esc(what)}; refused`)
        : new RegExp(`: ${esc(shown)} resolves to ${esc(address)}, ${esc(what)}; refused`);

    // names in the namespace's hosts file
    add('hosts: metadata.example.com', at('metadata.example.com'), 'agent', {
      refused: /metadata\.example\.com resolves to 169\.254\.169\.254, a link-local address; refused$/,
    });
    add('hosts: Alibaba metadata', at('metadata.hosts.test'), 'agent', {
      refused: refusedAs('metadata.hosts.test', '100.100.100.200', 'a cloud metadata address'),
    });
    add('hosts: AWS IPv6 metadata', at('aws6.hosts.test'), 'agent', {
      refused: refusedAs('aws6.hosts.test', 'fd00:ec2::254', 'a cloud metadata address'),
    });
    add('hosts: 0.0.0.0', at('zero.hosts.test'), 'agent', {
      refused: refusedAs('zero.hosts.test', '0.0.0.0', 'an unspecified address'),
    });
    add('hosts: localhost (agent)', at('localhost'), 'agent', {
      refused:
        /localhost resolves to (127\.0\.0\.1|::1), a loopback address; refused \(loopback is reached only with --allow-loopback\)/,
    });
    // names in the BIND zone, one per forbidden range
    const dns: [string, string, string][] = [
      ['metadata', '169.254.169.254', 'a link-local address'],
      ['ecs', '169.254.170.2', 'a link-local address'],
      ['alibaba', '100.100.100.200', 'a cloud metadata address'],
      ['aws6', 'fd00:ec2::254', 'a cloud metadata address'],
      ['linklocal6', 'fe80::1', 'a link-local address'],
      ['zero', '0.0.0.0', 'an unspecified address'],
      ['zero6', '::', 'an unspecified address'],
      ['mcast', '224.0.0.251', 'a multicast address'],
      ['mcast6', 'ff02::fb', 'a multicast address'],
      ['bcast', '255.255.255.255', 'the broadcast address'],
      ['mapped', '::ffff:169.254.169.254', 'an IPv6 form of 169.254.169.254, a link-local address'],
      ['nat64', '64:ff9b::a9fe:a9fe', 'an IPv6 form of 169.254.169.254, a link-local address'],
      ['loop', '127.0.0.1', 'a loopback address'],
      ['loop6', '::1', 'a loopback address'],
    ];
    for (const [label, address, what] of dns) {
      const name = `${label}.policy.test`;
      add(`dns: ${name}`, at(name), 'agent', { refused: refusedAs(name, address, what) });
    }
    // IP literals (Node connects to them without a look-up: checked before connecting)
    for (const [literal, address, what] of [
      ['169.254.169.254', '169.254.169.254', 'a link-local address'],
      ['100.100.100.200', '100.100.100.200', 'a cloud metadata address'],
      ['[fd00:ec2::254]', 'fd00:ec2::254', 'a cloud metadata address'],
      ['[::ffff:a9fe:a9fe]', '::ffff:a9fe:a9fe', 'an IPv6 form of 169.254.169.254, a link-local address'],
      ['[64:ff9b::a9fe:a9fe]', '64:ff9b::a9fe:a9fe', 'an IPv6 form of 169.254.169.254, a link-local address'],
      ['0.0.0.0', '0.0.0.0', 'an unspecified address'],
      ['127.0.0.1', '127.0.0.1', 'a loopback address'],
    ] as const) {
      add(`literal: ${literal}`, at(literal), 'agent', { refused: refusedAs(address, address, what) });
    }
    // an allowed address and a forbidden one in the same answer: the whole name is refused,
    // and not even the allowed address is connected to
    add('dns: allowed + forbidden in one answer', at('mixed.policy.test'), 'agent', {
      refused: refusedAs('mixed.policy.test', '169.254.169.254', 'a link-local address'),
    });
    // a SearchDomain target resolved by its own DNS server: the given addresses are judged too
    add(
      'given addresses (SearchDomain)',
      at('good.policy.test'),
      'agent',
      {
        refused: refusedAs('good.policy.test', '169.254.169.254', 'a link-local address'),
      },
      { addresses: ['169.254.169.254'] },
    );
    // a redirect to a forbidden address is not followed, and says where it pointed in our words
    add('redirect to 169.254.169.254', `https://redirect.policy.test:${REDIRECT_PORT}`, 'agent', {
      code: 'REDIRECT',
      refused:
        /redirects \(HTTP 302\) to a link-local address, which is refused anyway; redirects are not followed/,
    });
    // rebinding: the same name answers an allowed address, then a forbidden one
    add('rebinding: first answer (allowed)', at('rebind.policy.test'), 'agent', { ok: true });
    add(
      'rebinding: second answer (forbidden)',
      at('rebind.policy.test'),
      'agent',
      {
        refused: refusedAs('rebind.policy.test', '169.254.169.254', 'a link-local address'),
      },
      { zone: zone('169.254.169.254') },
    );

    // what is allowed
    add('allowed: a private address', at('good.policy.test'), 'agent', { ok: true });
    add('allowed: hosts file name', at('good.hosts.test'), 'agent', { ok: true });
    add('allowed: loopback with --allow-loopback', at('loop.policy.test'), 'agent-loopback', { ok: true });
    add('allowed: loopback in the plugin', at('loop.policy.test'), 'plugin', { ok: true });
    // the plugin refuses the always-refused classes too
    add('plugin: metadata.example.com', at('metadata.example.com'), 'plugin', {
      refused: /metadata\.example\.com resolves to 169\.254\.169\.254, a link-local address; refused$/,
    });
    add('plugin: nat64', at('nat64.policy.test'), 'plugin', {
      refused: refusedAs(
        'nat64.policy.test',
        '64:ff9b::a9fe:a9fe',
        'an IPv6 form of 169.254.169.254, a link-local address',
      ),
    });
    // controls: without the policy these very URLs reach the victim, so "zero connections" above
    // is the policy's doing and not an unreachable address
    for (const target of [
      'metadata.example.com',
      'mixed.policy.test',
      'metadata.hosts.test',
      'aws6.hosts.test',
      'zero.hosts.test',
      'ecs.policy.test',
      'mapped.policy.test',
      'nat64.policy.test',
      'zero6.policy.test',
      '169.254.169.254',
      '[::ffff:a9fe:a9fe]',
    ]) {
      add(`control without policy: ${target}`, at(target), 'off', { ok: true });
    }

    // sequential in one process: the rebinding pair must stay in order (the zone change sits
    // on its second half, so put the pair at the end of the run)
    const rebindFirst = cases.findIndex((c) => c.name.startsWith('rebinding: first'));
    const rebindPair = cases.splice(rebindFirst, 2);
    cases.push(...rebindPair);

    const args: ProbeArgs = {
      zoneName: 'policy.test',
      zone: zone(allowed),
      victimPort: VICTIM_PORT,
      redirectPort: REDIRECT_PORT,
      redirectLocation: `https://169.254.169.254:${VICTIM_PORT}/ids`,
      cases,
    };
    const child = lan.spawnJson(host, tsxCommand('test/helpers/ids-policy-probe.ts', JSON.stringify(args)));
    await child.waitFor((m) => m['event'] === 'done', 90_000);
    results = new Map(
      child.messages
        .filter((m): m is ProbeResult & Record<string, unknown> => typeof m['case'] === 'string')
        .map((m) => [m.case, m]),
    );
    assert.equal(results.size, cases.length, 'every case reported');
    if (process.env['IDS_POLICY_TABLE']) {
      for (const r of results.values()) {
        console.log(
          `| ${r.case} | ${r.ok ? `fetched (${r.clusterId})` : `${r.code}: ${r.message}`} | ${r.connections} |`,
        );
      }
    }
  });

  after(async () => {
    await lan?.teardown();
    if (host) await rm(`/etc/netns/${host.ns}`, { recursive: true, force: true });
  });

  it('refuses every hostile target with one line naming host, address and class, and connects to none', () => {
    const refusals = [...expectations].filter(([, e]) => e.refused);
    assert.ok(refusals.length > 30);
    for (const [name, expected] of refusals) {
      const r = results.get(name);
      assert.ok(r, name);
      assert.equal(r.ok, false, `${name}: fetched (${r.clusterId})`);
      assert.equal(r.code, expected.code ?? 'ADDRESS_REFUSED', `${name}: ${r.message}`);
      assert.match(r.message ?? '', expected.refused as RegExp, name);
      assert.doesNotMatch(r.message ?? '', /\n/, `${name}: one line`);
      assert.equal(r.connections, 0, `${name}: the victim saw ${r.connections} connection(s)`);
    }
  });

  it('still fetches allowed peers: private addresses, and loopback where it is allowed', () => {
    for (const [name, expected] of expectations) {
      if (!expected.ok || name.startsWith('control')) continue;
      const r = results.get(name);
      assert.ok(r?.ok, `${name}: ${r?.message}`);
      assert.equal(r.clusterId, 'victim');
      assert.ok(r.connections >= 1);
    }
  });

  it('without the policy the same URLs reach the victim (so the zero counts above mean something)', () => {
    for (const [name] of [...expectations].filter(([n]) => n.startsWith('control'))) {
      const r = results.get(name);
      assert.ok(r?.ok, `${name}: ${r?.message}`);
      assert.ok(r.connections >= 1, `${name}: ${r.connections}`);
    }
  });

  it('a redirect names no peer bytes: the Location is not quoted', () => {
    const r = results.get('redirect to 169.254.169.254');
    assert.ok(r?.message);
    assert.doesNotMatch(r.message, /169\.254/);
  });
});

function esc(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
