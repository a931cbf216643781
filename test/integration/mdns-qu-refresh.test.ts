// RFC 6762 §5.4: a question with the QU bit asks for a unicast answer, but when the answer's
// record has not been multicast on the link within a quarter of its TTL, the responder multicasts
// it instead, so that every cache on the link is refreshed. An advertiser with a 60 s TTL on h1
// (a quarter: 15 s, so that asking while the record is fresh does not depend on how fast the
// asking process starts on a loaded machine; the refresh case waits past the quarter, a lower
// bound that load cannot break); QU questions for its SRV from h2 (a socket outside the
// multicast group, which hears only unicast answers); a sniffer in the group on h0 hears the
// multicast ones.
// Inside the test's namespaces only (TESTING.md).
import assert from 'node:assert/strict';
import { createLan, tsxCommand, type JsonLinesChild, type NetnsLan } from '../helpers/netns.js';

type Heard = { event: string; from: string; answers?: { name: string; type: string }[] };

const TTL_S = 60;

describe('mDNS advertiser: QU answers and the quarter-TTL refresh (RFC 6762 §5.4)', function () {
  this.timeout(60_000);
  let lan: NetnsLan;

  before(async () => {
    lan = await createLan(3);
  });
  after(async () => {
    await lan?.teardown();
  });

  it('answers QU by unicast while the record is fresh on the link, by multicast once a quarter TTL has passed', async () => {
    const [sniffHost, ourHost, askHost] = [lan.hosts[0]!, lan.hosts[1]!, lan.hosts[2]!];
    const clusterId = 'qu-refresh-0001';
    const instance = `${clusterId}._liqo._tcp.local`;
    const sniffer = lan.spawnJson(
      sniffHost,
      tsxCommand('test/helpers/mdns-sniff.ts', JSON.stringify({ interface: sniffHost.address })),
    );
    await sniffer.waitFor((m) => m.event === 'ready');
    const multicastSrv = () =>
      (sniffer.messages as Heard[]).filter(
        (m) =>
          m.event === 'response' &&
          m.from === ourHost.address &&
          (m.answers ?? []).some((a) => a.type === 'SRV' && a.name === instance),
      ).length;
    const askQu = async (): Promise<number> => {
      const asker: JsonLinesChild = lan.spawnJson(
        askHost,
        tsxCommand(
          'test/helpers/mdns-raw-query.ts',
          JSON.stringify({
            interface: askHost.address,
            questions: [{ name: instance, type: 'SRV' }],
            qu: true,
          }),
        ),
      );
      const done = await asker.waitFor((m) => m.event === 'done');
      const responses = done.responses as { answers: { type: string }[] }[];
      return responses.flatMap((r) => r.answers).filter((a) => a.type === 'SRV').length;
    };

    // The asker is a new process each time: ask once before anything is advertised, so that its
    // compile cache is warm and the first real question comes soon after the announcements.
    assert.equal(await askQu(), 0);
    const advertiser = lan.spawnJson(
      ourHost,
      tsxCommand('test/helpers/mdns-advertise.ts', JSON.stringify({ clusterId, port: 6443, ttl: TTL_S })),
    );
    await advertiser.waitFor((m) => m.event === 'started');
    // both announcements heard (the advertiser makes two, §8.3), so any multicast SRV from here on
    // is an answer; the mocha timeout is the only bound on the wait
    while (multicastSrv() < 2) await new Promise((resolve) => setTimeout(resolve, 50));

    // Just announced (the SRV was multicast a moment ago): the QU answer is unicast only.
    const before = multicastSrv();
    assert.equal(await askQu(), 1, 'no unicast answer to a QU question for a freshly multicast record');
    assert.equal(multicastSrv(), before, 'the QU answer was multicast although the record was fresh');

    // Past a quarter of the TTL since the last announcement: the answer goes to the group.
    await new Promise((resolve) => setTimeout(resolve, (TTL_S * 1000) / 4 + 1500));
    const quiet = multicastSrv();
    assert.equal(await askQu(), 0, 'answered by unicast although the record was due a refresh');
    assert.equal(multicastSrv(), quiet + 1, 'the refresh was not multicast');
    advertiser.send('stop');
    await advertiser.waitFor((m) => m.event === 'stopped');
  });
});
