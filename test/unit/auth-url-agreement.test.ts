// The three programs read an auth URL from ONE parse (shared/rules/url.ts) and so agree on it:
// the webhook (its real admission path: mutate writes the canonical form, validate gives the
// verdict), the /ids client (the target it would connect to, before any I/O) and the plugin
// (the key join uses to find an existing ForeignCluster). Random URLs, valid and odd.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AUTH_URL_ACCEPTED } from '../../shared/rules/index.js';
import { idsTarget, IdentityFetchError } from '../../shared/lookup/ids.js';
import { authUrlMatchKey } from '../../plugin/foreign-clusters.js';
import { mutate, validate, type AdmissionContext, type AdmissionRequest } from '../../webhook/admission.js';
import { CROSS_OBJECT_CHECKS_OFF } from '../../webhook/crossobject-cache.js';

function foreignClusterReview(authUrl: string): AdmissionRequest {
  return {
    uid: 'u-1',
    kind: { group: 'discovery.liqo.io', version: 'v1alpha1', kind: 'ForeignCluster' },
    operation: 'CREATE',
    object: {
      apiVersion: 'discovery.liqo.io/v1alpha1',
      kind: 'ForeignCluster',
      metadata: { name: 'peer' },
      spec: { authUrl },
    },
  };
}

interface WebhookView {
  allowed: boolean;
  message: string;
  /** spec.authUrl as the mutating webhook leaves it. */
  defaulted: unknown;
}

function webhook(authUrl: string, allowLoopback: boolean): WebhookView {
  const ctx: AdmissionContext = { allowLoopbackAuthUrl: allowLoopback, crossObject: CROSS_OBJECT_CHECKS_OFF };
  const request = foreignClusterReview(authUrl);
  const { response } = mutate(request, ctx).review;
  let defaulted: unknown = authUrl;
  if (response.patch) {
    const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as {
      op: string;
      path: string;
      value?: unknown;
    }[];
    const op = ops.find((o) => o.path === '/spec/authUrl');
    if (op) defaulted = op.value;
  }
  const verdict = validate(request, ctx).review.response;
  return { allowed: verdict.allowed, message: verdict.status?.message ?? '', defaulted };
}

type ClientView = { target: { host: string; port: number; path: string } } | { code: string };

function client(authUrl: string, allowLoopback: boolean): ClientView {
  try {
    const { host, port, path } = idsTarget(authUrl, { allowLoopback });
    return { target: { host, port, path } };
  } catch (err) {
    if (!(err instanceof IdentityFetchError)) throw err;
    return { code: err.code };
  }
}

function authUrlLike(): fc.Arbitrary<string> {
  const bytes = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
  const ipv4 = fc.oneof(
    bytes.map((b) => b.join('.')),
    bytes.map(([a, b, c, d]) => String(((a << 24) >>> 0) + (b << 16) + (c << 8) + d)),
    bytes.map((b) => b.map((x) => `0x${x.toString(16)}`).join('.')),
    fc.constantFrom(
      '10.0.0.1',
      '127.0.0.1',
      '127.1',
      '169.254.169.254',
      '0.0.0.0',
      '224.0.0.251',
      '999.1.1.1',
    ),
  );
  const ipv6 = fc.oneof(
    fc.ipV6().map((a) => `[${a}]`),
    fc.ipV6().map((a) => `[${a.toUpperCase()}]`),
    fc.constantFrom(
      '[::1]',
      '[FD00:0:0:0:0:0:0:10]',
      '[::ffff:192.168.1.10]',
      '[fe80::1]',
      '[fe80::1%25eth0]',
      '[]',
      'fd00::10', // without brackets
      '[fd00::10',
    ),
  );
  const name = fc.oneof(
    fc.domain(),
    fc.domain().map((d) => d.toUpperCase()),
    fc.domain().map((d) => `${d}.`),
    fc.constantFrom(
      'Auth.Example.COM',
      'localhost',
      'a..b',
      '-a.example',
      'under_score.example',
      'bücher.example',
      'xn--bcher-kva.example',
      '%31%30.0.0.1',
      '',
    ),
  );
  const port = fc.oneof(
    { weight: 3, arbitrary: fc.constant('') },
    { weight: 3, arbitrary: fc.constantFrom(':443', ':0443', ':8443', ':30740', ':1', ':65535') },
    { weight: 1, arbitrary: fc.constantFrom(':', ':0', ':65536', ':80a', ':-1') },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 70000 }).map((p) => `:${p}`) },
  );
  const pick = <T>(common: T, odd: fc.Arbitrary<T>) =>
    fc.oneof({ weight: 4, arbitrary: fc.constant(common) }, { weight: 1, arbitrary: odd });
  return fc
    .record({
      scheme: pick('https://', fc.constantFrom('HTTPS://', 'Https://', 'http://', 'ftp://', 'https:/', '')),
      userinfo: pick('', fc.constantFrom('user@', 'user:secret@', '@')),
      host: fc.oneof(ipv4, ipv6, name),
      port,
      path: fc.oneof(
        { weight: 3, arbitrary: fc.constant('') },
        { weight: 2, arbitrary: fc.constant('/') },
        { weight: 1, arbitrary: fc.constantFrom('//', '/ids', '/auth', '/auth/', '/auth//', '/./') },
      ),
      query: pick('', fc.constantFrom('?', '?a=b')),
      fragment: pick('', fc.constantFrom('#', '#top')),
    })
    .map((u) => `${u.scheme}${u.userinfo}${u.host}${u.port}${u.path}${u.query}${u.fragment}`);
}

const urls = () => fc.oneof({ weight: 5, arbitrary: authUrlLike() }, { weight: 1, arbitrary: fc.webUrl() });

/** The host and port a canonical URL names, read by the WHATWG parser (what fetch would use). */
function endpointOf(canonical: string): { host: string; port: number } {
  const u = new URL(canonical);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port === '' ? 443 : Number(u.port) };
}

describe('auth URL: webhook, /ids client and plugin agree (one parse)', () => {
  it('shape: refused by the webhook ⇔ no client target ⇔ no plugin key; accepted ⇒ all three have one', () => {
    fc.assert(
      fc.property(urls(), fc.boolean(), (url, allowLoopback) => {
        const hook = webhook(url, allowLoopback);
        const seen = client(url, allowLoopback);
        const key = authUrlMatchKey(url);
        const shapeRefused = hook.message.includes(`(accepted: ${AUTH_URL_ACCEPTED})`);
        const invalidForClient = 'code' in seen && seen.code === 'INVALID_URL';
        assert.equal(
          invalidForClient,
          shapeRefused,
          `client vs webhook on ${JSON.stringify(url)}: ${hook.message}`,
        );
        assert.equal(key === undefined, shapeRefused, `plugin key vs webhook on ${JSON.stringify(url)}`);
        if (hook.allowed) {
          assert.ok('target' in seen, `webhook accepts ${JSON.stringify(url)}, client refuses it`);
          assert.notEqual(key, undefined);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('an IP-literal host: the webhook accepts it ⇔ the client may connect to it (one address table)', () => {
    fc.assert(
      fc.property(urls(), fc.boolean(), (url, allowLoopback) => {
        const key = authUrlMatchKey(url);
        if (key === undefined) return;
        const host = endpointOf(key).host;
        if (!/^[0-9.]+$/.test(host) && !host.includes(':')) return; // names are judged when resolved
        const hook = webhook(url, allowLoopback);
        const seen = client(url, allowLoopback);
        assert.equal('target' in seen, hook.allowed, `${JSON.stringify(url)}: ${hook.message}`);
      }),
      { numRuns: 3000 },
    );
  });

  it('the key is the canonical form the webhook writes, and the key of that form is the same', () => {
    fc.assert(
      fc.property(urls(), (url) => {
        const key = authUrlMatchKey(url);
        if (key === undefined) return;
        const { defaulted } = webhook(url, true);
        assert.equal(key, defaulted, `${JSON.stringify(url)}: key vs spec.authUrl after defaulting`);
        assert.equal(authUrlMatchKey(key), key, `the key of ${key}`);
        assert.equal(webhook(key, true).defaulted, key, 'defaulting the canonical form changes nothing');
      }),
      { numRuns: 3000 },
    );
  });

  it("the client connects to the canonical URL's host and port, path /ids", () => {
    fc.assert(
      fc.property(urls(), (url) => {
        const key = authUrlMatchKey(url);
        const seen = client(url, true);
        if (key === undefined || !('target' in seen)) return;
        assert.deepEqual(seen.target, { ...endpointOf(key), path: '/ids' }, JSON.stringify(url));
        assert.deepEqual(client(key, true), seen, 'the canonical form gives the same target');
      }),
      { numRuns: 3000 },
    );
  });

  it('the same endpoint written two ways has one key (case, trailing dot and slash, :443)', () => {
    const spellings = [
      'https://auth.example.com',
      'https://auth.example.com:443',
      'HTTPS://Auth.Example.COM.:0443/',
      'https://auth.example.com/',
    ];
    const keys = new Set(spellings.map((u) => authUrlMatchKey(u)));
    assert.equal(keys.size, 1, [...keys].join(' '));
    assert.notEqual(authUrlMatchKey('https://auth.example.com:8443'), [...keys][0]);
  });

  it('the generator reaches every verdict (so the properties say something)', () => {
    const samples = fc.sample(urls(), { numRuns: 2000, seed: 18 });
    const views = samples.map((u) => ({ u, hook: webhook(u, false), key: authUrlMatchKey(u) }));
    assert.ok(views.filter((v) => v.hook.allowed).length > 200, 'too few accepted');
    assert.ok(views.filter((v) => v.key === undefined).length > 200, 'too few malformed');
    assert.ok(
      views.filter((v) => v.key !== undefined && !v.hook.allowed).length > 30,
      'too few refused hosts',
    );
    assert.ok(views.filter((v) => v.key !== undefined && v.key !== v.u).length > 200, 'too few respelt');
  });
});
