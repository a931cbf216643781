// The advertiser's probes on the wire (RFC 6762 §8.1), heard by a plain socket on another host
// of a namespace LAN: three probes 250 ms apart, the first asking for unicast replies (QU bit),
// the others not, each for the instance and host names it is about to claim. And §8.4: when the
// host's address changes, it probes and announces again, and a browser follows it.
import assert from 'node:assert/strict';
import { createLan, tsxCommand, type NetnsLan } from '../helpers/netns.js';

describe('mDNS probing on the wire', function () {
  this.timeout(60_000);
  let lan: NetnsLan;

  before(async () => {
    lan = await createLan(2);
  });
  after(async () => {
    await lan?.teardown();
  });

  it('sends three probes, the first with the QU bit on every question, the others without', async () => {
    const [sniffHost, advertiseHost] = lan.hosts;
    const sniffer = lan.spawnJson(
      sniffHost!,
      tsxCommand('test/helpers/mdns-sniff.ts', JSON.stringify({ interface: sniffHost!.address })),
    );
    await sniffer.waitFor((m) => m.event === 'ready');
    const clusterId = 'probe-qu-0001';
    const advertiser = lan.spawnJson(
      advertiseHost!,
      tsxCommand('test/helpers/mdns-advertise.ts', JSON.stringify({ clusterId, port: 6443 })),
    );
    await advertiser.waitFor((m) => m.event === 'started');
    const probes = sniffer.messages.filter(
      (m) => m.event === 'probe' && m.from === advertiseHost!.address,
    ) as { names: string[]; qu: boolean[] }[];
    assert.equal(probes.length, 3, JSON.stringify(probes));
    const [first, ...rest] = probes;
    assert.ok(first!.qu.length > 0 && first!.qu.every(Boolean), `first probe: ${JSON.stringify(first)}`);
    for (const probe of rest)
      assert.ok(
        probe.qu.every((bit) => !bit),
        `later probe: ${JSON.stringify(probe)}`,
      );
    assert.ok(first!.names.includes(`${clusterId}._liqo._tcp.local`), first!.names.join(' '));
    assert.ok(first!.names.includes(`liqo-${clusterId}.local`), first!.names.join(' '));
    advertiser.send('stop');
    await advertiser.waitFor((m) => m.event === 'stopped');
    sniffer.child.kill('SIGTERM');
  });

  it('probes and announces again when its address changes; a browser sees the new address (§8.4)', async () => {
    const [browseHost, advertiseHost] = lan.hosts;
    const browser = lan.spawnJson(
      browseHost!,
      tsxCommand(
        'test/helpers/mdns-browse.ts',
        JSON.stringify({ mode: 'continuous', serviceTypes: ['_liqo._tcp'] }),
      ),
    );
    await browser.waitFor((m) => m.event === 'ready');
    const clusterId = 'moving-host-0001';
    const advertiser = lan.spawnJson(
      advertiseHost!,
      tsxCommand('test/helpers/mdns-advertise.ts', JSON.stringify({ clusterId, port: 6443 })),
    );
    await advertiser.waitFor((m) => m.event === 'started');
    type Peer = { clusterId?: string; addresses: string[]; authUrl: string };
    const ofCluster = (event: string) => (m: Record<string, unknown>) =>
      m.event === event && (m.peer as Peer).clusterId === clusterId;
    const added = (await browser.waitFor(ofCluster('added'))).peer as Peer;
    assert.equal(added.authUrl, `https://${advertiseHost!.address}:6443`);

    const moved = `${lan.subnet}.77`;
    // Old one out first: deleting a primary address also deletes the secondaries of its subnet.
    await lan.exec(advertiseHost!, ['ip', 'addr', 'del', `${advertiseHost!.address}/24`, 'dev', 'eth0']);
    await lan.exec(advertiseHost!, ['ip', 'addr', 'add', `${moved}/24`, 'dev', 'eth0']);
    const updated = (
      await browser.waitFor(
        (m) =>
          ofCluster('updated')(m) &&
          (m.peer as Peer).addresses.includes(moved) &&
          !(m.peer as Peer).addresses.includes(advertiseHost!.address),
        30_000,
      )
    ).peer as Peer;
    assert.equal(updated.authUrl, `https://${moved}:6443`);
    advertiser.send('stop');
    await advertiser.waitFor((m) => m.event === 'stopped');
    browser.send('stop');
  });
});
