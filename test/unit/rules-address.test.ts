// Address rules for authUrl hosts: every spelling of a refused address is refused, private
// LAN addresses are accepted, and loopback can be allowed (with a warning) for sandboxes.
import assert from 'node:assert/strict';
import { canonicalIPv4, checkAuthUrl, classifyHost, judgeHost } from '../../shared/rules/index.js';

function refusal(url: string, allowLoopback = false): string | undefined {
  const check = checkAuthUrl(url, { allowLoopback });
  return check.problems[0]?.message;
}

describe('rules: authUrl address classes', () => {
  const refused: [string, RegExp][] = [
    // loopback, in every spelling
    ['https://127.0.0.1:30740', /loopback/],
    ['https://127.8.9.10', /loopback/],
    ['https://2130706433', /"2130706433" \(read as 127\.0\.0\.1\) is a loopback/],
    ['https://0x7f000001', /read as 127\.0\.0\.1.*loopback/],
    ['https://0x7F.0.0.1', /read as 127\.0\.0\.1.*loopback/],
    ['https://0177.0.0.1', /read as 127\.0\.0\.1.*loopback/],
    ['https://127.1', /read as 127\.0\.0\.1.*loopback/],
    ['https://127.0.1', /read as 127\.0\.0\.1.*loopback/],
    ['https://127.0.0.1.', /loopback/],
    ['https://%31%32%37.0.0.1', /loopback/],
    ['https://[::1]:8443', /loopback/],
    ['https://[0:0:0:0:0:0:0:1]', /loopback/],
    ['https://[::ffff:127.0.0.1]', /IPv6 form of 127\.0\.0\.1, a loopback/],
    ['https://[::ffff:7f00:1]', /IPv6 form of 127\.0\.0\.1, a loopback/],
    ['https://[::ffff:0:7f00:1]', /IPv6 form of 127\.0\.0\.1/],
    ['https://[64:ff9b::127.0.0.1]', /IPv6 form of 127\.0\.0\.1/],
    ['https://localhost', /loopback/],
    ['https://localhost.', /loopback/],
    ['https://LOCALHOST:443', /loopback/],
    ['https://api.localhost', /loopback/],
    ['https://api.localhost.', /loopback/],
    ['https://ip6-localhost', /loopback/],
    // link-local, the cloud metadata address among them
    ['https://169.254.169.254', /link-local/],
    ['https://169.254.1.1:30740', /link-local/],
    ['https://2852039166', /read as 169\.254\.169\.254.*link-local/],
    ['https://0xa9fea9fe', /read as 169\.254\.169\.254.*link-local/],
    ['https://[::ffff:169.254.169.254]', /IPv6 form of 169\.254\.169\.254, a link-local/],
    ['https://[::ffff:a9fe:a9fe]', /link-local/],
    ['https://[fe80::1]', /link-local/],
    ['https://[febf::1]', /link-local/],
    ['https://metadata.google.internal', /link-local/],
    // unspecified
    ['https://0.0.0.0', /unspecified/],
    ['https://0', /read as 0\.0\.0\.0.*unspecified/],
    ['https://0.1.2.3', /unspecified/],
    ['https://[::]', /unspecified/],
    ['https://[::ffff:0.0.0.0]', /unspecified/],
    // multicast and broadcast
    ['https://224.0.0.251', /multicast/],
    ['https://239.255.255.250', /multicast/],
    ['https://3758096635', /read as 224\.0\.0\.251.*multicast/],
    ['https://[ff02::fb]', /multicast/],
    ['https://[ff0e::1]', /multicast/],
    ['https://[::ffff:224.0.0.251]', /multicast/],
    ['https://255.255.255.255', /broadcast/],
    ['https://0xffffffff', /broadcast/],
    // the deprecated IPv4-compatible form
    ['https://[::127.0.0.1]', /IPv4-compatible/],
  ];
  for (const [url, expected] of refused) {
    it(`refuses ${url}`, () => {
      const message = refusal(url);
      assert.ok(message, `${url} was accepted`);
      assert.match(message, expected);
      assert.equal(checkAuthUrl(url).problems[0]?.accepted.includes('not loopback'), true);
    });
  }

  const accepted = [
    'https://10.0.0.1:30740',
    'https://10.255.255.254',
    'https://172.16.0.5:443',
    'https://172.31.255.1',
    'https://192.168.1.10:30740',
    'https://100.64.0.7', // carrier-grade NAT (Tailscale and friends)
    'https://[fc00::1]:8443',
    'https://[fd12:3456:789a::1]',
    'https://[::ffff:192.168.1.10]',
    'https://[2a00:1450:4001:82a::200e]',
    'https://8.8.8.8', // a public address is fine to name (tests never connect to it)
    'https://auth.example.com',
    'https://liqo-auth.liqo.svc.cluster.local:443',
    'https://my-node.local:30740',
    'https://localhost-auth.example.com', // only the name localhost and *.localhost are loopback
  ];
  for (const url of accepted) {
    it(`accepts ${url}`, () => {
      assert.deepEqual(checkAuthUrl(url).problems, []);
    });
  }

  it('allows loopback only when asked, and then warns', () => {
    for (const url of [
      'https://127.0.0.1:8443',
      'https://[::1]',
      'https://localhost',
      'https://2130706433',
      'https://[::ffff:7f00:1]',
    ]) {
      const check = checkAuthUrl(url, { allowLoopback: true });
      assert.deepEqual(check.problems, [], url);
      assert.ok(
        check.warnings.some((w) => /loopback.*allowed only because/.test(w)),
        `${url}: ${check.warnings.join('; ')}`,
      );
    }
    for (const url of [
      'https://169.254.169.254',
      'https://0.0.0.0',
      'https://224.0.0.251',
      'https://[fe80::1]',
    ]) {
      assert.ok(refusal(url, true), `${url} must stay refused with allowLoopback`);
    }
  });

  it('warns about documentation and reserved ranges but accepts them', () => {
    for (const url of [
      'https://192.0.2.10',
      'https://203.0.113.5',
      'https://240.0.0.1',
      'https://[2001:db8::1]',
    ]) {
      const check = checkAuthUrl(url);
      assert.deepEqual(check.problems, [], url);
      assert.ok(
        check.warnings.some((w) => w.includes('reserved')),
        url,
      );
    }
  });

  it('warns when an accepted IPv4 address is written in an unusual form', () => {
    const check = checkAuthUrl('https://0x0a000001:30740');
    assert.deepEqual(check.problems, []);
    assert.deepEqual(check.warnings, ['host "0x0a000001" is an unusual spelling of 10.0.0.1']);
  });

  it('classifies bare hosts and IPv4 spellings directly', () => {
    assert.equal(canonicalIPv4('0177.0.0.1'), '127.0.0.1');
    assert.equal(canonicalIPv4('127.1'), '127.0.0.1');
    assert.equal(canonicalIPv4('example.com'), undefined);
    assert.equal(canonicalIPv4('1.2.3.4.5'), undefined);
    assert.deepEqual(classifyHost('::ffff:7f00:1'), {
      kind: 'ipv6',
      addressClass: 'loopback',
      embeddedIPv4: '127.0.0.1',
    });
    assert.deepEqual(classifyHost('0x7f000001'), { kind: 'ipv4', addressClass: 'loopback' });
    assert.deepEqual(classifyHost('10.1.2.3'), { kind: 'ipv4', addressClass: 'private' });
    assert.deepEqual(classifyHost('LocalHost.'), { kind: 'name', addressClass: 'loopback' });
    assert.deepEqual(classifyHost('example.com'), { kind: 'name', addressClass: 'unicast' });
    assert.match(judgeHost('fe80::1').refusal ?? '', /^host "fe80::1" is a link-local address/);
  });
});
