// The connect-time address policy (shared/net/address-policy.ts) against an oracle built
// straight from ipaddr.js's own range tables (SpecialRanges), for random IPv4, IPv6, and the
// IPv6 forms that carry an IPv4 address (mapped, RFC 6145, NAT64): refused exactly when the
// address, or the IPv4 address inside it, is unspecified, link-local, multicast, broadcast, a
// known metadata address or the deprecated IPv4-compatible form — loopback only when not allowed.
// The webhook's text check of an authUrl host reads the same class table, so it must agree on
// every IP literal.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describeRefusal, refusalOf } from '../../shared/net/address-policy.js';
import { checkAuthUrl, judgeHost } from '../../shared/rules/index.js';

// ipaddr.js keeps its tables on the prototypes without typings: { name: [addr, bits] | [[addr, bits], ...] }
type Table<T> = Record<string, [T, number] | [T, number][]>;
const V4_TABLE = (ipaddr.IPv4.prototype as unknown as { SpecialRanges: Table<ipaddr.IPv4> }).SpecialRanges;
const V6_TABLE = (ipaddr.IPv6.prototype as unknown as { SpecialRanges: Table<ipaddr.IPv6> }).SpecialRanges;

function inRange<T extends ipaddr.IPv4 | ipaddr.IPv6>(address: T, table: Table<T>, name: string): boolean {
  const entry = table[name];
  assert.ok(entry, `ipaddr.js has no range ${name}`);
  const ranges = (Array.isArray(entry[0]) ? entry : [entry]) as [T, number][];
  return ranges.some((range) => (address as ipaddr.IPv4).match(range as [ipaddr.IPv4, number]));
}

function oracleV4(address: ipaddr.IPv4, allowLoopback: boolean): boolean {
  if (address.toString() === '100.100.100.200') return true;
  if (['unspecified', 'broadcast', 'multicast', 'linkLocal'].some((n) => inRange(address, V4_TABLE, n))) {
    return true;
  }
  return !allowLoopback && inRange(address, V4_TABLE, 'loopback');
}

/** Refused? — from the ipaddr.js tables and SPEC §"Security", independently of our classifier. */
function oracle(text: string, allowLoopback: boolean): boolean {
  const address = ipaddr.parse(text);
  if (address.kind() === 'ipv4') return oracleV4(address as ipaddr.IPv4, allowLoopback);
  const v6 = address as ipaddr.IPv6;
  if (['ipv4Mapped', 'rfc6145', 'rfc6052'].some((n) => inRange(v6, V6_TABLE, n))) {
    return oracleV4(new ipaddr.IPv4(v6.toByteArray().slice(12)), allowLoopback);
  }
  if (v6.toNormalizedString() === ipaddr.parse('fd00:ec2::254').toNormalizedString()) return true;
  if (['unspecified', 'linkLocal', 'multicast'].some((n) => inRange(v6, V6_TABLE, n))) return true;
  if (inRange(v6, V6_TABLE, 'loopback')) return !allowLoopback;
  return v6.parts.slice(0, 6).every((p) => p === 0); // ::a.b.c.d, deprecated IPv4-compatible
}

const byte = fc.integer({ min: 0, max: 255 });
const v4InPrefix = (prefix: string) => {
  const [base, bitsText] = prefix.split('/') as [string, string];
  const bits = Number(bitsText);
  const start = ipaddr.IPv4.parse(base)
    .toByteArray()
    .reduce((n, b) => n * 256 + b, 0);
  return fc.integer({ min: 0, max: 2 ** (32 - bits) - 1 }).map((offset) => {
    const n = start + offset;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  });
};
/** IPv4 addresses, a good share of them in the ranges that matter. */
const anyV4 = fc.oneof(
  fc.ipV4(),
  fc.tuple(byte, byte, byte, byte).map((b) => b.join('.')),
  ...[
    '0.0.0.0/8',
    '127.0.0.0/8',
    '169.254.0.0/16',
    '224.0.0.0/4',
    '100.64.0.0/10',
    '100.100.100.192/28',
    '10.0.0.0/8',
    '255.255.255.254/31',
  ].map(v4InPrefix),
);
/** Random IPv6 addresses inside a prefix: the prefix's bits, random ones after them. */
const v6InPrefix = (prefix: string) => {
  const [base, bits] = ipaddr.parseCIDR(prefix) as [ipaddr.IPv6, number];
  const fixed = base.toByteArray();
  return fc.array(byte, { minLength: 16, maxLength: 16 }).map((random) => {
    const bytes = fixed.map((b, i) => {
      const keep = Math.max(0, Math.min(8, bits - i * 8)); // prefix bits in this byte
      const mask = (0xff << (8 - keep)) & 0xff;
      return (b & mask) | ((random[i] ?? 0) & ~mask & 0xff);
    });
    return new ipaddr.IPv6(
      Array.from({ length: 8 }, (_, i) => bytes[2 * i]! * 256 + bytes[2 * i + 1]!),
    ).toString();
  });
};
/** IPv6 addresses, and the forms that carry an IPv4 address, in several spellings. */
const anyV6 = fc.oneof(
  fc.ipV6(),
  ...['fe80::/10', 'ff00::/8', 'fc00::/7', 'fd00:ec2::200/120', '::/96', '64:ff9b::/96', '2001:db8::/32'].map(
    v6InPrefix,
  ),
  fc.constantFrom('::', '::1', 'fd00:ec2::254', 'fd00:ec2:0:0:0:0:0:254', 'fd00:ec2::253', '::2'),
  anyV4.map((v4) => `::ffff:${v4}`),
  anyV4.map((v4) => `::ffff:0:${v4}`),
  anyV4.map((v4) => `64:ff9b::${v4}`),
  anyV4.map((v4) => `64:ff9b:1::${v4}`),
  anyV4.map((v4) => `::${v4}`),
  anyV4.map((v4) => {
    const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
    return `::ffff:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }),
);
const anyAddress = fc.oneof(anyV4, anyV6);
const RUNS = { numRuns: 5000 };

describe('address policy (connect time)', () => {
  it('refuses exactly what the ipaddr.js range tables say, for random v4, v6 and mapped/NAT64 forms', () => {
    fc.assert(
      fc.property(anyAddress, fc.boolean(), (address, allowLoopback) => {
        const refused = refusalOf(address, { allowLoopback }) !== undefined;
        assert.equal(refused, oracle(address, allowLoopback), `${address} (allowLoopback ${allowLoopback})`);
      }),
      RUNS,
    );
  });

  it('the webhook text check agrees with the connect-time policy on every IP literal (one table)', () => {
    fc.assert(
      fc.property(anyAddress, fc.boolean(), (address, allowLoopback) => {
        const literal = address.includes(':') ? `[${address}]` : address;
        const byText = judgeHost(literal, { allowLoopback }).refusal !== undefined;
        assert.equal(byText, refusalOf(address, { allowLoopback }) !== undefined, literal);
      }),
      RUNS,
    );
  });

  it('the generators reach both verdicts, and the IPv4-carrying forms (so the properties say something)', () => {
    const samples = fc.sample(anyAddress, { numRuns: 3000, seed: 7 });
    const refused = samples.filter((a) => oracle(a, false));
    assert.ok(refused.length > 300, `only ${refused.length} refused samples`);
    assert.ok(samples.length - refused.length > 300, 'too few allowed samples');
    const carried = samples.filter((a) => /^(::ffff:|64:ff9b:)/.test(a) && oracle(a, true));
    assert.ok(carried.length > 30, `only ${carried.length} refused mapped/NAT64 samples`);
  });

  it('says in one line what the host resolved to and why it is refused', () => {
    const at = (host: string, address: string, allowLoopback = false) => {
      const refusal = refusalOf(address, { allowLoopback });
      assert.ok(refusal, address);
      return describeRefusal(host, refusal);
    };
    assert.equal(
      at('metadata.example.com', '169.254.169.254'),
      'metadata.example.com resolves to 169.254.169.254, a link-local address; refused',
    );
    assert.equal(at('169.254.170.2', '169.254.170.2'), '169.254.170.2 is a link-local address; refused');
    assert.equal(
      at('[fd00:ec2::254]', 'fd00:ec2::254'),
      'fd00:ec2::254 is a cloud metadata address; refused',
    );
    assert.equal(
      at('x.example', '64:ff9b::6464:64c8'),
      'x.example resolves to 64:ff9b::6464:64c8, an IPv6 form of 100.100.100.200, a cloud metadata address; refused',
    );
    assert.equal(
      at('peer.example', '127.0.0.1'),
      'peer.example resolves to 127.0.0.1, a loopback address; refused (loopback is reached only with --allow-loopback)',
    );
    assert.equal(refusalOf('127.0.0.1', { allowLoopback: true }), undefined);
    assert.equal(refusalOf('::ffff:127.0.0.1', { allowLoopback: true }), undefined);
    assert.ok(refusalOf('169.254.169.254', { allowLoopback: true }), 'loopback allowance is loopback only');
    // a resolver answer that is not an address at all is never connected to
    assert.equal(
      at('odd.example', 'not-an-ip'),
      'odd.example resolves to not-an-ip, not an IP address; refused',
    );
  });

  it('allows private, carrier-grade NAT, unique-local and public addresses', () => {
    for (const address of [
      '10.1.2.3',
      '192.168.1.10',
      '100.64.0.7',
      '100.100.100.201',
      'fd12::1',
      '8.8.8.8',
      '2a00:1450::1',
      '::ffff:10.0.0.1',
    ]) {
      assert.equal(refusalOf(address, { allowLoopback: false }), undefined, address);
    }
  });

  it('the webhook refuses the metadata addresses as authUrl text too', () => {
    for (const url of [
      'https://100.100.100.200',
      'https://[fd00:ec2::254]:8443',
      'https://[::ffff:100.100.100.200]',
      'https://[64:ff9b::6464:64c8]',
    ]) {
      assert.match(checkAuthUrl(url).problems[0]?.message ?? '', /cloud metadata address/, url);
    }
    assert.deepEqual(checkAuthUrl('https://100.100.100.199').problems, []);
  });
});
