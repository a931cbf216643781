// Property tests (fast-check) of the rules: defaulting is idempotent and pure, validation
// never throws whatever it is given, and normalising an authUrl never changes whether it is
// accepted.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  checkAuthUrl,
  MAX_WARNING_LENGTH,
  normaliseAuthUrl,
  rulesByKind,
  type KindRules,
  type ValidationResult,
} from '../../shared/rules/index.js';

const RUNS = { numRuns: 400 };
const kinds = Object.entries(rulesByKind) as [string, KindRules<unknown>][];

/** Values that look like the real thing, mixed with anything at all. */
function nearlyValid(kind: string): fc.Arbitrary<unknown> {
  const maybe = (arb: fc.Arbitrary<unknown>) =>
    fc.oneof(arb, fc.constant(undefined), fc.constant(null), fc.anything());
  const metadata = fc.record(
    {
      name: maybe(fc.constantFrom('liqo-configuration', 'example.com', 'my-cluster')),
      labels: maybe(
        fc.dictionary(
          fc.constantFrom(
            'discovery.liqo.io/cluster-id',
            'discovery.liqo.io/discovery-type',
            'app',
            '__proto__',
          ),
          fc.oneof(fc.string(), fc.anything()),
        ),
      ),
    },
    { requiredKeys: [] },
  );
  const specs: Record<string, fc.Arbitrary<unknown>> = {
    ForeignCluster: fc.record(
      {
        authUrl: maybe(fc.oneof(authUrlLike(), fc.string())),
        join: maybe(fc.boolean()),
        discoveryType: maybe(fc.constantFrom('LAN', 'WAN', 'Manual', 'IncomingPeering', 'lan')),
        trustMode: maybe(fc.constantFrom('Unknown', 'Trusted', 'Untrusted')),
        clusterIdentity: maybe(
          fc.record(
            { clusterID: maybe(fc.oneof(fc.uuid(), fc.string())), clusterName: maybe(fc.string()) },
            { requiredKeys: [] },
          ),
        ),
        namespace: maybe(fc.constantFrom('liqo', 'Bad NS', '')),
      },
      { requiredKeys: [] },
    ),
    SearchDomain: fc.record(
      { domain: maybe(fc.oneof(fc.domain(), fc.string())), autojoin: maybe(fc.boolean()) },
      { requiredKeys: [] },
    ),
    ClusterConfig: fc.record(
      {
        discoveryConfig: maybe(
          fc.record(
            {
              enableDiscovery: maybe(fc.boolean()),
              ttl: maybe(fc.integer({ min: -10, max: 100000 })),
              port: maybe(fc.integer({ min: -1, max: 70000 })),
              authService: maybe(fc.constantFrom('_liqo_auth._tcp', '_liqo._tcp', 'bad')),
              domain: maybe(fc.constantFrom('local.', 'local', '', 'a..b')),
            },
            { requiredKeys: [] },
          ),
        ),
        authConfig: maybe(fc.jsonValue()),
      },
      { requiredKeys: [] },
    ),
  };
  return fc.record(
    {
      apiVersion: fc.string(),
      kind: fc.constant(kind),
      metadata: maybe(metadata),
      spec: maybe(specs[kind] ?? fc.anything()),
    },
    { requiredKeys: [] },
  );
}

function assertWellFormed(result: ValidationResult): void {
  assert.ok(Array.isArray(result.errors) && Array.isArray(result.warnings));
  for (const error of result.errors) {
    assert.equal(typeof error.field, 'string');
    assert.ok(error.field.length > 0 && typeof error.message === 'string' && error.message.length > 0);
    assert.ok(
      typeof error.accepted === 'string' && error.accepted.length > 0,
      `${error.field}: no "accepted"`,
    );
  }
  for (const warning of result.warnings)
    assert.ok(typeof warning === 'string' && warning.length <= MAX_WARNING_LENGTH, warning);
}

/** URL-ish strings built from the parts that matter, with every IPv4 spelling. */
function authUrlLike(): fc.Arbitrary<string> {
  const bytes = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
  const ipv4 = fc.oneof(
    bytes.map((b) => b.join('.')),
    bytes.map((b) => b.map((x) => `0x${x.toString(16)}`).join('.')),
    bytes.map((b) => b.map((x) => `0${x.toString(8)}`).join('.')),
    bytes.map(([a, b, c, d]) => String(((a << 24) >>> 0) + (b << 16) + (c << 8) + d)),
    bytes.map(([a, b, c, d]) => `0x${(((a << 24) >>> 0) + (b << 16) + (c << 8) + d).toString(16)}`),
    bytes.map(([a, , c, d]) => `${a}.${(c << 8) + d}`),
    fc.constantFrom(
      '127.1',
      '127.0.0.1',
      '169.254.169.254',
      '10.0.0.1',
      '0',
      '255.255.255.255',
      '224.0.0.251',
    ),
  );
  const ipv6 = fc.oneof(
    fc.ipV6().map((a) => `[${a}]`),
    fc.constantFrom(
      '[::1]',
      '[::ffff:127.0.0.1]',
      '[::ffff:7f00:1]',
      '[fe80::1]',
      '[fc00::1]',
      '[::]',
      '[ff02::fb]',
      '[::127.0.0.1]',
    ),
  );
  const name = fc.oneof(
    fc.domain(),
    fc.constantFrom(
      'localhost',
      'LocalHost',
      'a.localhost',
      'Example.COM',
      'a..b',
      '-a.b',
      'a_b.c',
      'bücher.de',
    ),
  );
  const host = fc
    .tuple(fc.oneof(ipv4, ipv6, name), fc.constantFrom('', '.', '..'))
    .map(([h, dot]) => h + dot);
  const scheme = fc.constantFrom('https', 'HTTPS', 'HtTpS', 'http', 'ftp');
  const port = fc.oneof(
    fc.constant(''),
    fc.integer({ min: 0, max: 70000 }).map((p) => `:${p}`),
    fc.constantFrom(':', ':0443', ':x', ':443'),
  );
  const tail = fc.constantFrom('', '/', '/ids', '//', '?', '?a=1', '#f', '/#');
  const user = fc.constantFrom('', '', '', 'user@', 'u:p@');
  return fc.tuple(scheme, user, host, port, tail).map(([s, u, h, p, t]) => `${s}://${u}${h}${p}${t}`);
}

describe('rules: properties', () => {
  for (const [kind, rules] of kinds) {
    it(`${kind}: defaulting is idempotent and never mutates its input`, () => {
      fc.assert(
        fc.property(fc.oneof(nearlyValid(kind), fc.anything()), (obj) => {
          const once = rules.applyDefaults(obj);
          assert.deepStrictEqual(rules.applyDefaults(once), once);
        }),
        RUNS,
      );
      fc.assert(
        fc.property(
          fc.jsonValue(),
          nearlyValid(kind).filter((v) => JSON.stringify(v) !== undefined),
          (json, near) => {
            for (const input of [json, near]) {
              const before = JSON.stringify(input);
              rules.applyDefaults(input);
              assert.equal(JSON.stringify(input), before);
            }
          },
        ),
        RUNS,
      );
    });

    it(`${kind}: validation never throws, whatever the object, spec, metadata or old object`, () => {
      const shapes = fc.oneof(
        fc.anything(),
        nearlyValid(kind),
        fc.record({ kind: fc.constant(kind), spec: fc.anything() }),
        fc.record({ kind: fc.constant(kind), metadata: fc.anything(), spec: fc.anything() }),
      );
      fc.assert(
        fc.property(
          shapes,
          fc.oneof(fc.constant(undefined), shapes),
          fc.boolean(),
          (obj, old, allowLoopback) => {
            assertWellFormed(rules.validate(obj, old, { allowLoopback }));
            assertWellFormed(rules.validate(rules.applyDefaults(obj, old), old, { allowLoopback }));
          },
        ),
        RUNS,
      );
    });
  }

  it('defaulting and validation survive a body nested 200 000 levels deep', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    for (const [kind, rules] of kinds) {
      const obj = {
        kind,
        metadata: { name: 'x' },
        spec: { authUrl: 'https://10.0.0.1', domain: 'a.example', extra: deep },
      };
      const defaulted = rules.applyDefaults(obj) as { spec: { extra: unknown } };
      assert.notEqual(defaulted.spec.extra, deep, 'copied, not shared');
      assertWellFormed(rules.validate(defaulted, obj));
    }
  });

  it('a normalised authUrl is accepted iff the original was, and normalising twice changes nothing', () => {
    fc.assert(
      fc.property(fc.oneof(authUrlLike(), fc.string(), fc.webUrl()), fc.boolean(), (url, allowLoopback) => {
        const normalised = normaliseAuthUrl(url);
        const accepted = (u: string) => checkAuthUrl(u, { allowLoopback }).problems.length === 0;
        assert.equal(accepted(normalised), accepted(url), `${url} -> ${normalised}`);
        assert.equal(normaliseAuthUrl(normalised), normalised);
      }),
      { numRuns: 3000 },
    );
  });

  it('the generator reaches both verdicts (so the property above says something)', () => {
    const samples = fc.sample(authUrlLike(), { numRuns: 2000, seed: 42 });
    const verdicts = samples.map((u) => checkAuthUrl(u).problems.length === 0);
    assert.ok(verdicts.filter(Boolean).length > 50, 'too few accepted samples');
    assert.ok(verdicts.filter((v) => !v).length > 50, 'too few refused samples');
    assert.ok(
      samples.filter((u) => normaliseAuthUrl(u) !== u).length > 50,
      'too few samples that normalisation changes',
    );
  });
});
