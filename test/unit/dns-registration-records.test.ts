// The pure parts of DNS registration: planRecords (the exact record set of both layouts, the
// ownership record, which RRsets are ours alone), the UPDATE encoding read back by dns-packet
// (opcode, sections, class NONE/ANY, the RFC 9664 lease option) and RFC 8945's rules on an
// answer's MAC length and time, checked with answers our own signer makes.
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import { formatRecord, planRecords, type RegistrationSpec } from '../../shared/dns-registration/index.js';
import { encodeUpdate, prerequisite, update } from '../../shared/dns-registration/update-message.js';
import { findTsig, signMessage, verifyResponse } from '../../shared/dns-registration/tsig.js';
import { parseOwnerStrings } from '../../shared/dns-registration/records.js';
import { describeRcode } from '../../shared/dns-registration/rcodes.js';

/** What dns-packet decodes, loosely: its types know neither opcode nor class NONE. */
interface LooseRecord {
  type: string;
  class?: string;
  ttl?: number;
  data?: unknown;
  options?: { code: number; data: Buffer }[];
}
interface Loose {
  id: number;
  opcode: string;
  questions: unknown[];
  answers: LooseRecord[];
  authorities: LooseRecord[];
  additionals: LooseRecord[];
}

const BASE: RegistrationSpec = {
  zone: 'Example.COM.',
  instance: 'Cluster-A',
  authUrl: 'https://203.0.113.10:8443',
  clusterId: 'id-a',
  clusterName: 'cluster a',
  ttl: 120,
};

function zoneLines(spec: RegistrationSpec): string[] {
  const plan = planRecords(spec);
  assert.ok(plan.ok, plan.ok ? '' : plan.message);
  return plan.plan.records.map(formatRecord);
}

describe('dns-registration: planRecords', () => {
  it('an IP auth URL: both layouts, the target named after the instance, the owner record', () => {
    assert.deepEqual(zoneLines(BASE), [
      'example.com. 120 IN PTR cluster-a.example.com.',
      'cluster-a.example.com. 120 IN SRV 0 0 8443 cluster-a.example.com.',
      'cluster-a.example.com. 120 IN TXT "txtvers=1" "id=id-a" "name=cluster a"',
      '_liqo._tcp.example.com. 120 IN PTR cluster-a._liqo._tcp.example.com.',
      'cluster-a._liqo._tcp.example.com. 120 IN SRV 0 0 8443 cluster-a.example.com.',
      'cluster-a._liqo._tcp.example.com. 120 IN TXT "txtvers=1" "id=id-a" "name=cluster a"',
      'cluster-a.example.com. 120 IN A 203.0.113.10',
      '_liqo-owner.cluster-a.example.com. 120 IN TXT "heritage=liqo-discovery" "cluster-id=id-a"',
    ]);
  });

  it('an IPv6 auth URL gets an AAAA; port 443 by default', () => {
    const lines = zoneLines({ ...BASE, authUrl: 'https://[2001:DB8::1]', layouts: ['guide'] });
    assert.ok(lines.includes('cluster-a.example.com. 120 IN SRV 0 0 443 cluster-a.example.com.'));
    assert.ok(lines.includes('cluster-a.example.com. 120 IN AAAA 2001:db8::1'));
  });

  it('a host outside the zone: SRV to it, no address records', () => {
    const lines = zoneLines({ ...BASE, authUrl: 'https://ids.other.org:443', layouts: ['rfc6763'] });
    assert.deepEqual(lines, [
      '_liqo._tcp.example.com. 120 IN PTR cluster-a._liqo._tcp.example.com.',
      'cluster-a._liqo._tcp.example.com. 120 IN SRV 0 0 443 ids.other.org.',
      'cluster-a._liqo._tcp.example.com. 120 IN TXT "txtvers=1" "id=id-a" "name=cluster a"',
      '_liqo-owner.cluster-a.example.com. 120 IN TXT "heritage=liqo-discovery" "cluster-id=id-a"',
    ]);
  });

  it('an in-zone host with addresses: its A/AAAA are ours and the owner record says so', () => {
    const plan = planRecords({
      ...BASE,
      authUrl: 'https://ids.a.example.com:443',
      targetAddresses: ['192.0.2.1', '2001:db8::2'],
      browseDomains: true,
    });
    assert.ok(plan.ok);
    assert.deepEqual(plan.plan.ownedNames, [
      'cluster-a.example.com',
      'cluster-a._liqo._tcp.example.com',
      'ids.a.example.com',
    ]);
    const lines = plan.plan.records.map(formatRecord);
    assert.ok(lines.includes('ids.a.example.com. 120 IN A 192.0.2.1'));
    assert.ok(lines.includes('ids.a.example.com. 120 IN AAAA 2001:db8::2'));
    assert.ok(lines.includes('b._dns-sd._udp.example.com. 120 IN PTR example.com.'));
    assert.ok(lines.includes('lb._dns-sd._udp.example.com. 120 IN PTR example.com.'));
    assert.deepEqual(plan.plan.owner.data, [
      'heritage=liqo-discovery',
      'cluster-id=id-a',
      'hosts=ids.a.example.com',
    ]);
    assert.deepEqual(parseOwnerStrings(plan.plan.owner.data), {
      clusterId: 'id-a',
      hosts: ['ids.a.example.com'],
    });
    assert.deepEqual(plan.plan.shared.map(formatRecord), [
      'example.com. 120 IN PTR cluster-a.example.com.',
      '_liqo._tcp.example.com. 120 IN PTR cluster-a._liqo._tcp.example.com.',
      'b._dns-sd._udp.example.com. 120 IN PTR example.com.',
      'lb._dns-sd._udp.example.com. 120 IN PTR example.com.',
    ]);
  });

  it('refuses what DNS-SD cannot carry, naming the field', () => {
    const cases: [Partial<RegistrationSpec>, string, RegExp][] = [
      [{ zone: 'bad..zone' }, 'zone', /empty label/],
      [{ instance: '-a' }, 'instance', /one DNS label/],
      [{ clusterId: ' ' }, 'clusterId', /empty/],
      [{ clusterId: 'a b' }, 'clusterId', /without spaces or commas/],
      [{ ttl: -1 }, 'ttl', /whole number/],
      [{ layouts: [] }, 'layouts', /one or both/],
      [{ authUrl: 'https://h.example.com/ids' }, 'authUrl', /has the path "\/ids"/],
      [{ authUrl: 'ftp://h' }, 'authUrl', /https/],
      [{ authUrl: 'https://ids.example.com', targetAddresses: ['nope'] }, 'targetAddresses', /not an IP/],
    ];
    for (const [change, field, pattern] of cases) {
      const plan = planRecords({ ...BASE, ...change });
      assert.ok(!plan.ok, JSON.stringify(change));
      assert.equal(plan.field, field);
      assert.match(plan.message, pattern);
    }
  });
});

describe('dns-registration: UPDATE encoding', () => {
  it('dns-packet reads our UPDATE back: opcode, zone, prerequisites, updates, lease', () => {
    const srv = {
      name: 'a.example.com',
      ttl: 60,
      type: 'SRV' as const,
      data: { priority: 0, weight: 0, port: 443, target: 'h.example.com' },
    };
    const wire = encodeUpdate({
      id: 4660,
      zone: 'example.com',
      prerequisites: [
        prerequisite.rrsetEquals({
          name: '_liqo-owner.a.example.com',
          ttl: 60,
          type: 'TXT',
          data: ['cluster-id=x'],
        }),
        prerequisite.nameUnused('a.example.com'),
      ],
      // (dns-packet cannot decode an SRV without RDATA, so the RRset deleted here is a TXT one)
      updates: [
        update.deleteRRset('a.example.com', 'TXT'),
        update.add(srv),
        update.deleteRecord({ ...srv, ttl: 0 }),
      ],
      lease: { seconds: 3600, keySeconds: 86400 },
    });
    const decoded = dnsPacket.decode(wire) as unknown as Loose;
    assert.equal(decoded.id, 4660);
    assert.equal(decoded.opcode, 'UPDATE');
    assert.deepEqual(decoded.questions, [{ name: 'example.com', type: 'SOA', class: 'IN' }]);
    const [owner, unused] = decoded.answers;
    assert.deepEqual([owner?.type, owner?.class], ['TXT', 'IN']);
    assert.deepEqual([unused?.type, unused?.class], ['ANY', 'UNKNOWN_254'], 'class NONE');
    const [deleteSet, add, deleteOne] = decoded.authorities;
    assert.deepEqual([deleteSet?.type, deleteSet?.class, deleteSet?.ttl], ['TXT', 'ANY', 0]);
    assert.deepEqual([add?.class, add?.ttl, add?.data], ['IN', 60, srv.data]);
    assert.deepEqual([deleteOne?.class, deleteOne?.ttl, deleteOne?.data], ['UNKNOWN_254', 0, srv.data]);
    const opt = decoded.additionals[0];
    assert.equal(opt?.type, 'OPT');
    assert.equal(opt?.options?.length, 1);
    assert.equal(opt?.options?.[0]?.code, 2, 'RFC 9664 Update Lease');
    assert.equal(opt?.options?.[0]?.data.toString('hex'), '00000e1000015180');
  });

  it('the lease without KEY-LEASE is 4 bytes', () => {
    const wire = encodeUpdate({
      id: 1,
      zone: 'example.com',
      prerequisites: [],
      updates: [],
      lease: { seconds: 60 },
    });
    const opt = (dnsPacket.decode(wire) as unknown as Loose).additionals[0];
    assert.equal(opt?.options?.[0]?.data.toString('hex'), '0000003c');
  });
});

describe('dns-registration: RFC 8945 rules on answers', () => {
  const key = {
    name: 'k',
    algorithm: 'hmac-sha256' as const,
    secret: Buffer.alloc(32, 7).toString('base64'),
  };
  const request = signMessage(
    encodeUpdate({ id: 9, zone: 'example.com', prerequisites: [], updates: [] }),
    key,
    {
      timeSigned: 1_000_000,
    },
  );
  const answerOf = (macBytes?: number, timeSigned = 1_000_000) => {
    const unsigned = Buffer.from(findTsig(request.message)?.unsigned ?? Buffer.alloc(0));
    unsigned.writeUInt16BE(unsigned.readUInt16BE(2) | 0x8000, 2);
    return signMessage(unsigned, key, {
      timeSigned,
      requestMac: request.mac,
      ...(macBytes ? { macBytes } : {}),
    }).message;
  };

  it('accepts a full MAC within the fudge', () => {
    assert.ok(verifyResponse(answerOf(), key, request.mac, 1_000_299).ok);
  });

  it('refuses an answer MAC shorter than the request MAC (§5.3.1)', () => {
    const result = verifyResponse(answerOf(16), key, request.mac, 1_000_000);
    assert.ok(!result.ok && result.kind === 'truncated', JSON.stringify(result));
    assert.match(result.ok ? '' : result.message, /MAC is 16 bytes; hmac-sha256 allows 32-32/);
  });

  it('accepts a truncated answer MAC when the request was truncated the same way', () => {
    const truncated = signMessage(
      encodeUpdate({ id: 9, zone: 'example.com', prerequisites: [], updates: [] }),
      key,
      {
        timeSigned: 1_000_000,
        macBytes: 16,
      },
    );
    const unsigned = Buffer.from(findTsig(truncated.message)?.unsigned ?? Buffer.alloc(0));
    unsigned.writeUInt16BE(unsigned.readUInt16BE(2) | 0x8000, 2);
    const answer = signMessage(unsigned, key, {
      timeSigned: 1_000_000,
      requestMac: truncated.mac,
      macBytes: 16,
    });
    assert.ok(verifyResponse(answer.message, key, truncated.mac, 1_000_000).ok);
  });

  it('refuses an answer signed more than the fudge away', () => {
    const result = verifyResponse(answerOf(undefined, 1_000_000), key, request.mac, 1_000_301);
    assert.ok(!result.ok && result.kind === 'time');
  });
});

describe('dns-registration: response codes in words', () => {
  it('names every UPDATE code with what it means, and says so for a code it does not know', () => {
    const expected: [number, RegExp][] = [
      [1, /^answered FORMERR: could not parse our message$/],
      [2, /^answered SERVFAIL: failed while applying it/],
      [3, /^answered NXDOMAIN: /],
      [5, /^answered REFUSED: .*update-policy \/ allow-update for zone example\.com does not let key 'k'/],
      [6, /^answered YXDOMAIN: .*name we required to be unused exists/],
      [7, /^answered YXRRSET: .*record set we required to be absent exists/],
      [8, /^answered NXRRSET: .*record set we required is absent or different/],
      [9, /^answered NOTAUTH: is not authoritative for zone example\.com/],
      [10, /^answered NOTZONE: .*outside zone example\.com/],
      [12, /^answered RCODE12: an error code we do not know$/],
    ];
    for (const [code, pattern] of expected) assert.match(describeRcode(code, 'example.com', 'k'), pattern);
  });
});
