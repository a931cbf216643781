// What the advertiser sends on the wire after its probes, heard by a plain socket on another host
// of a namespace LAN (test/helpers/mdns-sniff.ts): the RFC 6762 rules that no unit test of the
// record builder can show, because they live in the timing and the encoded packets.
//   §8.1 three probes about 250 ms apart;
//   §8.3 at least two unsolicited announcements, one second or more apart, each with the PTR,
//        SRV and TXT of every service type and the host's A record;
//   §10  TTLs: SRV, A, AAAA 120 s; PTR, TXT 4500 s; cache-flush bit on the unique records
//        (SRV, TXT, A, AAAA), not on the shared PTR;
//   §6   an answer holding the shared PTR is delayed 20-120 ms (checked as >= 15 ms).
//        The plain multicast query (QM) goes out over 1 s after the last announcement, since §6
//        forbids multicasting a record again within 1 s.
// Only lower bounds on time are checked, each an RFC rule ("not before"), which a loaded
// machine cannot break (it only makes packets later); the slack in each is for the sniffer
// stamping one packet later than the next. No upper bound: how soon things come is measured by
// bench/mdns-advertiser-timing.ts.
// Everything runs inside the LAN's network namespaces (TESTING.md's network rule). One scenario
// runs in `before`; each `it` checks one rule on what was captured.
import assert from 'node:assert/strict';
import { createLan, tsxCommand, type JsonLinesChild, type NetnsLan } from '../helpers/netns.js';

type Rec = { name: string; type: string; ttl: number; flush: boolean };
type Msg = {
  event: string;
  t: number;
  from: string;
  authorities?: number;
  answers: Rec[];
  additionals: Rec[];
};

const clusterId = 'wire-0001';
const serviceTypes = ['_liqo._tcp.local', '_liqo_auth._tcp.local'];
const host = `liqo-${clusterId}.local`;
const has = (recs: Rec[], name: string, type: string) => recs.some((r) => r.name === name && r.type === type);

describe('mDNS advertiser on the wire (announcements, TTLs, delays)', function () {
  this.timeout(60_000);
  let lan: NetnsLan;
  let sniffer: JsonLinesChild;
  let from: string;
  let probes: Msg[];
  let announcements: Msg[];
  let sent: Msg;
  let answer: Msg;

  before(async () => {
    lan = await createLan(2);
    const [sniffHost, advertiseHost] = lan.hosts;
    from = advertiseHost!.address;
    sniffer = lan.spawnJson(
      sniffHost!,
      tsxCommand('test/helpers/mdns-sniff.ts', JSON.stringify({ interface: sniffHost!.address })),
    );
    await sniffer.waitFor((m) => m.event === 'ready');
    const advertiser = lan.spawnJson(
      advertiseHost!,
      tsxCommand('test/helpers/mdns-advertise.ts', JSON.stringify({ clusterId, port: 6443 })),
    );
    await advertiser.waitFor((m) => m.event === 'started');
    // The query goes out once the announcements are over and none came for 1.2 s (§6: a record
    // is not multicast again within 1 s of its last multicast, so it would go unanswered).
    const mine = (event: string) =>
      (sniffer.messages as Msg[]).filter((m) => m.event === event && m.from === from);
    // §8.3 promises two announcements: wait for the second (the mocha timeout is the only bound)
    let responses = 0;
    await sniffer.waitFor((m) => m.event === 'response' && m.from === from && ++responses === 2, 60_000);
    let seen: number;
    do {
      seen = mine('response').length;
      await new Promise((resolve) => setTimeout(resolve, 1200));
    } while (mine('response').length !== seen);
    probes = mine('query').filter((m) => (m.authorities ?? 0) > 0);
    announcements = mine('response');
    sniffer.send(JSON.stringify({ query: { name: '_liqo._tcp.local', type: 'PTR' } }));
    sent = (await sniffer.waitFor((m) => m.event === 'sent')) as Msg;
    // the mocha timeout is the only bound on the answer coming
    await sniffer.waitFor(
      (m) => m.event === 'response' && m.from === from && (m.t as number) > sent.t,
      60_000,
    );
    answer = mine('response').find((m) => m.t > sent.t)!;
    advertiser.send('stop');
    await advertiser.waitFor((m) => m.event === 'stopped');
  });
  after(async () => {
    await lan?.teardown();
  });

  it('sends three probes at least 200 ms apart (§8.1: 250 ms)', () => {
    assert.equal(probes.length, 3, JSON.stringify(probes));
    for (let i = 1; i < probes.length; i++) {
      const gap = probes[i]!.t - probes[i - 1]!.t;
      assert.ok(gap >= 200, `probe ${i} came ${gap.toFixed(1)} ms after the one before`);
    }
  });

  it('announces at least twice after the probes, >= 900 ms apart, with PTR, SRV, TXT and A (§8.3)', () => {
    assert.ok(announcements.length >= 2, `${announcements.length} announcement(s)`);
    assert.ok(announcements[0]!.t > probes.at(-1)!.t, 'the first announcement follows the last probe');
    const gap = announcements[1]!.t - announcements[0]!.t;
    assert.ok(gap >= 900, `second announcement ${gap.toFixed(1)} ms after the first`);
    for (const a of announcements.slice(0, 2)) {
      for (const type of serviceTypes) {
        const instance = `${clusterId}.${type}`;
        assert.ok(has(a.answers, type, 'PTR'), `PTR ${type}`);
        assert.ok(has(a.answers, instance, 'SRV'), `SRV ${instance}`);
        assert.ok(has(a.answers, instance, 'TXT'), `TXT ${instance}`);
      }
      assert.ok(has(a.answers, host, 'A'), `A ${host}: ${JSON.stringify(a.answers)}`);
    }
  });

  it('gives SRV, A, AAAA 120 s and PTR, TXT 4500 s; cache-flush on all but PTR (§10)', () => {
    const records = [...announcements, answer].flatMap((m) => [...m.answers, ...m.additionals]);
    assert.ok(has(records, host, 'AAAA'), 'an AAAA record was sent');
    const expected: Record<string, number> = { SRV: 120, A: 120, AAAA: 120, PTR: 4500, TXT: 4500 };
    for (const r of records) {
      assert.equal(r.ttl, expected[r.type], `TTL of ${r.name} ${r.type}`);
      assert.equal(r.flush, r.type !== 'PTR', `cache-flush bit of ${r.name} ${r.type}`);
    }
  });

  it('answers a multicast PTR query no sooner than 20 ms later (§6, shared record)', () => {
    assert.ok(has(answer.answers, '_liqo._tcp.local', 'PTR'), JSON.stringify(answer));
    // 'sent' is stamped before the query left: the measured delay is never shorter than the real
    const delay = answer.t - sent.t;
    assert.ok(delay >= 15, `answered after ${delay.toFixed(1)} ms, sooner than the 20 ms of §6`);
  });
});
