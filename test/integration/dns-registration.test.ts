// register/deregister (shared/dns-registration) against a real BIND that takes TSIG-signed
// UPDATEs under an update-policy: create, refresh (one UPDATE, counted at a loopback relay),
// move, layout change, remove; names owned by another cluster or written by hand; two
// registrars racing for one name; a zone that refuses updates; a bad key; a server that is down
// or never answers; an UPDATE too big for UDP. After each step the whole zone (AXFR with dig),
// `dig` of the PTRs and our own resolver (shared/lookup/dns.ts) show exactly the expected records,
// and once the built `kubectl liqo discover --domain` finds the cluster and reads its /ids.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import {
  deregister,
  formatRecord,
  planRecords,
  register,
  type PublishedRecord,
  type RegistrarOptions,
  type RegistrationResult,
  type RegistrationSpec,
  type TsigKey,
} from '../../shared/dns-registration/index.js';
import { exchange, TransportError } from '../../shared/dns-registration/transport.js';
import { resolveSearchDomain } from '../../shared/lookup/dns.js';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import { startDnsRelay, type RunningDnsRelay } from '../helpers/bind.js';
import {
  digRecords,
  randomKey,
  startUpdatableBind,
  zoneRecords,
  type UpdatableBind,
} from '../helpers/bind-update.js';
import { startIdsServer, testKeyPem, type IdsServer } from '../helpers/https-ids-server.js';
import { installPluginOnPath, type PluginOnPath } from '../e2e/plugin-helpers.js';

const ZONE = 'example.com';

/** "name. TYPE rdata", as zoneRecords() prints the AXFR. */
function lines(records: readonly PublishedRecord[]): string[] {
  return [
    ...new Set(
      records.map((record) => {
        const [name, , , type, ...rdata] = formatRecord(record).split(' ');
        return `${name} ${type} ${rdata.join(' ')}`;
      }),
    ),
  ].sort();
}

function expectOk(
  result: RegistrationResult,
  action: string,
): asserts result is RegistrationResult & { ok: true } {
  assert.ok(result.ok, result.ok ? '' : `${result.reason}: ${result.message}`);
  assert.equal(result.action, action);
}

describe('DNS registration against BIND (integration)', function () {
  this.timeout(60_000);
  let bind: UpdatableBind;
  let keyA: TsigKey;
  let keyB: TsigKey;
  let relay: RunningDnsRelay;
  let ids: IdsServer;
  let optionsA: RegistrarOptions;
  /** Records other than ours that the zone holds throughout (written by hand). */
  const HAND_WRITTEN = [
    'manual.example.com. SRV 0 0 443 manual-host.example.com.',
    'manual-host.example.com. A 192.0.2.99',
    'taken.example.com. SRV 0 0 443 taken.example.com.',
    '_liqo-owner.taken.example.com. TXT "heritage=liqo-discovery" "cluster-id=id-z"',
    ...Array.from(
      { length: 12 },
      (_, i) => `_liqo-owner.taken.example.com. TXT "note-${i}=${'x'.repeat(60)}"`,
    ),
  ];

  before(async () => {
    bind = await startUpdatableBind({
      zone: ZONE,
      keys: ['liqo-a', 'liqo-b'],
      records: [
        'manual SRV 0 0 443 manual-host',
        'manual-host A 192.0.2.99',
        // a name owned by another cluster whose ownership TXT is too big for a UDP answer
        'taken SRV 0 0 443 taken',
        '_liqo-owner.taken TXT "heritage=liqo-discovery" "cluster-id=id-z"',
        ...Array.from({ length: 12 }, (_, i) => `_liqo-owner.taken TXT "note-${i}=${'x'.repeat(60)}"`),
      ].join('\n'),
      refusingZone: 'refuse.test',
    });
    keyA = bind.keys['liqo-a'] as TsigKey;
    keyB = bind.keys['liqo-b'] as TsigKey;
    relay = await startDnsRelay({ upstream: bind.server });
    const keyPem = await testKeyPem();
    const cert = createServingCertificate({ commonName: '127.0.0.1', hosts: ['127.0.0.1'], keyPem });
    ids = await startIdsServer({ ...cert, identity: { clusterId: 'id-a', clusterName: 'cluster-a' } });
    optionsA = { server: bind.server, key: keyA, lease: { seconds: 3600 } };
  });
  after(async () => {
    await ids?.close();
    await relay?.stop();
    await bind?.stop();
  });

  function specA(overrides: Partial<RegistrationSpec> = {}): RegistrationSpec {
    return {
      zone: ZONE,
      instance: 'cluster-a',
      authUrl: ids.url,
      clusterId: 'id-a',
      clusterName: 'cluster-a',
      ttl: 60,
      ...overrides,
    };
  }

  function planned(spec: RegistrationSpec): PublishedRecord[] {
    const plan = planRecords(spec);
    assert.ok(plan.ok, plan.ok ? '' : plan.message);
    return plan.plan.records;
  }

  /** The zone holds exactly `ours` besides the hand-written records; dig and our resolver agree. */
  async function expectZone(ours: readonly PublishedRecord[], extra: string[] = []): Promise<void> {
    assert.deepEqual(
      await zoneRecords(bind.server, ZONE, keyA),
      [...lines(ours), ...HAND_WRITTEN, ...extra].sort(),
    );
    const pointers = ours
      .filter((record) => record.type === 'PTR' && record.name === ZONE)
      .map((r) => `${r.data}.`);
    assert.deepEqual(await digRecords(bind.server, ZONE, 'PTR'), pointers.sort());
    const resolved = await resolveSearchDomain(ZONE, { servers: [bind.server] });
    const srv = ours.find((record) => record.type === 'SRV');
    if (!srv || srv.type !== 'SRV') {
      assert.deepEqual(resolved.endpoints, []);
      return;
    }
    assert.deepEqual(resolved.errors, []);
    assert.equal(resolved.endpoints.length, 1, JSON.stringify(resolved.endpoints));
    const [endpoint] = resolved.endpoints;
    assert.equal(endpoint?.authUrl, `https://${srv.data.target}:${srv.data.port}`);
    assert.equal(endpoint?.txt.id, 'id-a');
    const addresses = ours
      .filter((record) => record.type === 'A' || record.type === 'AAAA')
      .map((r) => r.data);
    if (addresses.length) assert.deepEqual(endpoint?.addresses, addresses);
  }

  it('registers both layouts, then a refresh is one UPDATE round trip', async () => {
    const created = await register(specA(), optionsA);
    expectOk(created, 'created');
    assert.deepEqual(created.records, planned(specA()));
    await expectZone(planned(specA()));
    assert.deepEqual(await digRecords(bind.server, `_liqo._tcp.${ZONE}`, 'PTR'), [
      'cluster-a._liqo._tcp.example.com.',
    ]);
    assert.deepEqual(await digRecords(bind.server, `_liqo-owner.cluster-a.${ZONE}`, 'TXT'), [
      '"heritage=liqo-discovery" "cluster-id=id-a"',
    ]);

    const before = relay.udpStats().queries;
    const refreshed = await register(specA(), { ...optionsA, server: relay.server });
    expectOk(refreshed, 'refreshed');
    assert.equal(refreshed.updates, 1);
    assert.equal(refreshed.exchanges, 1);
    assert.equal(relay.udpStats().queries - before, 1, 'one message reached the server');
    await expectZone(planned(specA()));
  });

  it('the built `kubectl liqo discover --domain` finds the registered cluster and reads its /ids', async function () {
    this.timeout(180_000);
    let plugin: PluginOnPath | undefined;
    try {
      plugin = await installPluginOnPath();
      const result = await plugin.run(
        [
          'discover',
          '--domain',
          ZONE,
          '--dns-server',
          bind.server,
          '--no-lan',
          '-o',
          'json',
          '--timeout',
          '20s',
        ],
        { env: { KUBECONFIG: '/nonexistent/kubeconfig' } },
      );
      assert.equal(result.code, 0, result.stderr);
      const port = new URL(ids.url).port;
      const rows = JSON.parse(result.stdout) as unknown;
      const text = JSON.stringify(rows);
      assert.match(text, /"id-a"/, text);
      assert.ok(text.includes(`https://cluster-a.example.com:${port}`), text);
      assert.ok(ids.requests > 0, 'the /ids server was asked');
    } finally {
      plugin?.remove();
    }
  });

  it('moving the auth URL (new port and address) replaces the records in one UPDATE', async () => {
    const moved = specA({ authUrl: 'https://127.0.0.2:9443' });
    const result = await register(moved, optionsA);
    expectOk(result, 'refreshed');
    assert.equal(result.updates, 1);
    await expectZone(planned(moved));
  });

  it('moving to an in-zone host name with addresses, and back: the old host is cleaned up', async () => {
    const onHost = specA({
      authUrl: 'https://ids.cluster-a-host.example.com:7443',
      targetAddresses: ['127.0.0.3'],
    });
    const toHost = await register(onHost, optionsA);
    expectOk(toHost, 'moved');
    await expectZone(planned(onHost));
    assert.deepEqual(await digRecords(bind.server, 'ids.cluster-a-host.example.com', 'A'), ['127.0.0.3']);
    assert.deepEqual(await digRecords(bind.server, 'cluster-a.example.com', 'A'), []);

    const back = specA({ authUrl: 'https://127.0.0.2:9443' });
    const result = await register(back, optionsA);
    expectOk(result, 'moved');
    await expectZone(planned(back));
    assert.deepEqual(await digRecords(bind.server, 'ids.cluster-a-host.example.com', 'A'), []);
  });

  it('turning a layout off takes our PTR out of that shared RRset only; browse domains are added', async () => {
    const rfcOnly = specA({ authUrl: 'https://127.0.0.2:9443', layouts: ['rfc6763'], browseDomains: true });
    const result = await register(rfcOnly, optionsA);
    expectOk(result, 'refreshed');
    const records = planned(rfcOnly);
    assert.deepEqual(await zoneRecords(bind.server, ZONE, keyA), [...lines(records), ...HAND_WRITTEN].sort());
    assert.deepEqual(await digRecords(bind.server, ZONE, 'PTR'), []);
    assert.deepEqual(await digRecords(bind.server, `b._dns-sd._udp.${ZONE}`, 'PTR'), ['example.com.']);
    const resolved = await resolveSearchDomain(ZONE, { servers: [bind.server] });
    assert.deepEqual(
      resolved.endpoints.map((endpoint) => endpoint.instance),
      ['cluster-a._liqo._tcp.example.com'],
    );
  });

  it('another cluster is refused with the owner named, and cannot remove our records', async () => {
    const current = specA({ authUrl: 'https://127.0.0.2:9443', layouts: ['rfc6763'], browseDomains: true });
    const before = await zoneRecords(bind.server, ZONE, keyA);
    const intruder = await register(
      { ...current, clusterId: 'id-b', clusterName: 'b' },
      { ...optionsA, key: keyB },
    );
    assert.ok(!intruder.ok);
    assert.equal(intruder.reason, 'owned-by-other');
    assert.equal(intruder.owner, 'id-a');
    assert.match(intruder.message, /cluster-a\.example\.com in zone example\.com is owned by cluster id-a/);
    const removal = await deregister(
      { zone: ZONE, instance: 'cluster-a', clusterId: 'id-b' },
      { ...optionsA, key: keyB },
    );
    assert.ok(!removal.ok);
    assert.equal(removal.owner, 'id-a');
    assert.match(removal.message, /owned by cluster id-a, not by us \(id-b\): nothing removed/);
    assert.deepEqual(await zoneRecords(bind.server, ZONE, keyA), before);
  });

  it('an ownership record too big for UDP is read over TCP (truncated answer) and its owner named', async () => {
    const result = await register(
      { zone: ZONE, instance: 'taken', authUrl: 'https://127.0.0.9', clusterId: 'id-a', ttl: 60 },
      optionsA,
    );
    assert.ok(!result.ok);
    assert.equal(result.reason, 'owned-by-other', result.message);
    assert.equal(result.owner, 'id-z');
  });

  it('a name written by hand (no ownership record) is refused and left as it is', async () => {
    const result = await register(
      { zone: ZONE, instance: 'manual', authUrl: 'https://127.0.0.9', clusterId: 'id-a', ttl: 60 },
      optionsA,
    );
    assert.ok(!result.ok);
    assert.equal(result.reason, 'name-in-use');
    assert.match(
      result.message,
      /manual\.example\.com .*already exists in zone example\.com without an ownership record/,
    );
    assert.deepEqual(await digRecords(bind.server, `manual.${ZONE}`, 'SRV'), [
      '0 0 443 manual-host.example.com.',
    ]);
  });

  it('deregister removes exactly our records (browse-domain PTRs stay for the others)', async () => {
    const removed = await deregister({ zone: ZONE, instance: 'cluster-a', clusterId: 'id-a' }, optionsA);
    expectOk(removed, 'removed');
    assert.deepEqual(
      await zoneRecords(bind.server, ZONE, keyA),
      [
        ...HAND_WRITTEN,
        'b._dns-sd._udp.example.com. PTR example.com.',
        'lb._dns-sd._udp.example.com. PTR example.com.',
      ].sort(),
    );
    const resolved = await resolveSearchDomain(ZONE, { servers: [bind.server] });
    assert.deepEqual(resolved.endpoints, []);
    const again = await deregister({ zone: ZONE, instance: 'cluster-a', clusterId: 'id-a' }, optionsA);
    expectOk(again, 'absent');
  });

  it('deregister with the whole spec is one round trip', async () => {
    expectOk(await register(specA(), optionsA), 'created');
    const removed = await deregister(specA(), optionsA);
    expectOk(removed, 'removed');
    assert.equal(removed.exchanges, 1);
    assert.deepEqual(await digRecords(bind.server, `cluster-a.${ZONE}`, 'SRV'), []);
  });

  it('two registrars racing for one name: exactly one wins, the other names the winner', async function () {
    this.timeout(120_000);
    const base = { zone: ZONE, instance: 'contested', ttl: 60 };
    for (let round = 0; round < 15; round++) {
      const [a, b] = await Promise.all([
        register(
          { ...base, authUrl: 'https://127.0.0.11:443', clusterId: 'id-a' },
          { server: bind.server, key: keyA },
        ),
        register(
          { ...base, authUrl: 'https://127.0.0.12:443', clusterId: 'id-b' },
          { server: bind.server, key: keyB },
        ),
      ]);
      const winners = [a, b].filter((result) => result.ok);
      assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify([a, b])}`);
      const winnerId = a.ok ? 'id-a' : 'id-b';
      const loser = (a.ok ? b : a) as RegistrationResult & { ok: false };
      assert.equal(loser.reason, 'owned-by-other', loser.message);
      assert.equal(loser.owner, winnerId);
      assert.ok(loser.message.includes(`owned by cluster ${winnerId}`), loser.message);
      assert.deepEqual(await digRecords(bind.server, `_liqo-owner.contested.${ZONE}`, 'TXT'), [
        `"heritage=liqo-discovery" "cluster-id=${winnerId}"`,
      ]);
      assert.deepEqual(await digRecords(bind.server, `contested.${ZONE}`, 'A'), [
        winnerId === 'id-a' ? '127.0.0.11' : '127.0.0.12',
      ]);
      const cleanup = await deregister(
        { zone: ZONE, instance: 'contested', clusterId: winnerId },
        { server: bind.server, key: winnerId === 'id-a' ? keyA : keyB },
      );
      expectOk(cleanup, 'removed');
    }
  });

  it('an UPDATE too big for UDP goes over TCP', async () => {
    const many = Array.from({ length: 80 }, (_, index) => `127.0.1.${index + 1}`);
    const spec = specA({
      authUrl: 'https://big.example.com:443',
      targetAddresses: many,
      clusterName: 'x'.repeat(200),
    });
    const udpBefore = relay.udpStats().queries;
    const result = await register(spec, { ...optionsA, server: relay.server });
    expectOk(result, 'created');
    assert.equal(relay.udpStats().queries, udpBefore, 'no UDP message: both UPDATEs went over TCP');
    assert.equal((await digRecords(bind.server, 'big.example.com', 'A')).length, 80);
    expectOk(await deregister(spec, optionsA), 'removed');
    assert.deepEqual(await digRecords(bind.server, 'big.example.com', 'A'), []);
  });

  it('a zone that refuses updates: REFUSED in words', async () => {
    const result = await register(specA({ zone: 'refuse.test' }), optionsA);
    assert.ok(!result.ok);
    assert.equal(result.reason, 'rcode');
    assert.equal(result.rcode, 'REFUSED');
    assert.match(
      result.message,
      /answered REFUSED: .*update-policy \/ allow-update for zone refuse\.test does not let key 'liqo-a'/,
    );
  });

  it('a zone the server does not serve: NOTAUTH in words', async () => {
    const result = await register(specA({ zone: 'elsewhere.test' }), optionsA);
    assert.ok(!result.ok);
    assert.equal(result.rcode, 'NOTAUTH');
    assert.match(result.message, /answered NOTAUTH: is not authoritative for zone elsewhere\.test/);
  });

  it('a bad key: BADSIG in words, nothing written', async () => {
    const result = await register(specA(), { ...optionsA, key: { ...keyA, secret: randomKey('x').secret } });
    assert.ok(!result.ok);
    assert.equal(result.tsigError, 'BADSIG');
    assert.match(
      result.message,
      /rejected the TSIG signature \(BADSIG\): key 'liqo-a' has a different secret/,
    );
    assert.deepEqual(await digRecords(bind.server, `cluster-a.${ZONE}`, 'SRV'), []);
  });

  describe('a server that is down', () => {
    let silent: Socket;
    before(async () => {
      silent = createSocket('udp4');
      silent.on('message', () => undefined); // takes every packet, answers none
      await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    });
    after(() => silent?.close());

    it('no answer: bounded tries, then one line', async () => {
      const port = (silent.address() as AddressInfo).port;
      const result = await register(specA(), {
        ...optionsA,
        server: `127.0.0.1:${port}`,
        timeoutMs: 200,
        tries: 2,
      });
      assert.ok(!result.ok);
      assert.equal(result.reason, 'unreachable');
      assert.equal(result.message, `no answer from 127.0.0.1:${port} after 2 UDP tries`);
    });

    it('the deadline stops the tries early', async () => {
      const port = (silent.address() as AddressInfo).port;
      const result = await register(specA(), {
        ...optionsA,
        server: `127.0.0.1:${port}`,
        timeoutMs: 5000,
        tries: 5,
        deadlineMs: 300,
      });
      assert.ok(!result.ok);
      assert.equal(result.message, `no answer from 127.0.0.1:${port} after 1 UDP tries`);
    });

    it('a wait cut short by the deadline ends the exchange when it fires, whatever the wall clock then says', async () => {
      // Timers run on the monotonic clock, the deadline is Date.now(). The two disagree on a
      // loaded machine (a timer counts from the event loop's cached time, which is stale after
      // the process was descheduled) and when the wall clock is stepped back. Stepping
      // Date.now() back by 100 ms mid-wait is the one stand-in here for either (changing the
      // machine's clock is out of the question): the old transport then saw 100 ms left and
      // sent a second try, which a loaded CI run caught as "after 2 UDP tries".
      const counter = createSocket('udp4');
      let received = 0;
      counter.on('message', () => received++);
      await new Promise<void>((resolve) => counter.bind(0, '127.0.0.1', resolve));
      const port = (counter.address() as AddressInfo).port;
      const realNow = Date.now;
      try {
        const request = Buffer.from('abcd0000000000000000', 'hex'); // a 12-byte header, id 0xabcd
        const pending = exchange({ host: '127.0.0.1', port }, request, {
          timeoutMs: 5000,
          tries: 5,
          deadline: realNow() + 300,
        }).catch((err: unknown) => err);
        setTimeout(() => (Date.now = () => realNow() - 100), 150);
        const error = await pending;
        Date.now = realNow;
        assert.ok(error instanceof TransportError, String(error));
        assert.equal(error.message, `no answer from 127.0.0.1:${port} after 1 UDP tries`);
        assert.equal(received, 1);
      } finally {
        Date.now = realNow;
        counter.close();
      }
    });

    it('nothing listening: refused at once', async () => {
      const closed = createSocket('udp4');
      await new Promise<void>((resolve) => closed.bind(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const result = await register(specA(), { ...optionsA, server: `127.0.0.1:${port}` });
      assert.ok(!result.ok);
      assert.equal(result.reason, 'unreachable');
      assert.match(result.message, /refused the connection/);
    });
  });

  it('bad input: one line naming the field, no I/O', async () => {
    const cases: [Partial<RegistrationSpec>, Partial<RegistrarOptions>, RegExp][] = [
      [{ instance: 'a.b' }, {}, /instance "a\.b" must be one DNS label/],
      [
        { authUrl: 'http://x.example.com' },
        {},
        /authUrl "http:\/\/x\.example\.com" has scheme "http"; only https is allowed/,
      ],
      [{ authUrl: 'https://x.example.com/path' }, {}, /has the path "\/path"/],
      [{}, { server: 'dns.example.com' }, /expected an IP address/],
      [{}, { key: { ...keyA, secret: 'not base64!' } }, /TSIG secret must be base64/],
      [{}, { key: { ...keyA, algorithm: 'hmac-sha3' as never } }, /TSIG algorithm "hmac-sha3" is not one of/],
    ];
    for (const [spec, options, pattern] of cases) {
      const result = await register(specA(spec), { ...optionsA, ...options });
      assert.ok(!result.ok);
      assert.equal(result.reason, 'invalid');
      assert.equal(result.exchanges, 0);
      assert.match(result.message, pattern);
    }
  });
});
