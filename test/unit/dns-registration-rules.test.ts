// DNSRegistration defaulting and validation (issue 19 part 1), and the CRD schema agreeing.
import assert from 'node:assert/strict';
import { dnsRegistrationRules, formatFieldError, rulesFor } from '../../shared/rules/index.js';
import { effectiveLeaseSeconds, parseDnsServer } from '../../shared/rules/dnsregistration.js';
import { schemaViolations, withSchemaDefaults } from '../../shared/rules/schema-check.js';

function reg(spec: unknown): Record<string, unknown> {
  return { apiVersion: 'discovery.liqo.io/v1alpha1', kind: 'DNSRegistration', metadata: { name: 'r' }, spec };
}
const minimal = {
  zone: 'liqo.example.com',
  server: 'ns1.example.com',
  tsig: { keyName: 'liqo-update', secretRef: { name: 'liqo-dns-tsig' } },
};
const errorLines = (obj: unknown): string[] =>
  dnsRegistrationRules.validate(obj as never, undefined).errors.map(formatFieldError);

describe('rules: DNSRegistration', () => {
  it('is in the rule table under its kind', () => {
    assert.equal(rulesFor('DNSRegistration')?.kind, 'DNSRegistration');
  });

  it('fills every default, writes the server as host:port, and the CRD schema fills the same', () => {
    const out = dnsRegistrationRules.applyDefaults(reg(minimal) as never) as { spec: unknown };
    assert.deepEqual(out.spec, {
      zone: 'liqo.example.com',
      server: 'ns1.example.com:53',
      tsig: {
        keyName: 'liqo-update',
        algorithm: 'hmac-sha256',
        secretRef: { name: 'liqo-dns-tsig', namespace: 'liqo', key: 'secret' },
      },
      ttl: 60,
      layouts: ['bare', 'dns-sd'],
      browseDomains: false,
      refreshIntervalSeconds: 300,
      enabled: true,
    });
    const bySchema = withSchemaDefaults('DNSRegistration', reg(minimal)) as { spec: Record<string, unknown> };
    // the schema cannot rewrite server nor default the namespace (the webhook does both)
    const { server: _s, tsig: _t, ...rest } = out.spec as Record<string, unknown>;
    const { server: _s2, tsig: _t2, ...schemaRest } = bySchema.spec;
    assert.deepEqual(schemaRest, rest);
    assert.deepEqual(dnsRegistrationRules.validate(out as never, undefined), { errors: [], warnings: [] });
    assert.deepEqual(schemaViolations('DNSRegistration', out), []);
  });

  it('keeps what is set, and never mutates its input', () => {
    const input = reg({
      ...minimal,
      server: '[2001:db8::1]:5353',
      ttl: 5,
      layouts: ['dns-sd'],
      enabled: false,
    });
    const copy = structuredClone(input);
    const out = dnsRegistrationRules.applyDefaults(input as never) as { spec: Record<string, unknown> };
    assert.deepEqual(input, copy);
    assert.equal(out.spec['server'], '[2001:db8::1]:5353');
    assert.deepEqual([out.spec['ttl'], out.spec['layouts'], out.spec['enabled']], [5, ['dns-sd'], false]);
  });

  it('reads servers as host and port', () => {
    const ok = (s: string) => {
      const p = parseDnsServer(s);
      assert.ok(p.ok, s);
      return p.server;
    };
    assert.deepEqual(ok('127.0.0.1:5300'), { host: '127.0.0.1', port: 5300 });
    assert.deepEqual(ok('ns1.example.com.'), { host: 'ns1.example.com', port: 53 });
    assert.deepEqual(ok('2001:db8::1'), { host: '2001:db8::1', port: 53 });
    assert.deepEqual(ok('[::1]:53'), { host: '::1', port: 53 });
    for (const bad of ['', 'ns1:0', 'ns1:70000', 'ns_1.example', '[nope]:53', 'a..b', '1.2.3:53', 'ns1:x']) {
      assert.equal(parseDnsServer(bad).ok, false, bad);
    }
  });

  it('names the field and what is accepted for each bad value', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...minimal, zone: undefined }, /^spec\.zone: is required/],
      [{ ...minimal, zone: 'bad..zone' }, /^spec\.zone: "bad\.\.zone" has an empty label/],
      [{ ...minimal, zone: 'clusters.local' }, /^spec\.zone: .*mDNS-only/],
      [
        { ...minimal, server: 'ns1:99999' },
        /^spec\.server: "ns1:99999" has port "99999".*accepted: host:port/,
      ],
      [{ ...minimal, tsig: undefined }, /^spec\.tsig: is required/],
      [
        { ...minimal, tsig: { ...minimal.tsig, algorithm: 'hmac-md5' } },
        /^spec\.tsig\.algorithm: "hmac-md5" is not one of .*hmac-sha256/,
      ],
      [
        { ...minimal, tsig: { keyName: 'k', secretRef: { name: 'Bad_Name' } } },
        /^spec\.tsig\.secretRef\.name: "Bad_Name"/,
      ],
      [{ ...minimal, tsig: { keyName: 'k' } }, /^spec\.tsig\.secretRef: is required/],
      [{ ...minimal, instance: 'two.labels' }, /^spec\.instance: "two\.labels" is not one DNS label/],
      [{ ...minimal, authUrl: 'http://x.example' }, /^spec\.authUrl: /],
      [{ ...minimal, ttl: 0 }, /^spec\.ttl: 0 is out of range \(accepted: a whole number from 1 to 86400\)/],
      [{ ...minimal, layouts: [] }, /^spec\.layouts: is empty/],
      [{ ...minimal, layouts: ['bare', 'bare'] }, /^spec\.layouts\[1\]: "bare" is listed twice/],
      [{ ...minimal, layouts: ['srv'] }, /^spec\.layouts\[0\]: "srv" is not one of/],
      [{ ...minimal, enabled: 'yes' }, /^spec\.enabled: must be true or false/],
      [
        { ...minimal, refreshIntervalSeconds: 60, leaseSeconds: 60 },
        /^spec\.leaseSeconds: 60 is not longer than refreshIntervalSeconds \(60\)/,
      ],
    ];
    for (const [spec, pattern] of cases) {
      const lines = errorLines(reg(spec));
      assert.equal(lines.length, 1, `${JSON.stringify(spec)}: ${lines.join(' | ')}`);
      assert.match(lines[0]!, pattern);
    }
    assert.match(errorLines({})[0]!, /^spec: is required/);
    assert.match(errorLines(42)[0]!, /must be a DNSRegistration object/);
  });

  it('the CRD schema (types, enums, bounds; CEL is checked by the API server) refuses the same', () => {
    for (const spec of [
      { ...minimal, layouts: [] },
      { ...minimal, ttl: 0 },
      { ...minimal, tsig: { ...minimal.tsig, algorithm: 'hmac-md5' } },
    ]) {
      assert.notDeepEqual(schemaViolations('DNSRegistration', reg(spec)), [], JSON.stringify(spec));
    }
  });

  it('warns about a Secret outside the Liqo namespace and unknown fields', () => {
    const { errors, warnings } = dnsRegistrationRules.validate(
      reg({
        ...minimal,
        tsig: { ...minimal.tsig, secretRef: { name: 's', namespace: 'kube-system' } },
        color: 1,
      }) as never,
      undefined,
    );
    assert.deepEqual(errors, []);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /reads Secrets only in its own namespace \(liqo\)/);
    assert.match(warnings[1]!, /spec\.color is not a DNSRegistration field/);
  });

  it('the lease is three refresh intervals unless set', () => {
    assert.equal(effectiveLeaseSeconds({}), 900);
    assert.equal(effectiveLeaseSeconds({ refreshIntervalSeconds: 10 }), 30);
    assert.equal(effectiveLeaseSeconds({ refreshIntervalSeconds: 10, leaseSeconds: 11 }), 11);
  });
});
