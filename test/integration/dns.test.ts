// resolveSearchDomain against a real BIND (named -g on a loopback port) serving one zone per case.
// The guide's zone names public addresses (1.2.3.4, 2.3.4.1): they are resolved, never connected to.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { resolveSearchDomain } from '../../shared/lookup/dns.js';
import {
  buildAuthUrl,
  normalizeSearchDomain,
  orderSrvRecords,
  parseDnsServer,
  parseTxtRecords,
} from '../../shared/lookup/dns-records.js';
import type { DnsResolveOptions, DnsResolveResult } from '../../shared/lookup/types.js';
import {
  GUIDE_ZONE,
  startBind,
  startDnsRelay,
  type DnsRelayOptions,
  type RunningBind,
} from '../helpers/bind.js';

// One good cluster "ok" in every zone with broken entries: a broken one must never hide it.
const OK_RECORDS = `
@ PTR ok
ok SRV 0 0 443 host-ok
host-ok A 127.0.0.10
`;

const BIG_COUNT = 1000;
function bigZone(): string {
  const lines: string[] = [];
  for (let i = 0; i < BIG_COUNT; i++) {
    lines.push(
      `@ PTR c${i}`,
      `c${i} SRV 0 0 ${10000 + i} h${i}`,
      `h${i} A 127.0.${Math.floor(i / 250)}.${(i % 250) + 1}`,
    );
  }
  return lines.join('\n');
}

const ZONES: Record<string, string> = {
  'example.com': GUIDE_ZONE,
  'missing-srv.test': `${OK_RECORDS}\n@ PTR nosrv\nnosrv TXT "id=x"\n@ PTR nxinstance`,
  'priorities.test': `@ PTR multi
multi SRV 30 0 4430 third
multi SRV 10 0 4410 first
multi SRV 20 0 4420 second
first A 127.0.0.11
second A 127.0.0.12
third A 127.0.0.13`,
  'weights.test': `@ PTR svc
svc SRV 0 100 443 heavy
svc SRV 0 0 443 zero
heavy A 127.0.0.21
zero A 127.0.0.22`,
  'cname.test': `@ PTR one
@ PTR two
one SRV 0 0 443 alias
two SRV 0 0 8443 alias2
alias CNAME real
alias2 CNAME alias
real A 127.0.0.31
real AAAA ::1`,
  'loop.test': `${OK_RECORDS}\n@ PTR looped\nlooped SRV 0 0 443 c1\nc1 CNAME c2\nc2 CNAME c1`,
  'v6only.test': `@ PTR six\nsix SRV 0 0 6443 v6host\nv6host AAAA 2001:db8::1`,
  'txt.test': `@ PTR with
@ PTR without
with SRV 0 0 443 h
with TXT "txtvers=1" "id=0558de48" "name=Cluster A" "flag" "ID=shadowed" "=nokey"
without SRV 0 0 444 h
h A 127.0.0.41`,
  'both.test': `@ PTR a
_liqo._tcp PTR a
_liqo._tcp PTR b._liqo._tcp
_liqo._tcp PTR a-rfc._liqo._tcp
a SRV 0 0 443 ha
a-rfc._liqo._tcp SRV 0 0 443 ha
b._liqo._tcp SRV 0 0 443 hb
ha A 127.0.0.51
hb A 127.0.0.52`,
  'rfc-only.test': `_liqo._tcp PTR x._liqo._tcp\nx._liqo._tcp SRV 0 0 443 hx\nhx A 127.0.0.61`,
  'nxtarget.test': `${OK_RECORDS}\n@ PTR gone\ngone SRV 0 0 443 nowhere`,
  'broken.test': `${OK_RECORDS}
@ PTR portzero
portzero SRV 0 0 0 host-ok
@ PTR dot
dot SRV 0 0 443 .
@ PTR noaddr
noaddr SRV 0 0 443 txtonly
txtonly TXT "no address here"
@ PTR literal
literal SRV 0 0 443 127.0.0.70.
@ PTR half
half SRV 0 0 443 host-ok
half SRV 10 0 443 nowhere`,
  'empty.test': `www A 127.0.0.80`,
  'ttl.test': `@ PTR short
short SRV 0 0 443 h
h 60 A 127.0.0.90
h 45 AAAA ::1`,
  'big.test': bigZone(),
};

describe('DNS-SD resolver against BIND', function () {
  this.timeout(20_000);
  let bind: RunningBind;
  let options: DnsResolveOptions;

  before(async () => {
    bind = await startBind({ zones: ZONES });
    options = { servers: [bind.server] };
  });
  after(async () => {
    await bind?.stop();
  });

  const resolve = (domain: string, extra: DnsResolveOptions = {}): Promise<DnsResolveResult> =>
    resolveSearchDomain(domain, { ...options, ...extra });
  const urls = (result: DnsResolveResult): string[] => result.endpoints.map((e) => e.authUrl).sort();
  const messages = (result: DnsResolveResult): string[] => result.errors.map((e) => e.message);

  /** `domain` resolved through a relay in front of BIND that delays or drops as `relayOptions` say. */
  async function resolveThroughRelay(
    relayOptions: Omit<DnsRelayOptions, 'upstream'>,
    domain: string,
    extra: DnsResolveOptions,
  ): Promise<{ result: DnsResolveResult; udp: { queries: number; maxInFlight: number } }> {
    const relay = await startDnsRelay({ upstream: bind.server, ...relayOptions });
    try {
      const result = await resolveSearchDomain(domain, { ...extra, servers: [relay.server] });
      return { result, udp: relay.udpStats() };
    } finally {
      await relay.stop();
    }
  }

  it("resolves the guide's zone: two clusters, on 443 and 8443, by host name", async () => {
    const result = await resolve('example.com');
    assert.deepEqual(result.errors, []);
    assert.deepEqual(urls(result), [
      'https://auth.server-2.example.com:8443',
      'https://auth.server.example.com:443',
    ]);
    const [second, first] = result.endpoints;
    assert.equal(first?.instance, 'liqo-cluster.example.com');
    assert.equal(second?.instance, 'liqo-cluster-2.example.com');
    assert.deepEqual(first?.addresses, ['1.2.3.4']);
    assert.deepEqual(second?.addresses, ['2.3.4.1']);
    assert.equal(first?.domain, 'example.com');
    assert.deepEqual(first?.fallbacks, []);
    assert.deepEqual(first?.txt, {});
    assert.ok(first && first.ttl > 0 && first.ttl <= 300, `ttl ${first?.ttl}`);
  });

  it('accepts the domain with a trailing dot and in upper case', async () => {
    assert.deepEqual(urls(await resolve('EXAMPLE.com.')), urls(await resolve('example.com')));
  });

  it('reports a PTR target without SRV, and a PTR target that does not exist, each on its own', async () => {
    const result = await resolve('missing-srv.test');
    assert.deepEqual(urls(result), ['https://host-ok.missing-srv.test:443']);
    assert.deepEqual(
      result.errors.map((e) => e.instance),
      ['nosrv.missing-srv.test', 'nxinstance.missing-srv.test'],
    );
    assert.match(
      messages(result)[0] ?? '',
      /^SRV nosrv\.missing-srv\.test: no SRV record; the PTR at missing-srv\.test/,
    );
    assert.match(
      messages(result)[1] ?? '',
      /^SRV nxinstance\.missing-srv\.test: name does not exist \(NXDOMAIN\)/,
    );
  });

  it('orders SRV answers by priority: the lowest is the endpoint, the others fallbacks in order', async () => {
    const result = await resolve('priorities.test');
    assert.deepEqual(result.errors, []);
    const [endpoint] = result.endpoints;
    assert.equal(endpoint?.authUrl, 'https://first.priorities.test:4410');
    assert.deepEqual(
      endpoint?.fallbacks.map((f) => [f.priority, f.authUrl, f.addresses]),
      [
        [20, 'https://second.priorities.test:4420', ['127.0.0.12']],
        [30, 'https://third.priorities.test:4430', ['127.0.0.13']],
      ],
    );
  });

  it('picks by weight within a priority, weight 0 only when the draw is 0 (RFC 2782)', async () => {
    const high = await resolve('weights.test', { random: () => 0.999 });
    assert.equal(high.endpoints[0]?.target, 'heavy.weights.test');
    assert.equal(high.endpoints[0]?.fallbacks[0]?.target, 'zero.weights.test');
    const zero = await resolve('weights.test', { random: () => 0 });
    assert.equal(zero.endpoints[0]?.target, 'zero.weights.test');
  });

  it('follows CNAMEs of SRV targets but keeps the SRV target name in the auth URL', async () => {
    const result = await resolve('cname.test');
    assert.deepEqual(result.errors, []);
    assert.deepEqual(urls(result), ['https://alias.cname.test:443', 'https://alias2.cname.test:8443']);
    for (const endpoint of result.endpoints)
      assert.deepEqual([...endpoint.addresses].sort(), ['127.0.0.31', '::1']);
  });

  it('reports a CNAME loop as that entry’s error and still returns the others', async () => {
    const result = await resolve('loop.test');
    assert.deepEqual(urls(result), ['https://host-ok.loop.test:443']);
    assert.equal(result.errors.length, 1);
    assert.equal(result.errors[0]?.instance, 'looped.loop.test');
    assert.match(
      messages(result)[0] ?? '',
      /^A\/AAAA c1\.loop\.test \(SRV target of looped\.loop\.test\): CNAME loop c1\.loop\.test → c2\.loop\.test → c1\.loop\.test$/,
    );
  });

  it('uses the host name of an AAAA-only target and keeps its IPv6 address', async () => {
    const result = await resolve('v6only.test');
    assert.deepEqual(result.errors, []);
    assert.equal(result.endpoints[0]?.authUrl, 'https://v6host.v6only.test:6443');
    assert.deepEqual(result.endpoints[0]?.addresses, ['2001:db8::1']);
  });

  it('parses TXT key=value strings when present, and an absent TXT is no error', async () => {
    const result = await resolve('txt.test');
    assert.deepEqual(result.errors, []);
    const byInstance = Object.fromEntries(result.endpoints.map((e) => [e.instance, e.txt]));
    assert.deepEqual(byInstance['with.txt.test'], {
      txtvers: '1',
      id: '0558de48',
      name: 'Cluster A',
      flag: '',
    });
    assert.deepEqual(byInstance['without.txt.test'], {});
  });

  it('queries both PTR forms and returns each service once', async () => {
    const result = await resolve('both.test');
    assert.deepEqual(result.errors, []);
    assert.deepEqual(
      result.endpoints.map((e) => [e.instance, e.authUrl, e.aliases ?? []]),
      [
        ['a-rfc._liqo._tcp.both.test', 'https://ha.both.test:443', ['a.both.test']],
        ['b._liqo._tcp.both.test', 'https://hb.both.test:443', []],
      ],
    );
  });

  it('finds clusters published only in the RFC 6763 form', async () => {
    const result = await resolve('rfc-only.test');
    assert.deepEqual(result.errors, []);
    assert.deepEqual(urls(result), ['https://hx.rfc-only.test:443']);
  });

  it('reports an SRV target that does not exist (NXDOMAIN) without hiding the others', async () => {
    const result = await resolve('nxtarget.test');
    assert.deepEqual(urls(result), ['https://host-ok.nxtarget.test:443']);
    assert.deepEqual(messages(result), [
      'A/AAAA nowhere.nxtarget.test (SRV target of gone.nxtarget.test): name does not exist (NXDOMAIN)',
    ]);
  });

  it('reports port 0, target ".", a target without addresses, and a dead fallback, one error each', async () => {
    const result = await resolve('broken.test');
    assert.deepEqual(
      result.endpoints.map((e) => [e.instance, e.authUrl, e.addresses, e.fallbacks.length]),
      [
        ['half.broken.test', 'https://host-ok.broken.test:443', ['127.0.0.10'], 0],
        ['literal.broken.test', 'https://127.0.0.70:443', ['127.0.0.70'], 0],
        ['ok.broken.test', 'https://host-ok.broken.test:443', ['127.0.0.10'], 0],
      ],
    );
    assert.deepEqual(
      result.errors.map((e) => [e.instance, e.message]),
      [
        ['dot.broken.test', 'SRV dot.broken.test: target "." means the service is not offered (RFC 2782)'],
        [
          'half.broken.test',
          'A/AAAA nowhere.broken.test (SRV target of half.broken.test): name does not exist (NXDOMAIN)',
        ],
        [
          'noaddr.broken.test',
          'A/AAAA txtonly.broken.test (SRV target of noaddr.broken.test): no A or AAAA record',
        ],
        [
          'portzero.broken.test',
          'SRV portzero.broken.test: port 0 for target host-ok.broken.test (a port must be 1-65535)',
        ],
      ],
    );
  });

  it('reports the smallest address TTL of the chain', async () => {
    const result = await resolve('ttl.test');
    assert.equal(result.endpoints[0]?.ttl, 45);
  });

  it('says so when neither PTR form exists, without throwing', async () => {
    const result = await resolve('empty.test');
    assert.deepEqual(result.endpoints, []);
    assert.deepEqual(result.errors, [
      { domain: 'empty.test', message: 'no PTR records at empty.test or _liqo._tcp.empty.test' },
    ]);
    assert.equal(result.searched, true, 'the server answered: searched, nothing there');
  });

  it('finds all 1,000 clusters of a large zone', async () => {
    // no deadline but the mocha timeout: how fast is bench/dns.ts's question
    const result = await resolve('big.test', { deadlineMs: 600_000 });
    assert.deepEqual(result.errors, []);
    assert.equal(result.endpoints.length, BIG_COUNT);
    const ports = new Set(result.endpoints.map((e) => e.port));
    assert.equal(ports.size, BIG_COUNT);
    const instances = result.endpoints.map((e) => e.instance);
    assert.deepEqual(instances, [...instances].sort(), 'sorted by instance');
  });

  it('keeps up to `concurrency` queries in flight, never one at a time and never more', async function () {
    // 40 ms round trips through the relay: one at a time, the 1,000 clusters' 2,000 queries would
    // take 80 s; the relay counts how many were waiting for their answer at once. (~3.5 s with
    // the pool kept full; the resolver's default 10 s deadline was exceeded with two CPU hogs
    // running, so the mocha timeout is the only bound: the counts are the check, not the time.)
    this.timeout(120_000);
    const {
      result,
      udp: { queries, maxInFlight },
    } = await resolveThroughRelay({ delayMs: 20 }, 'big.test', { concurrency: 24, deadlineMs: 600_000 });
    assert.deepEqual(result.errors, []);
    assert.equal(result.endpoints.length, BIG_COUNT);
    // SRV and TXT per cluster (addresses came in the SRV replies), plus the PTR questions.
    assert.ok(queries >= 2 * BIG_COUNT, `${queries} UDP queries`);
    assert.ok(maxInFlight <= 24, `${maxInFlight} in flight, more than the 24 allowed`);
    assert.ok(maxInFlight >= 20, `only ${maxInFlight} in flight at most: the pool was not kept full`);
  });

  it('reports entries still unresolved at the deadline as "deadline exceeded"', async () => {
    // The relay answers PTR but swallows SRV/TXT, like a server that stops answering midway.
    const { result } = await resolveThroughRelay({ dropTypes: [33, 16] }, 'example.com', {
      deadlineMs: 400,
      queryTimeoutMs: 5000,
    });
    assert.deepEqual(result.endpoints, []);
    assert.deepEqual(
      result.errors.map((e) => e.instance),
      ['liqo-cluster-2.example.com', 'liqo-cluster.example.com'],
    );
    for (const error of result.errors) {
      assert.match(error.message, /^(SRV|TXT) liqo-cluster(-2)?\.example\.com: deadline of 400 ms exceeded$/);
    }
  });

  it('reports the address look-ups cut by the deadline, one error per entry', async () => {
    // CNAME'd targets: BIND sends no addresses in the SRV reply's additional section for them,
    // so A/AAAA must be asked for, and the relay swallows those questions.
    const { result } = await resolveThroughRelay({ dropTypes: [1, 28] }, 'cname.test', {
      deadlineMs: 400,
      queryTimeoutMs: 5000,
    });
    assert.deepEqual(result.endpoints, []);
    assert.deepEqual(
      result.errors.map((e) => e.instance),
      ['one.cname.test', 'two.cname.test'],
    );
    for (const error of result.errors) {
      assert.match(error.message, /^(A|AAAA) alias2?\.cname\.test: deadline of 400 ms exceeded$/);
    }
  });

  it('takes SRV targets\u2019 addresses from the additional section, without asking for A/AAAA', async () => {
    // The same relay: A and AAAA questions never get an answer, yet every endpoint is complete,
    // because BIND put each in-zone target's A/AAAA beside the SRV answer (RFC 6763 §12.2).
    const { result } = await resolveThroughRelay({ dropTypes: [1, 28] }, 'priorities.test', {
      deadlineMs: 2000,
    });
    assert.deepEqual(result.errors, []);
    const [endpoint] = result.endpoints;
    assert.deepEqual(endpoint?.addresses, ['127.0.0.11']);
    assert.deepEqual(
      endpoint?.fallbacks.map((f) => f.addresses),
      [['127.0.0.12'], ['127.0.0.13']],
    );
  });
});

describe('DNS-SD resolver: bad input and unreachable servers', function () {
  this.timeout(10_000);

  for (const [input, pattern] of [
    ['', /^domain is empty/],
    ['   ', /^domain is empty/],
    ['bad..example.com', /empty label/],
    ['has space.example.com', /invalid characters/],
    [`${'a'.repeat(64)}.com`, /label longer than 63/],
    [`${'abcdefghi.'.repeat(25)}com`, /too long/],
  ] as const) {
    it(`returns one error, no throw, for domain ${JSON.stringify(input.slice(0, 20))}`, async () => {
      const result = await resolveSearchDomain(input, { servers: ['127.0.0.1:9'] });
      assert.deepEqual(result.endpoints, []);
      assert.equal(result.errors.length, 1);
      assert.match(result.errors[0]?.message ?? '', pattern);
    });
  }

  it('refuses a DNS server given by name, naming it and the accepted forms', async () => {
    const result = await resolveSearchDomain('example.com', { servers: ['localhost:53'] });
    assert.deepEqual(result.errors, [
      {
        domain: 'example.com',
        message:
          'DNS server "localhost:53": expected an IP address with an optional port: 127.0.0.1, 127.0.0.1:5353 or [::1]:5353',
      },
    ]);
  });

  it('refuses option values that cannot work', async () => {
    const result = await resolveSearchDomain('example.com', { servers: ['127.0.0.1:9'], concurrency: 0 });
    assert.match(result.errors[0]?.message ?? '', /^option concurrency must be a positive integer, got 0$/);
  });

  it('reports a server where nothing listens, promptly and by address', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const result = await resolveSearchDomain('example.com', {
      servers: [`127.0.0.1:${port}`],
      deadlineMs: 3000,
    });
    assert.deepEqual(result.endpoints, []);
    // one cause for both PTR names: said once
    assert.equal(result.errors.length, 1, messages(result).join('\n'));
    assert.match(
      result.errors[0]?.message ?? '',
      new RegExp(`^PTR example\\.com and _liqo\\._tcp\\.example\\.com: .*127\\.0\\.0\\.1:${port}`),
    );
    assert.equal(result.searched, false);
  });

  it('gives up on a server that never answers at the deadline instead of hanging', async () => {
    const bind = await startBind({ zones: { 'example.com': GUIDE_ZONE } });
    const silent = await startDnsRelay({ upstream: bind.server, dropTypes: [12] });
    try {
      const result = await resolveSearchDomain('example.com', {
        servers: [silent.server],
        deadlineMs: 300,
        queryTimeoutMs: 5000,
      });
      assert.deepEqual(result.endpoints, []);
      assert.deepEqual(messages(result), [
        'PTR example.com and _liqo._tcp.example.com: deadline of 300 ms exceeded',
      ]);
      const perQuery = await resolveSearchDomain('example.com', {
        servers: [silent.server],
        queryTimeoutMs: 100,
        tries: 1,
      });
      assert.equal(perQuery.errors.length, 1, messages(perQuery).join('\n'));
      assert.match(
        perQuery.errors[0]?.message ?? '',
        /^PTR example\.com and _liqo\._tcp\.example\.com: no answer from 127\.0\.0\.1:\d+ within 100 ms \(1 try\)$/,
      );
      assert.equal(perQuery.searched, false);
    } finally {
      await silent.stop();
      await bind.stop();
    }
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await resolveSearchDomain('example.com', {
      servers: ['127.0.0.1:9'],
      signal: controller.signal,
    });
    assert.match(result.errors[0]?.message ?? '', /aborted by the caller/);
  });

  function messages(result: DnsResolveResult): string[] {
    return result.errors.map((e) => e.message);
  }
});

describe('DNS-SD record helpers', () => {
  // A seeded generator (mulberry32) keeps the statistical checks deterministic.
  function seeded(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('chooses within a priority in proportion to weight', () => {
    const random = seeded(42);
    const records = [
      { name: 'light', priority: 0, weight: 10 },
      { name: 'heavy', priority: 0, weight: 30 },
      { name: 'backup', priority: 1, weight: 1000 },
    ];
    let heavyFirst = 0;
    const trials = 4000;
    for (let i = 0; i < trials; i++) {
      const order = orderSrvRecords(records, random).map((r) => r.name);
      assert.equal(order[2], 'backup');
      if (order[0] === 'heavy') heavyFirst++;
    }
    const share = heavyFirst / trials;
    assert.ok(share > 0.7 && share < 0.8, `heavy first in ${share} of draws, expected about 0.75`);
  });

  it('spreads zero-weight records evenly among themselves', () => {
    const random = seeded(7);
    const records = [
      { name: 'a', priority: 0, weight: 0 },
      { name: 'b', priority: 0, weight: 0 },
    ];
    let aFirst = 0;
    for (let i = 0; i < 2000; i++) if (orderSrvRecords(records, random)[0]?.name === 'a') aFirst++;
    // a count of draws from a seeded generator (deterministic), not a time
    assert.ok(aFirst > 850 && aFirst < 1150, `a first ${aFirst} of 2000`);
  });

  it('parses DNS server forms', () => {
    assert.deepEqual(parseDnsServer('127.0.0.1'), { ok: true, value: '127.0.0.1:53' });
    assert.deepEqual(parseDnsServer('127.0.0.1:5353'), { ok: true, value: '127.0.0.1:5353' });
    assert.deepEqual(parseDnsServer('[::1]:5353'), { ok: true, value: '[::1]:5353' });
    assert.deepEqual(parseDnsServer('::1'), { ok: true, value: '[::1]:53' });
    assert.equal(parseDnsServer('127.0.0.1:0').ok, false);
    assert.equal(parseDnsServer('127.0.0.1:99999').ok, false);
  });

  it('normalises domains: case, trailing dot, internationalised names in punycode', () => {
    assert.deepEqual(normalizeSearchDomain('Example.COM.'), { ok: true, value: 'example.com' });
    assert.deepEqual(normalizeSearchDomain('bücher.example'), { ok: true, value: 'xn--bcher-kva.example' });
    assert.deepEqual(normalizeSearchDomain(undefined), {
      ok: false,
      message: 'domain must be a string, got undefined',
    });
  });

  it('builds auth URLs from host names and bracketed IPv6 literals', () => {
    assert.equal(buildAuthUrl('auth.server.example.com.', 443), 'https://auth.server.example.com:443');
    assert.equal(buildAuthUrl('2001:db8::1', 8443), 'https://[2001:db8::1]:8443');
  });

  it('keeps the first of duplicate TXT keys, case-insensitively', () => {
    assert.deepEqual(parseTxtRecords([['A=1', 'a=2', 'b'], ['c=x=y']]), { a: '1', b: '', c: 'x=y' });
  });
});
