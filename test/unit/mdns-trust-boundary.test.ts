// The LAN trust boundary's pure parts (SPEC §"Security", RFC 6762 §11): which interfaces carry a
// default route (read from the kernel's routing-table text), which names are container
// networking's, and what a packet source / an advertised address must be to count. The
// namespace-LAN behaviour is in test/integration/mdns-trust-boundary.test.ts.
import assert from 'node:assert/strict';
import { defaultRouteInterfaces, isContainerInterface } from '../../shared/lookup/mdns/interfaces.js';
import type { MdnsEndpoint } from '../../shared/lookup/mdns/sockets.js';
import { advertisedAddressVerdict, sourceOnLink } from '../../shared/lookup/mdns/trust.js';

const ROUTE = [
  'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
  'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
  'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
  'cni0\t00000000\t00000000\t0001\t0\t0\t200\t00000000\t0\t0\t0',
  'eth9\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0', // unreachable
];
const IPV6_ROUTE = [
  'fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0',
  '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth1',
  '00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo',
];

const eth0v4: MdnsEndpoint = {
  name: 'eth0',
  family: 'IPv4',
  socketInterface: '192.168.1.10',
  addresses: ['192.168.1.10', 'fd00:1::10'],
  cidrs: ['192.168.1.10/24'],
  linkCidrs: ['192.168.1.10/24', 'fd00:1::10/64'],
  loopback: false,
};
const eth0v6: MdnsEndpoint = {
  ...eth0v4,
  family: 'IPv6',
  socketInterface: '::%eth0',
  cidrs: ['fd00:1::10/64'],
};

describe('mDNS trust boundary', () => {
  it('reads the default-route interfaces of both families, skipping reject routes and lo', () => {
    assert.deepEqual(defaultRouteInterfaces(ROUTE, IPV6_ROUTE), ['eth0', 'cni0', 'eth1']);
    assert.deepEqual(defaultRouteInterfaces([], []), []);
  });

  it('knows container bridges and veths by name, and only those', () => {
    for (const name of [
      'cni0',
      'docker0',
      'cali1a2b3c',
      'flannel.1',
      'veth12ab',
      'cilium_host',
      'lxc9f',
      'br-0123456789ab',
      'kube-ipvs0',
    ]) {
      assert.ok(isContainerInterface(name), name);
    }
    for (const name of ['eth0', 'ens3', 'enp0s31f6', 'wlan0', 'bond0', 'br0', 'eno1']) {
      assert.ok(!isContainerInterface(name), name);
    }
  });

  it('takes a packet only from a source on the receiving interface subnet (IPv6: link-local on it)', () => {
    assert.ok(sourceOnLink(eth0v4, '192.168.1.20'));
    assert.ok(!sourceOnLink(eth0v4, '192.168.2.20'));
    assert.ok(!sourceOnLink(eth0v4, '10.77.0.5'));
    assert.ok(sourceOnLink(eth0v6, 'fd00:1::20'));
    assert.ok(sourceOnLink(eth0v6, 'fe80::1%eth0'));
    assert.ok(!sourceOnLink(eth0v6, 'fe80::1%cni0'));
    assert.ok(!sourceOnLink(eth0v6, '2001:db8::1'));
  });

  it('keeps an advertised address only if on-link and allowed by the address policy', () => {
    assert.equal(advertisedAddressVerdict(eth0v4, '192.168.1.20'), undefined);
    assert.equal(advertisedAddressVerdict(eth0v6, 'fd00:1::20'), undefined);
    assert.equal(advertisedAddressVerdict(eth0v4, '10.99.0.5'), 'off_link_address');
    assert.equal(advertisedAddressVerdict(eth0v4, '169.254.169.254'), 'forbidden_address');
    assert.equal(advertisedAddressVerdict(eth0v4, '127.0.0.1'), 'forbidden_address');
    assert.equal(advertisedAddressVerdict(eth0v4, '224.0.0.251'), 'forbidden_address');
    assert.equal(advertisedAddressVerdict(eth0v6, '::ffff:169.254.169.254'), 'forbidden_address');
    assert.equal(advertisedAddressVerdict(eth0v6, 'fe80::1'), 'ignored_link_local');
    // on the loopback interface itself (a host with nothing else), loopback is the link
    const lo: MdnsEndpoint = {
      ...eth0v4,
      name: 'lo',
      cidrs: ['127.0.0.1/8'],
      linkCidrs: ['127.0.0.1/8'],
      loopback: true,
    };
    assert.equal(advertisedAddressVerdict(lo, '127.0.0.1'), undefined);
  });
});
