// RFC 6762 §9: a conflict seen after the advertiser has announced. A host that never probes
// (here our stand-in for Liqo v0.2's announcer, test/helpers/liqo-v02-advertiser.ts, which like
// Liqo's library ignores probe queries) announces our instance name under `_liqo_auth._tcp`
// with other SRV data. Our advertiser must notice, probe its names again (three probes, heard
// by a sniffer on a third host), and, since nobody answers those probes, keep its names and
// announce them again; a browser then still finds it where it is. Inside namespaces only.
import assert from 'node:assert/strict';
import type { MdnsPeer } from '../../shared/lookup/types.js';
import { createLan, tsxCommand, type NetnsLan } from '../helpers/netns.js';

type Heard = { event: string; t: number; from: string; names?: string[]; authorities?: number };

describe('mDNS advertiser: a conflict after announcing (RFC 6762 §9)', function () {
  this.timeout(60_000);
  let lan: NetnsLan;

  before(async () => {
    lan = await createLan(3);
  });
  after(async () => {
    await lan?.teardown();
  });

  it('probes again on a conflicting announcement, then keeps its names when nobody defends them', async () => {
    const [sniffHost, ourHost, otherHost] = [lan.hosts[0]!, lan.hosts[1]!, lan.hosts[2]!];
    const clusterId = 'late-conflict-0001';
    const sniffer = lan.spawnJson(
      sniffHost,
      tsxCommand('test/helpers/mdns-sniff.ts', JSON.stringify({ interface: sniffHost.address })),
    );
    await sniffer.waitFor((m) => m.event === 'ready');
    const advertiser = lan.spawnJson(
      ourHost,
      tsxCommand('test/helpers/mdns-advertise.ts', JSON.stringify({ clusterId, port: 6443 })),
    );
    const started = await advertiser.waitFor((m) => m.event === 'started');
    const fromUs = (event: string) =>
      (sniffer.messages as Heard[]).filter((m) => m.event === event && m.from === ourHost.address);
    const probesOf = () => fromUs('query').filter((m) => (m.authorities ?? 0) > 0);
    // Waits below are for what must come, bounded only by the mocha timeout (no wall-clock bound).
    // The start-up probes, then both announcements (§8.3): no more probes after those.
    let responses = 0;
    const isOurs = (m: Record<string, unknown>) => m.from === ourHost.address;
    await sniffer.waitFor((m) => m.event === 'response' && isOurs(m) && ++responses === 2, 60_000);
    assert.equal(probesOf().length, 3, 'three probes at start');

    const other = lan.spawnJson(
      otherHost,
      tsxCommand(
        'test/helpers/liqo-v02-advertiser.ts',
        JSON.stringify({
          clusterId,
          port: 9999,
          hostname: 'other-node',
          address: otherHost.address,
          answerQueries: false,
          intervalMs: 600_000, // one announcement only
        }),
      ),
    );
    await other.waitFor((m) => m.event === 'started');
    const warning = await advertiser.waitFor((m) => m.event === 'warning', 60_000);
    assert.match(
      String(warning.message),
      new RegExp(`conflict on ${clusterId}\\._liqo_auth\\._tcp\\.local`, 'i'),
    );

    // Three new probes for the instance names, then announcements again (and no fourth probe
    // before them: probing is over once it announces).
    let probes = 0;
    await sniffer.waitFor(
      (m) => m.event === 'query' && isOurs(m) && (m.authorities as number) > 0 && ++probes === 6,
      60_000,
    );
    const lastProbe = probesOf()[5]!.t;
    await sniffer.waitFor((m) => m.event === 'response' && isOurs(m) && (m.t as number) > lastProbe, 60_000);
    const again = probesOf().slice(3);
    assert.equal(again.length, 3, `${again.length} probes after the conflict`);
    assert.ok(
      again.every((probe) => (probe.names ?? []).some((name) => name.startsWith(`${clusterId}.`))),
      'the probes are about our instance name',
    );
    assert.ok(
      !advertiser.messages.some((m) => m.event === 'renamed'),
      'renamed although nobody defended the name',
    );

    const browse = lan.spawnJson(
      sniffHost,
      tsxCommand(
        'test/helpers/mdns-browse.ts',
        JSON.stringify({ mode: 'once', serviceTypes: ['_liqo._tcp'] }),
      ),
    );
    const done = await browse.waitFor((m) => m.event === 'done');
    const found = (done.peers as MdnsPeer[]).find((peer) => peer.clusterId === clusterId);
    assert.equal(found?.authUrl, `https://${ourHost.address}:6443`);
    assert.equal(found?.instance, started.instance);
    advertiser.send('stop');
    await advertiser.waitFor((m) => m.event === 'stopped');
  });
});
