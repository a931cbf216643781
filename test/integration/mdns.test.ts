// mDNS on a real multicast LAN built from network namespaces (TESTING.md): our advertisers on
// several hosts, our browser on another, one-shot and continuous, a late joiner, a goodbye, a
// name conflict and a Liqo-v0.2-style advertiser (an emulator: see its first comment).
import assert from 'node:assert/strict';
import type { MdnsPeer } from '../../shared/lookup/types.js';
import {
  createLan,
  tsxCommand,
  type JsonLinesChild,
  type NetnsHost,
  type NetnsLan,
} from '../helpers/netns.js';

const ADVERTISE = 'test/helpers/mdns-advertise.ts';
const BROWSE = 'test/helpers/mdns-browse.ts';
const LIQO_V02 = 'test/helpers/liqo-v02-advertiser.ts';

function startAdvertiser(lan: NetnsLan, host: NetnsHost, opts: Record<string, unknown>): JsonLinesChild {
  return lan.spawnJson(host, tsxCommand(ADVERTISE, JSON.stringify(opts)));
}

async function started(child: JsonLinesChild): Promise<Record<string, unknown>> {
  const msg = await child.waitFor((m) => m.event === 'started' || m.event === 'error');
  assert.equal(msg.event, 'started', `advertiser failed: ${String(msg.message)}`);
  return msg;
}

async function browseOnceOn(
  lan: NetnsLan,
  host: NetnsHost,
  opts: Record<string, unknown> = {},
): Promise<MdnsPeer[]> {
  const child = lan.spawnJson(host, tsxCommand(BROWSE, JSON.stringify({ mode: 'once', ...opts })));
  const done = await child.waitFor((m) => m.event === 'done' || m.event === 'error');
  assert.equal(done.event, 'done', `browse failed: ${String(done.message)}`);
  return done.peers as MdnsPeer[];
}

/** A continuous browser on `host`, once it is ready. */
async function continuousBrowser(lan: NetnsLan, host: NetnsHost): Promise<JsonLinesChild> {
  const browser = lan.spawnJson(host, tsxCommand(BROWSE, JSON.stringify({ mode: 'continuous' })));
  await browser.waitFor((m) => m.event === 'ready');
  return browser;
}

/** The Liqo v0.2 emulator on `host`, advertising its address, once it has started. */
async function liqoV02Advertiser(
  lan: NetnsLan,
  host: NetnsHost,
  opts: Record<string, unknown>,
): Promise<JsonLinesChild> {
  const emulator = lan.spawnJson(
    host,
    tsxCommand(LIQO_V02, JSON.stringify({ address: host.address, ...opts })),
  );
  await emulator.waitFor((m) => m.event === 'started');
  return emulator;
}

function peerEvent(event: string, clusterId: string, serviceType = '_liqo._tcp.local') {
  return (m: Record<string, unknown>) =>
    m.event === event &&
    (m.peer as MdnsPeer).clusterId === clusterId &&
    (m.peer as MdnsPeer).serviceType === serviceType;
}

describe('mDNS on a namespace LAN', function () {
  this.timeout(60000);
  let lan: NetnsLan;
  const advertised = [
    { clusterId: '5f0e2c34-0c53-4bb4-9d7b-7f9e4a3c1a01', clusterName: 'alpha', port: 6443 },
    { clusterId: '0b8f6a52-3d1e-4c8a-a2b7-3e6c1d5f9b02', clusterName: 'beta', port: 7443 },
    { clusterId: 'c2d4e6f8-1a3b-4c5d-8e9f-0a1b2c3d4e03', clusterName: 'gamma', port: 8443 },
  ];

  before(async () => {
    lan = await createLan(5); // h0-h2 advertise, h3 browses, h4 joins late / conflicts / emulates
    await Promise.all(advertised.map((a, i) => started(startAdvertiser(lan, lan.hosts[i]!, a))));
  });

  after(async () => {
    await lan?.teardown();
  });

  it('a one-shot browse on another host finds every advertiser under both service types', async () => {
    const peers = await browseOnceOn(lan, lan.hosts[3]!);
    for (const [i, a] of advertised.entries()) {
      const host = lan.hosts[i]!;
      for (const serviceType of ['_liqo_auth._tcp.local', '_liqo._tcp.local']) {
        const peer = peers.find((p) => p.clusterId === a.clusterId && p.serviceType === serviceType);
        assert.ok(
          peer,
          `${a.clusterId} under ${serviceType} not found; got ${peers.map((p) => p.instance).join(', ')}`,
        );
        assert.equal(peer.instance, a.clusterId);
        assert.equal(peer.clusterName, a.clusterName);
        assert.equal(peer.port, a.port);
        assert.equal(peer.host, `liqo-${a.clusterId}.local`);
        assert.equal(peer.authUrl, `https://${host.address}:${a.port}`);
        assert.ok(peer.authUrls.includes(`https://[${host.address6}]:${a.port}`), peer.authUrls.join(' '));
        assert.deepEqual(peer.txt, { txtvers: '1', id: a.clusterId, name: a.clusterName });
        assert.ok(peer.addresses.includes(host.address));
      }
    }
    assert.equal(peers.length, advertised.length * 2, 'one peer per (service type, instance)');
  });

  it('skips its own cluster id and browses only the service types asked for', async () => {
    const own = advertised[0]!.clusterId;
    const peers = await browseOnceOn(lan, lan.hosts[3]!, {
      skipClusterId: own,
      serviceTypes: ['_liqo._tcp'],
    });
    assert.ok(!peers.some((p) => p.clusterId === own));
    assert.ok(peers.every((p) => p.serviceType === '_liqo._tcp.local'));
    assert.equal(peers.length, advertised.length - 1);
  });

  it('continuous mode: a late joiner is added and its goodbye removes it', async () => {
    const browser = await continuousBrowser(lan, lan.hosts[3]!);
    for (const a of advertised) await browser.waitFor(peerEvent('added', a.clusterId));
    const late = { clusterId: 'late-joiner-0001', clusterName: 'late', port: 9443 };
    const joiner = startAdvertiser(lan, lan.hosts[4]!, late);
    await started(joiner);
    const added = (await browser.waitFor(peerEvent('added', late.clusterId))).peer as MdnsPeer;
    assert.equal(added.authUrl, `https://${lan.hosts[4]!.address}:9443`);
    assert.equal(added.clusterName, 'late');
    assert.equal(added.ttl, 4500, 'RFC 6762 §10 TTL of the PTR');
    joiner.send('stop');
    await joiner.waitFor((m) => m.event === 'stopped');
    for (const serviceType of ['_liqo._tcp.local', '_liqo_auth._tcp.local']) {
      const removed = (await browser.waitFor(peerEvent('removed', late.clusterId, serviceType)))
        .peer as MdnsPeer;
      assert.equal(removed.instance, late.clusterId);
    }
    // the others are still there
    browser.send('peers');
    const { peers } = await browser.waitFor((m) => m.event === 'peers');
    const ids = new Set((peers as MdnsPeer[]).map((p) => p.clusterId));
    assert.deepEqual([...ids].sort(), advertised.map((a) => a.clusterId).sort());
    browser.send('stop');
    await browser.waitExit();
  });

  it('continuous mode: refresh queries keep a peer whose TTL is shorter than the wait', async () => {
    const browser = await continuousBrowser(lan, lan.hosts[3]!);
    const shortLived = startAdvertiser(lan, lan.hosts[4]!, {
      clusterId: 'short-ttl-0001',
      port: 9444,
      ttl: 2,
    });
    await started(shortLived);
    const added = (await browser.waitFor(peerEvent('added', 'short-ttl-0001'))).peer as MdnsPeer;
    assert.equal(added.ttl, 2);
    await new Promise((r) => setTimeout(r, 5000)); // 2.5 TTLs: only §5.2 refreshes keep it
    assert.ok(
      !browser.messages.some(peerEvent('removed', 'short-ttl-0001')),
      'expired despite refresh queries',
    );
    shortLived.send('stop');
    await browser.waitFor(peerEvent('removed', 'short-ttl-0001'));
    browser.send('stop');
    await browser.waitExit();
  });

  it('a second advertiser of the same cluster id renames itself after probing', async () => {
    const original = advertised[1]!;
    const second = startAdvertiser(lan, lan.hosts[4]!, { ...original, port: 10443 });
    const msg = await started(second);
    assert.equal(msg.instance, `${original.clusterId} (2)`);
    // same id => same derived host name, claimed by h1 with another address: renamed too
    assert.equal(msg.hostname, `liqo-${original.clusterId}-2`);
    assert.ok(second.messages.some((m) => m.event === 'renamed'));
    const peers = await browseOnceOn(lan, lan.hosts[3]!, { serviceTypes: ['_liqo._tcp'] });
    const both = peers.filter((p) => p.clusterId === original.clusterId);
    assert.deepEqual(
      both.map((p) => p.port).sort((a, b) => a - b),
      [7443, 10443],
    );
    const renamed = both.find((p) => p.port === 10443)!;
    assert.equal(renamed.instance, `${original.clusterId} (2)`);
    assert.equal(renamed.authUrl, `https://${lan.hosts[4]!.address}:10443`);
    second.send('stop');
    await second.waitExit();
  });

  describe('the responder', () => {
    const query = (opts: Record<string, unknown>) =>
      lan.spawnJson(
        lan.hosts[4]!,
        tsxCommand(
          'test/helpers/mdns-raw-query.ts',
          JSON.stringify({ interface: lan.hosts[4]!.address, ...opts }),
        ),
      );
    const instance = `${advertised[0]!.clusterId}._liqo._tcp.local`;
    const answersOf = (done: Record<string, unknown>) =>
      (done.responses as { answers: { name: string; type: string; data: unknown }[] }[]).flatMap(
        (r) => r.answers,
      );

    it('answers a QM question only by multicast, and then a QU question by unicast', async () => {
      const question = [{ name: instance, type: 'SRV' }];
      // The QM answer is multicast (never reaching this socket outside the group), which also
      // makes the SRV recently multicast: so the QU answer is unicast (§5.4; were the SRV's last
      // multicast over a quarter of its TTL ago, that answer would be multicast too).
      const qm = await query({ questions: question }).waitFor((m) => m.event === 'done');
      assert.deepEqual(answersOf(qm), [], 'a multicast answer reached a socket outside the group');
      const qu = await query({ questions: question, qu: true }).waitFor((m) => m.event === 'done');
      const srv = answersOf(qu).find((a) => a.type === 'SRV');
      assert.deepEqual(srv?.data, {
        priority: 0,
        weight: 0,
        port: 6443,
        target: `liqo-${advertised[0]!.clusterId}.local`,
      });
    });

    it('answers a legacy (ephemeral port) query by unicast, echoing id and question, TTL <= 10 s', async () => {
      const done = await query({
        questions: [{ name: '_liqo._tcp.local', type: 'PTR' }],
        fromPort: 0,
      }).waitFor((m) => m.event === 'done');
      const responses = done.responses as {
        id: number;
        questions: unknown[];
        answers: { name: string; data: unknown; ttl: number }[];
      }[];
      const ptrs = responses.flatMap((r) => r.answers).filter((a) => a.name === '_liqo._tcp.local');
      assert.deepEqual(
        ptrs.map((a) => a.data).sort(),
        advertised.map((a) => `${a.clusterId}._liqo._tcp.local`).sort(),
      );
      assert.ok(responses.every((r) => r.id === 4242 && r.questions.length === 1));
      assert.ok(responses.flatMap((r) => r.answers).every((a) => a.ttl <= 10));
    });

    it('suppresses an answer the querier already knows (known-answer suppression)', async () => {
      const questions = [{ name: '_liqo._tcp.local', type: 'PTR' }];
      const knownAnswers = [
        { name: '_liqo._tcp.local', type: 'PTR', class: 'IN', ttl: 4500, data: instance },
      ];
      const done = await query({ questions, knownAnswers, fromPort: 0 }).waitFor((m) => m.event === 'done');
      const ptrs = answersOf(done)
        .filter((a) => a.type === 'PTR')
        .map((a) => a.data);
      assert.ok(!ptrs.includes(instance), 'known answer repeated');
      assert.equal(ptrs.length, advertised.length - 1, 'the others still answer');
    });
  });

  it('browses only the interfaces named, by address or by name, IPv6 included', async () => {
    const h3 = lan.hosts[3]!;
    const v6only = await browseOnceOn(lan, h3, { interfaces: [h3.address6], serviceTypes: ['_liqo._tcp'] });
    assert.deepEqual(new Set(v6only.map((p) => p.clusterId)), new Set(advertised.map((a) => a.clusterId)));
    for (const peer of v6only)
      assert.ok(
        peer.authUrls.some((u) => u.startsWith('https://[fd00:')),
        peer.authUrls.join(' '),
      );
    const byName = await browseOnceOn(lan, h3, { interfaces: ['eth0'], serviceTypes: ['_liqo._tcp'] });
    assert.equal(byName.length, advertised.length);
    const child = lan.spawnJson(
      h3,
      tsxCommand(BROWSE, JSON.stringify({ mode: 'once', interfaces: ['wlan9'] })),
    );
    const failed = await child.waitFor((m) => m.event === 'done' || m.event === 'error');
    assert.equal(failed.event, 'error');
    assert.match(
      String(failed.message),
      /mDNS interface "wlan9" is neither an interface name nor a local address \(have: .*eth0/,
    );
  });

  describe('a Liqo v0.2-style advertiser (instance = cluster id, no TXT keys)', () => {
    const liqoId = '0558de48-097b-4b7d-ba04-6bd2a0f9d24f';

    it('is found by a one-shot browse through its answers', async () => {
      const host = lan.hosts[4]!;
      const emulator = await liqoV02Advertiser(lan, host, {
        clusterId: liqoId,
        port: 31234,
        hostname: 'node-1',
      });
      const peers = await browseOnceOn(lan, lan.hosts[3]!);
      const peer = peers.find((p) => p.instance === liqoId);
      assert.ok(peer, 'Liqo v0.2 advertiser not found');
      assert.equal(peer.serviceType, '_liqo_auth._tcp.local');
      assert.equal(peer.clusterId, liqoId, 'cluster id from the instance name when there is no TXT id');
      assert.equal(peer.clusterName, undefined);
      assert.deepEqual(peer.txt, {});
      assert.equal(peer.authUrl, `https://${host.address}:31234`);
      assert.equal(peer.host, 'node-1.local');
      assert.equal(peer.ttl, 90);
      emulator.send('stop');
      await emulator.waitExit();
    });

    it('is found in continuous mode from its periodic unsolicited announcements alone', async () => {
      const host = lan.hosts[4]!;
      const browser = await continuousBrowser(lan, lan.hosts[3]!);
      const emulator = await liqoV02Advertiser(lan, host, {
        clusterId: liqoId,
        port: 31235,
        intervalMs: 500,
        answerQueries: false,
      });
      const added = (await browser.waitFor(peerEvent('added', liqoId, '_liqo_auth._tcp.local')))
        .peer as MdnsPeer;
      assert.equal(added.authUrl, `https://${host.address}:31235`);
      emulator.send('stop');
      await browser.waitFor(peerEvent('removed', liqoId, '_liqo_auth._tcp.local'));
      browser.send('stop');
      await browser.waitExit();
    });

    it('is removed when its TTL runs out with no goodbye (killed, refresh queries unanswered)', async () => {
      const host = lan.hosts[4]!;
      const browser = await continuousBrowser(lan, lan.hosts[3]!);
      const emulator = await liqoV02Advertiser(lan, host, {
        clusterId: liqoId,
        port: 31236,
        ttl: 3,
        intervalMs: 3600000,
      });
      const added = await browser.waitFor(peerEvent('added', liqoId, '_liqo_auth._tcp.local'));
      emulator.child.kill('SIGKILL');
      const removed = await browser.waitFor(peerEvent('removed', liqoId, '_liqo_auth._tcp.local'));
      assert.ok((removed.t as number) - (added.t as number) >= 2000, 'removed before its TTL');
      browser.send('stop');
      await browser.waitExit();
    });
  });
});
