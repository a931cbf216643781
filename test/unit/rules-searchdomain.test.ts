// SearchDomain defaulting and validation (SPEC §1, §4).
import assert from 'node:assert/strict';
import { defaultSearchDomain, formatFieldError, validateSearchDomain } from '../../shared/rules/index.js';

function sd(spec: unknown, name = 'example.com'): Record<string, unknown> {
  return { apiVersion: 'discovery.liqo.io/v1alpha1', kind: 'SearchDomain', metadata: { name }, spec };
}
const errorLines = (obj: unknown): string[] => validateSearchDomain(obj).errors.map(formatFieldError);

describe('rules: SearchDomain', () => {
  it("accepts the guide's example as it is", () => {
    const guide = sd({ domain: 'example.com', autojoin: true });
    assert.deepEqual(defaultSearchDomain(guide), guide);
    assert.deepEqual(validateSearchDomain(guide), { errors: [], warnings: [] });
  });

  it('defaults autojoin to false, and only autojoin', () => {
    const input = sd({ domain: 'example.com' });
    const out = defaultSearchDomain(input);
    assert.deepEqual(out, sd({ domain: 'example.com', autojoin: false }));
    assert.deepEqual(input, sd({ domain: 'example.com' }), 'input not mutated');
    assert.deepEqual(defaultSearchDomain(sd({ domain: 'x.example', autojoin: null })).spec, {
      domain: 'x.example',
      autojoin: false,
    });
    assert.deepEqual(defaultSearchDomain(sd('oops')), sd('oops'));
  });

  const goodDomains = [
    'example.com',
    'example.com.',
    'Example.COM',
    'a',
    'clusters.example.co.uk',
    '_liqo._tcp.example.com',
    'x-1.example',
    '10.in-addr.arpa',
    `${'a'.repeat(63)}.com`,
  ];
  for (const domain of goodDomains) {
    it(`accepts domain ${domain}`, () =>
      assert.deepEqual(errorLines(defaultSearchDomain(sd({ domain }, 'n'))), []));
  }

  const badDomains: [unknown, RegExp][] = [
    ['', /^spec\.domain: "" is empty \(accepted: a DNS name such as example\.com/],
    ['.', /only the root/],
    ['example..com', /empty label/],
    ['.example.com', /empty label/],
    ['-x.example.com', /starts or ends with '-'/],
    ['exa mple.com', /characters other than letters, digits, '-' and '_'/],
    ['https://example.com', /characters other than/],
    ['*.example.com', /characters other than/],
    [`${'a'.repeat(64)}.com`, /label of 64 characters/],
    [`${'abcdefghi.'.repeat(26)}com`, /at most 253/],
    ['192.168.1.1', /is an IP address, not a DNS domain/],
    ['10.0.0.1.', /is an IP address/],
    [42, /^spec\.domain: must be a string, got 42/],
    [undefined, /^spec\.domain: is required/],
  ];
  for (const [domain, expected] of badDomains) {
    it(`refuses domain ${JSON.stringify(domain)}`, () => {
      const lines = errorLines(sd(domain === undefined ? {} : { domain }));
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(lines[0] ?? '', expected);
    });
  }

  it('accepts a DNS name of exactly 253 characters, with or without the trailing dot', () => {
    const name = `${'abcdefghi.'.repeat(24)}${'a'.repeat(12)}`;
    assert.equal(name.length, 252);
    assert.deepEqual(errorLines(sd({ domain: `${name}b` })), []);
    assert.deepEqual(errorLines(sd({ domain: `${name}b.` })), []);
  });

  it('checks autojoin and the shape of spec', () => {
    assert.deepEqual(errorLines(sd({ domain: 'example.com', autojoin: 'true' })), [
      'spec.autojoin: must be true or false, got "true" (accepted: true or false)',
    ]);
    assert.match(errorLines(sd(null))[0] ?? '', /^spec: is required/);
    assert.match(errorLines(sd([]))[0] ?? '', /^spec: must be an object, got a list/);
    assert.match(errorLines(7)[0] ?? '', /^\(object\): must be a SearchDomain object/);
  });

  it('warns when the name differs from the domain, but not for case or the trailing dot', () => {
    assert.deepEqual(validateSearchDomain(sd({ domain: 'example.com' }, 'other')).warnings, [
      'metadata.name "other" differs from spec.domain "example.com"',
    ]);
    assert.deepEqual(validateSearchDomain(sd({ domain: 'Example.com.' }, 'example.com')).warnings, []);
  });

  it('warns that .local is an mDNS domain', () => {
    assert.deepEqual(validateSearchDomain(sd({ domain: 'office.local' }, 'office.local')).warnings, [
      'spec.domain "office.local" is mDNS-only (.local); SearchDomains use unicast DNS',
    ]);
  });
});
