// Hostile input for the mDNS module: fast-check properties feed random, truncated, bit-flipped,
// count-lying and compression-looping buffers through dns-packet's decoder (multicast-dns's
// path) into the browser's and the advertiser's packet handling, which must never throw and must
// stay bounded; then a real flood on a namespace LAN, half of it aimed at the advertiser's own
// names, must leave both working.
import assert from 'node:assert/strict';
import dnsPacket, { type Packet } from 'dns-packet';
import fc from 'fast-check';
import { MdnsBrowser } from '../../shared/lookup/mdns.js';
import { answerQuery, buildRecords } from '../../shared/lookup/mdns/advertiser-records.js';
import { MAX_INSTANCES } from '../../shared/lookup/mdns/cache.js';
import type { MdnsEndpoint } from '../../shared/lookup/mdns/sockets.js';
import type { MdnsPeer } from '../../shared/lookup/types.js';
import { bogusResponse, compressionLoop, wrongCounts } from '../helpers/mdns-hostile.js';
import { createLan, tsxCommand, type NetnsLan } from '../helpers/netns.js';

// Not started: no socket is opened, packets go straight to ingest().
const endpoint: MdnsEndpoint = {
  name: 'eth0',
  family: 'IPv4',
  socketInterface: '10.0.0.1',
  addresses: ['10.0.0.1'],
  cidrs: [],
  linkCidrs: [],
  loopback: false,
};
const ownRecords = buildRecords(
  { serviceTypes: ['_liqo._tcp.local'], instance: 'me', host: 'me-host', port: 443, txt: { id: 'me' } },
  endpoint,
);

function decodeOrUndefined(buf: Uint8Array): Packet | undefined {
  try {
    return dnsPacket.decode(Buffer.from(buf));
  } catch {
    return undefined; // what multicast-dns turns into a 'warning' and drops
  }
}

const valid = fc.integer({ min: 0, max: 5000 }).map((i) => bogusResponse(i, i % 3));
const hostileBuffer = fc.oneof(
  fc.uint8Array({ maxLength: 1500 }),
  fc.tuple(valid, fc.nat()).map(([b, n]) => b.subarray(0, n % (b.length + 1))),
  fc
    .tuple(valid, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 16 }))
    .map(([b, flips]) => {
      const copy = Buffer.from(b);
      for (const [at, value] of flips) copy[at % copy.length] = value;
      return copy;
    }),
  fc.integer({ min: 0, max: 65535 }).map(wrongCounts),
  fc.constant(compressionLoop()),
);

const names = fc.constantFrom(
  '_liqo._tcp.local',
  '_liqo_auth._tcp.local',
  'x._liqo._tcp.local',
  'h.local',
  'me._liqo._tcp.local',
  'me-host.local',
  '',
);
const record = fc.oneof(
  fc.record({ name: names, type: fc.constant('PTR' as const), ttl: fc.nat(5000), data: names }),
  fc.record({
    name: names,
    type: fc.constant('SRV' as const),
    ttl: fc.nat(5000),
    data: fc.record({ priority: fc.nat(65535), weight: fc.nat(65535), port: fc.nat(65535), target: names }),
  }),
  fc.record({
    name: names,
    type: fc.constant('TXT' as const),
    ttl: fc.nat(5000),
    data: fc.array(
      fc.uint8Array({ maxLength: 255 }).map((u) => Buffer.from(u)),
      { maxLength: 40 },
    ),
  }),
  fc.record({ name: names, type: fc.constant('A' as const), ttl: fc.nat(5000), data: fc.ipV4() }),
  fc.record({ name: names, type: fc.constant('AAAA' as const), ttl: fc.nat(5000), data: fc.ipV6() }),
);
const wellFormed = fc
  .record({
    type: fc.constantFrom('query' as const, 'response' as const),
    answers: fc.array(record, { maxLength: 12 }),
    additionals: fc.array(record, { maxLength: 12 }),
    questions: fc.array(
      fc.record({ name: names, type: fc.constantFrom('PTR' as const, 'SRV' as const, 'A' as const) }),
      { maxLength: 4 },
    ),
  })
  .chain((p) => {
    try {
      return fc.constant(dnsPacket.encode(p as Packet));
    } catch {
      return fc.constant(Buffer.alloc(0));
    }
  });

describe('mDNS hostile input', function () {
  this.timeout(120000);

  it('random, truncated, flipped, count-lying and looping packets never throw', () => {
    const browser = new MdnsBrowser({}, 'once');
    fc.assert(
      fc.property(fc.oneof(hostileBuffer, wellFormed), (buf) => {
        const packet = decodeOrUndefined(buf);
        if (!packet) return;
        browser.ingest(packet);
        answerQuery(packet, ownRecords);
        for (const peer of browser.peers()) {
          assert.match(peer.authUrl, /^https:\/\/(\d+\.\d+\.\d+\.\d+|\[[0-9a-f:.]+\]):\d+$/);
          assert.ok(peer.clusterId.length > 0);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps at most MAX_INSTANCES peers however many instances are announced', () => {
    const browser = new MdnsBrowser({}, 'once');
    for (let i = 0; i < MAX_INSTANCES + 500; i++) browser.ingest(dnsPacket.decode(bogusResponse(i, 1)));
    assert.equal(browser.peers().length, MAX_INSTANCES);
  });

  describe('a flood on a namespace LAN', () => {
    let lan: NetnsLan;
    before(async () => {
      lan = await createLan(3); // h0: browser + advertiser, h1: flooder, h2: late advertiser / checker
    });
    after(async () => {
      await lan?.teardown();
    });

    it('leaves the browser and the advertiser working', async () => {
      const [h0, h1, h2] = [lan.hosts[0]!, lan.hosts[1]!, lan.hosts[2]!];
      const advertiser = lan.spawnJson(
        h0,
        tsxCommand(
          'test/helpers/mdns-advertise.ts',
          JSON.stringify({ clusterId: 'flooded-advertiser', port: 6443 }),
        ),
      );
      await advertiser.waitFor((m) => m.event === 'started');
      const browser = lan.spawnJson(h0, tsxCommand('test/helpers/mdns-browse.ts', '{"mode":"continuous"}'));
      await browser.waitFor((m) => m.event === 'ready');
      // Half the flood is about the advertiser's own names: probes and claims with other data,
      // spoofed goodbyes, garbage known answers, and damaged copies of them.
      const aimAt = {
        instances: ['_liqo._tcp.local', '_liqo_auth._tcp.local'].map((type) => `flooded-advertiser.${type}`),
        host: 'liqo-flooded-advertiser.local',
      };
      const flood = lan.spawnJson(
        h1,
        tsxCommand(
          'test/helpers/mdns-flood.ts',
          JSON.stringify({ interface: h1.address, count: 4000, aimAt }),
        ),
      );
      const done = await flood.waitFor((m) => m.event === 'done', 60000);
      assert.equal(done.sent, 8000);
      // the browser still takes in a newcomer...
      const late = lan.spawnJson(
        h2,
        tsxCommand(
          'test/helpers/mdns-advertise.ts',
          JSON.stringify({ clusterId: 'after-the-flood', port: 7443 }),
        ),
      );
      await late.waitFor((m) => m.event === 'started');
      const added = await browser.waitFor(
        (m) => m.event === 'added' && (m.peer as MdnsPeer).clusterId === 'after-the-flood',
      );
      assert.equal((added.peer as MdnsPeer).authUrl, `https://${h2.address}:7443`);
      browser.send('peers');
      const { peers } = await browser.waitFor((m) => m.event === 'peers');
      assert.ok((peers as MdnsPeer[]).length <= MAX_INSTANCES);
      assert.ok(!browser.exited && !advertiser.exited, 'a process died under the flood');
      // ...and the flooded advertiser still answers
      const check = lan.spawnJson(
        h2,
        tsxCommand(
          'test/helpers/mdns-browse.ts',
          JSON.stringify({ mode: 'once', serviceTypes: ['_liqo._tcp'] }),
        ),
      );
      const result = await check.waitFor((m) => m.event === 'done');
      // Claims on its names may have made it rename (RFC 6762 §9); it is still found, where it is.
      const found = (result.peers as MdnsPeer[]).find((p) => p.clusterId === 'flooded-advertiser');
      assert.equal(found?.authUrl, `https://${h0.address}:6443`);
      assert.ok(!advertiser.messages.some((m) => m.event === 'error'), 'the advertiser gave up');
    });
  });
});
