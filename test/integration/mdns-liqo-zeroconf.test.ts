// Interop with the REAL mDNS library Liqo v0.2 used (grandcat/zeroconf replaced by Liqo's fork
// liqotech/zeroconf v1.0.1-0.20201020081245-6384f3f21ffb), driven by the Go test driver in
// test/interop/liqo-zeroconf, on a namespace LAN (TESTING.md's network rule): our browser finds
// a service the library registers the way Liqo v0.2 does and sees its goodbye; the library's
// browser finds our advertiser. mdns.test.ts covers the same against our emulator of Liqo.
import assert from 'node:assert/strict';
import type { MdnsPeer } from '../../shared/lookup/types.js';
import { goBinary } from '../harness/binaries.js';
import {
  buildLiqoZeroconf,
  startZeroconfBrowser,
  startZeroconfRegistrant,
  type ZeroconfEntry,
} from '../helpers/liqo-zeroconf.js';
import { createLan, tsxCommand, type JsonLinesChild, type NetnsLan } from '../helpers/netns.js';

const BROWSE = 'test/helpers/mdns-browse.ts';
const ADVERTISE = 'test/helpers/mdns-advertise.ts';
const LIQO_SERVICE = '_liqo_auth._tcp.local';

async function ready(child: JsonLinesChild, what: string): Promise<Record<string, unknown>> {
  const msg = await child.waitFor(
    (m) => m.event === 'ready' || m.event === 'started' || m.event === 'error',
    10000,
  );
  assert.notEqual(msg.event, 'error', `${what} failed: ${String(msg.message)}`);
  return msg;
}

describe('mDNS interop with Liqo v0.2 real zeroconf library', function () {
  this.timeout(60000);
  let binary: string;
  let lan: NetnsLan;

  before(async function () {
    // Without Go the driver cannot be built: skip, saying so (the build needs `go`, and the first
    // one fetches the zeroconf fork and its dependencies through the Go module proxy).
    if (!goBinary()) {
      console.log('      (skipped: Go is not installed, so the Liqo zeroconf driver cannot be built)');
      this.skip();
    }
    this.timeout(300000); // a cold build downloads modules and compiles; warm, it is reused
    binary = await buildLiqoZeroconf();
    lan = await createLan(3); // h0: the zeroconf library, h1: our advertiser, h2: our browser
  });

  after(async () => {
    await lan?.teardown();
  });

  it('our browser finds a service the library registers as Liqo v0.2 does (_liqo_auth._tcp, no TXT)', async () => {
    const h0 = lan.hosts[0]!;
    const h2 = lan.hosts[2]!;
    const clusterId = '3b1f6d2e-8a4c-4e7b-9f10-2c3d4e5f6a01';
    const port = 31443;
    const registrant = startZeroconfRegistrant(lan, h0, binary, { clusterId, port, ttl: 90 });
    const registered = await ready(registrant, 'zeroconf.Register');
    const browser = lan.spawnJson(h2, tsxCommand(BROWSE, JSON.stringify({ mode: 'once' })));
    const done = await browser.waitFor((m) => m.event === 'done' || m.event === 'error');
    assert.equal(done.event, 'done', `browse failed: ${String(done.message)}`);
    const peers = (done.peers as MdnsPeer[]).filter((p) => p.instance === clusterId);
    assert.equal(peers.length, 1, `expected one peer for ${clusterId}; got ${JSON.stringify(done.peers)}`);
    const peer = peers[0]!;
    assert.equal(peer.serviceType, LIQO_SERVICE, 'found under _liqo_auth._tcp only');
    assert.equal(peer.clusterId, clusterId, 'cluster id taken from the instance label');
    assert.equal(peer.port, port);
    assert.deepEqual(peer.txt, {}, 'Liqo v0.2 registers a nil TXT: no keys');
    assert.equal(peer.clusterName, undefined);
    // the library takes os.Hostname() (shared by every namespace) and appends .local.
    assert.equal(peer.host, `${String(registered.hostname)}.local`);
    assert.equal(peer.authUrl, `https://${h0.address}:${port}`);
    // the library also advertises the interface's global IPv6 address (AAAA, TTL 120)
    assert.deepEqual([...peer.addresses].sort(), [h0.address, h0.address6].sort());
    assert.ok(peer.authUrls.includes(`https://[${h0.address6}]:${port}`), peer.authUrls.join(' '));
    assert.equal(peer.ttl, 90, 'the TTL Liqo passes to Register is on the PTR');
    registrant.send('stop');
    await registrant.waitFor((m) => m.event === 'stopped');
  });

  it("the library's browser finds our advertiser under _liqo_auth._tcp with our port and address", async () => {
    const h0 = lan.hosts[0]!;
    const h1 = lan.hosts[1]!;
    const ours = { clusterId: '9c8b7a65-4d3e-4f21-8a0b-1c2d3e4f5a02', clusterName: 'ours', port: 32443 };
    const advertiser = lan.spawnJson(h1, tsxCommand(ADVERTISE, JSON.stringify(ours)));
    const started = await ready(advertiser, 'our advertiser');
    for (const service of ['_liqo_auth._tcp', '_liqo._tcp']) {
      const browser = startZeroconfBrowser(lan, h0, binary, service);
      await ready(browser, `zeroconf Browse ${service}`);
      // The library queries at once (twice), then after 4 s +-50 %. When those first queries
      // come within 1 s of our announcement of the same PTR, RFC 6762 section 6 forbids
      // multicasting it again, so the answer waits for the library's next query (up to ~6 s).
      const entry = (await browser.waitFor(
        (m) => m.event === 'entry' && m.instance === ours.clusterId,
        15000,
      )) as unknown as ZeroconfEntry;
      assert.equal(entry.service, service);
      assert.equal(entry.port, ours.port);
      assert.deepEqual(entry.ipv4, [h1.address], `${service}: the library found our IPv4 address`);
      assert.equal(entry.hostname, `${String(started.hostname)}.local.`);
      assert.deepEqual([...entry.text].sort(), [
        `id=${ours.clusterId}`,
        `name=${ours.clusterName}`,
        'txtvers=1',
      ]);
      // entry.TTL is the TTL of the last PTR/SRV/TXT the library parsed; Liqo v0.2 stores it
      // as the ForeignCluster's status.ttl, so it must be a positive lifetime
      assert.ok(entry.ttl > 0, `entry TTL ${entry.ttl}`);
      browser.send('stop');
      await browser.waitExit();
    }
    advertiser.send('stop');
    await advertiser.waitFor((m) => m.event === 'stopped');
  });

  it("our continuous browser reports the library's registrant removed when it says goodbye", async () => {
    const h0 = lan.hosts[0]!;
    const h2 = lan.hosts[2]!;
    const clusterId = '5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928103';
    const browser = lan.spawnJson(h2, tsxCommand(BROWSE, JSON.stringify({ mode: 'continuous' })));
    await ready(browser, 'our continuous browser');
    const registrant = startZeroconfRegistrant(lan, h0, binary, { clusterId, port: 33443, ttl: 90 });
    await ready(registrant, 'zeroconf.Register');
    const matches = (event: string) => (m: Record<string, unknown>) =>
      m.event === event &&
      (m.peer as MdnsPeer).instance === clusterId &&
      (m.peer as MdnsPeer).serviceType === LIQO_SERVICE;
    const added = (await browser.waitFor(matches('added'), 60_000)).peer as MdnsPeer;
    assert.equal(added.authUrl, `https://${h0.address}:33443`);
    // SIGTERM, as Kubernetes stops Liqo's discovery pod: the library's Shutdown sends TTL 0
    assert.ok(!browser.messages.some(matches('removed')), 'removed before the goodbye');
    process.kill(registrant.child.pid!, 'SIGTERM');
    await registrant.waitFor((m) => m.event === 'stopped');
    assert.equal(await registrant.waitExit(), 0);
    // RFC 6762 §10.1: a goodbye ends the record one second later. The only bound on the wait is
    // this test's mocha timeout (60 s), below the record's TTL of 90 s: so the removal can only
    // have come from the goodbye, not from the TTL running out.
    const removed = (await browser.waitFor(matches('removed'), 60_000)).peer as MdnsPeer;
    assert.equal(removed.instance, clusterId);
    browser.send('stop');
    await browser.waitExit();
  });
});
