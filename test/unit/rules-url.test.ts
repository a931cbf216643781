// The shape rules of authUrl and its normalisation (SPEC §4).
import assert from 'node:assert/strict';
import { AUTH_URL_ACCEPTED, checkAuthUrl, normaliseAuthUrl, parseAuthUrl } from '../../shared/rules/index.js';

describe('rules: authUrl shape', () => {
  const malformed: [string, RegExp][] = [
    ['', /is empty/],
    ['192.168.1.10:30740', /not an absolute URL/],
    ['https:192.168.1.10', /not an absolute URL/],
    ['https:/192.168.1.10', /not an absolute URL/],
    ['http://192.168.1.10:30740', /scheme "http"; only https/],
    ['ftp://example.com', /scheme "ftp"/],
    ['https://', /has no host/],
    ['https://:30740', /has no host/],
    ['https://[]:443', /has no host/],
    ['https://example.com:99999', /port "99999", outside 1-65535/],
    ['https://example.com:65536', /port "65536", outside 1-65535/],
    ['https://example.com:0', /port "0", outside 1-65535/],
    ['https://example.com:', /port "", which is not a number/],
    ['https://example.com:80a', /port "80a", which is not a number/],
    ['https://example.com:-1', /not a number/],
    ['https://user@example.com', /user info/],
    ['https://user:secret@example.com:443', /user info/],
    ['https://example.com/?a=b', /has a query/],
    ['https://example.com?', /has a query/],
    ['https://example.com#top', /has a fragment/],
    ['https://example.com/ids', /has the path "\/ids"; give the base URL/],
    ['https://example.com//', /has the path "\/\/"/],
    ['https://example.com/auth/', /has the path/],
    [' https://example.com', /whitespace/],
    ['https://example.com ', /whitespace/],
    ['https://exa mple.com', /whitespace/],
    ['https://example.com\n', /whitespace/],
    ['https:\\\\example.com', /backslash/],
    ['https://::1', /IPv6 address without brackets/],
    ['https://fe80::1:443', /IPv6 address without brackets/],
    ['https://[::1', /without a closing "]"/],
    ['https://[::1]x', /after the IPv6 address/],
    ['https://[fe80::1%25eth0]', /not a valid host/],
    ['https://[not-ipv6]', /not a valid host/],
    ['https://999.1.1.1', /not a valid host/],
    ['https://1.2.3.4.5', /not a valid host/],
    ['https://example.com..', /empty label/],
    ['https://.example.com', /empty label/],
    ['https://a..b', /empty label/],
    ['https://.', /only the root/],
    ['https://-bad.example.com', /starts or ends with '-'/],
    ['https://bad-.example.com', /starts or ends with '-'/],
    ['https://under_score.example.com', /characters other than letters, digits and '-'/],
    ['https://*.example.com', /characters other than/],
    [`https://${'a'.repeat(64)}.com`, /label of 64 characters/],
    [`https://${'abcdefghi.'.repeat(26)}com`, /characters long; a DNS name has at most 253/],
    [`https://example.com/${'x'.repeat(2100)}`, /at most 2048/],
  ];
  for (const [url, expected] of malformed) {
    it(`refuses ${JSON.stringify(url.length > 60 ? `${url.slice(0, 57)}...` : url)}`, () => {
      const check = checkAuthUrl(url);
      assert.equal(check.problems.length, 1, `accepted: ${url}`);
      assert.match(check.problems[0]?.message ?? '', expected);
      assert.equal(check.problems[0]?.accepted, AUTH_URL_ACCEPTED);
    });
  }

  const wellFormed = [
    'https://192.168.1.10:30740',
    'https://192.168.1.10:30740/',
    'https://auth.example.com',
    'https://auth.example.com.:443',
    'HTTPS://Auth.Example.COM:8443',
    'https://[fd00::10]:30740',
    'https://xn--bcher-kva.example:1',
    'https://bücher.example:65535',
    'https://1e3.example.com', // digits and letters: a name, not an IPv4 number
  ];
  for (const url of wellFormed) {
    it(`accepts ${url}`, () => assert.deepEqual(checkAuthUrl(url).problems, []));
  }

  it('reads the port, 443 when none is written, and the /ids target from the same parse', () => {
    const parsed = parseAuthUrl('https://Example.com');
    assert.equal(parsed.ok, true);
    if (!parsed.ok) return;
    assert.equal(parsed.url.host, 'example.com');
    assert.equal(parsed.url.hostAsWritten, 'Example.com');
    assert.equal(parsed.url.port, 443);
    assert.deepEqual(
      { ...parsed.url.idsTarget },
      { url: 'https://example.com:443/ids', host: 'example.com', port: 443, path: '/ids' },
    );
    const withPort = parseAuthUrl('https://example.com:0443');
    assert.equal(withPort.ok && withPort.url.port, 443);
    const v6 = parseAuthUrl('https://[FD00::10]:30740/');
    assert.equal(v6.ok && v6.url.idsTarget.host, 'fd00::10', 'IPv6 without brackets for connecting');
  });
});

describe('rules: authUrl normalisation', () => {
  const cases: [string, string][] = [
    ['HTTPS://Example.COM:30740', 'https://example.com:30740'],
    ['https://auth.example.com.', 'https://auth.example.com:443'],
    ['https://auth.example.com./', 'https://auth.example.com:443'],
    ['https://192.168.1.10:30740/', 'https://192.168.1.10:30740'],
    ['https://example.com:443', 'https://example.com:443'], // the port is always written
    ['https://example.com', 'https://example.com:443'], // 443 when none was
    ['https://example.com:0443', 'https://example.com:443'],
    ['https://0x0a000001:30740', 'https://10.0.0.1:30740'],
    ['https://167772161', 'https://10.0.0.1:443'],
    ['https://10.1', 'https://10.0.0.1:443'],
    ['https://[FD00:0:0:0:0:0:0:10]:30740', 'https://[fd00::10]:30740'],
    ['https://[::ffff:192.168.1.10]', 'https://[::ffff:c0a8:10a]:443'],
    ['https://bücher.example', 'https://xn--bcher-kva.example:443'],
    ['https://LOCALHOST.', 'https://localhost:443'], // still refused, but spelt plainly
  ];
  for (const [raw, expected] of cases) {
    it(`${raw} -> ${expected}`, () => {
      assert.equal(normaliseAuthUrl(raw), expected);
      assert.equal(normaliseAuthUrl(expected), expected, 'normalising twice changes nothing');
    });
  }

  it('leaves a malformed URL exactly as written, so the error quotes it', () => {
    for (const raw of [
      'HTTP://Example.com',
      'https://example.com..',
      'https://Example.com/ids',
      ' https://x',
      'https://x:99999',
    ]) {
      assert.equal(normaliseAuthUrl(raw), raw);
    }
  });
});
