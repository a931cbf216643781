// Interoperability with Avahi (Debian avahi-daemon/avahi-utils, a real mDNS stack we did not
// write), on a namespace LAN: Avahi's browser must list our advertiser resolved, and our
// browser must find a service Avahi publishes.
import assert from 'node:assert/strict';
import type { MdnsPeer } from '../../shared/lookup/types.js';
import { parseAvahiBrowse, startAvahi, type AvahiInstance } from '../helpers/avahi.js';
import { createLan, tsxCommand, type NetnsLan } from '../helpers/netns.js';

describe('mDNS interop with Avahi', function () {
  this.timeout(60000);
  let lan: NetnsLan;
  let avahi: AvahiInstance;
  const ours = { clusterId: '7d3c9a10-2b4e-4f6a-8c1d-9e0f1a2b3c4d', clusterName: 'ours', port: 6443 };

  before(async () => {
    lan = await createLan(3); // h0: Avahi, h1: our advertiser, h2: our browser
    avahi = await startAvahi(lan, lan.hosts[0]!);
    const advertiser = lan.spawnJson(
      lan.hosts[1]!,
      tsxCommand('test/helpers/mdns-advertise.ts', JSON.stringify(ours)),
    );
    const msg = await advertiser.waitFor((m) => m.event === 'started' || m.event === 'error');
    assert.equal(msg.event, 'started', String(msg.message));
  });

  after(async () => {
    await lan?.teardown();
    avahi?.cleanup();
  });

  for (const type of ['_liqo._tcp', '_liqo_auth._tcp']) {
    it(`avahi-browse -rtp ${type} lists our advertiser resolved`, async () => {
      const { stdout } = await lan.exec(lan.hosts[0]!, avahi.clientCommand(['avahi-browse', '-rtp', type]));
      const services = parseAvahiBrowse(stdout).filter(
        (s) => s.name === ours.clusterId && s.protocol === 'IPv4',
      );
      assert.equal(services.length, 1, `not resolved by Avahi:\n${stdout}`);
      const service = services[0]!;
      assert.equal(service.type, type);
      assert.equal(service.host, `liqo-${ours.clusterId}.local`);
      assert.equal(service.address, lan.hosts[1]!.address);
      assert.equal(service.port, ours.port);
      assert.deepEqual([...service.txt].sort(), ['id=' + ours.clusterId, 'name=ours', 'txtvers=1']);
    });
  }

  it('our browser finds a service published with avahi-publish', async () => {
    const publish = lan.spawnJson(
      lan.hosts[0]!,
      avahi.clientCommand([
        'avahi-publish',
        '-s',
        'Avahi Cluster',
        '_liqo._tcp',
        '7443',
        'id=avahi-cluster-id',
        'name=av',
      ]),
    );
    const until = Date.now() + 10000;
    while (!publish.stderrLines.some((l) => l.includes('Established'))) {
      assert.ok(
        Date.now() < until && !publish.exited,
        `avahi-publish failed: ${publish.stderrLines.join(' | ')}`,
      );
      await new Promise((r) => setTimeout(r, 25));
    }
    const browser = lan.spawnJson(
      lan.hosts[2]!,
      tsxCommand('test/helpers/mdns-browse.ts', '{"mode":"once"}'),
    );
    const done = await browser.waitFor((m) => m.event === 'done' || m.event === 'error');
    const peer = (done.peers as MdnsPeer[]).find((p) => p.instance === 'Avahi Cluster');
    assert.ok(peer, `not found; got ${JSON.stringify(done)}`);
    assert.equal(peer.serviceType, '_liqo._tcp.local');
    assert.equal(peer.clusterId, 'avahi-cluster-id');
    assert.equal(peer.clusterName, 'av');
    assert.equal(peer.port, 7443);
    assert.equal(peer.authUrl, `https://${lan.hosts[0]!.address}:7443`);
    assert.equal(peer.host, `avahi-${lan.hosts[0]!.ns}.local`);
  });
});
