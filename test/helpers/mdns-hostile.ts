// Hostile mDNS packets for the robustness tests (the flood script and the fuzz properties):
// random bytes, truncated and bit-flipped valid packets, impossible record counts, compression
// pointers to themselves, huge TXT records and bogus instances of our service types.
import dnsPacket, { type RecordType } from 'dns-packet';

/** dns-packet encodes type 255 as 'ANY' but leaves it out of its RecordType. */
const ANY = 'ANY' as RecordType;

/** A small seeded PRNG (mulberry32) so a failing flood can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A response with a bogus instance of `_liqo._tcp.local`, its SRV, A and a TXT of `txtStrings` × 255 bytes. */
export function bogusResponse(index: number, txtStrings: number): Buffer {
  const instance = `bogus-${index}._liqo._tcp.local`;
  const host = `bogus-${index}.local`;
  return dnsPacket.encode({
    type: 'response',
    id: 0,
    flags: 1 << 10,
    answers: [{ name: '_liqo._tcp.local', type: 'PTR', class: 'IN', ttl: 120, data: instance }],
    additionals: [
      {
        name: instance,
        type: 'SRV',
        class: 'IN',
        ttl: 120,
        data: { priority: 0, weight: 0, port: 1000 + index, target: host },
      },
      {
        name: instance,
        type: 'TXT',
        class: 'IN',
        ttl: 120,
        data: Array.from({ length: txtStrings }, () => Buffer.alloc(255, 0x61)),
      },
      { name: host, type: 'A', class: 'IN', ttl: 120, data: `10.254.${(index >> 8) & 255}.${index & 255}` },
    ],
  });
}

/** A header that promises `count` questions/answers and nothing after it. */
export function wrongCounts(count: number): Buffer {
  const buf = Buffer.alloc(12);
  buf.writeUInt16BE(0x8400, 2);
  buf.writeUInt16BE(count, 4);
  buf.writeUInt16BE(count, 6);
  buf.writeUInt16BE(count, 10);
  return buf;
}

/** One question whose name is a compression pointer to itself (and one to the next byte). */
export function compressionLoop(): Buffer {
  const buf = Buffer.alloc(12 + 2 + 4 + 4);
  buf.writeUInt16BE(2, 4);
  buf.writeUInt16BE(0xc00c, 12); // offset 12 -> 12
  buf.writeUInt16BE(0x000c, 14);
  buf.writeUInt16BE(0x0001, 16);
  buf.writeUInt16BE(0xc012, 18); // forward pointer
  return buf;
}

export function hostileBuffers(count: number, seed = 42, bogusInstances = 200): Buffer[] {
  const random = seededRandom(seed);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 7;
    const valid = bogusResponse(i % bogusInstances, kind === 6 ? 24 : 1);
    if (kind === 0)
      out.push(
        Buffer.from(Array.from({ length: Math.floor(random() * 1500) }, () => Math.floor(random() * 256))),
      );
    else if (kind === 1) out.push(valid.subarray(0, Math.floor(random() * valid.length)));
    else if (kind === 2) out.push(wrongCounts(1 + Math.floor(random() * 65535)));
    else if (kind === 3) out.push(compressionLoop());
    else if (kind === 4) {
      const flipped = Buffer.from(valid);
      for (let j = 0; j < 8; j++) flipped[Math.floor(random() * flipped.length)] = Math.floor(random() * 256);
      out.push(flipped);
    } else out.push(valid); // kinds 5 and 6: well-formed, bogus instances, huge TXT
  }
  return out;
}

/** The names an advertiser holds, for packets aimed at them. */
export interface AimedNames {
  /** Instance names, e.g. `<id>._liqo._tcp.local`. */
  instances: string[];
  /** The host name, e.g. `liqo-<id>.local`. */
  host: string;
}

/**
 * Packets about one advertiser's own names, which reach the parts of its packet handling that
 * random traffic never does: probes for its names with other data (the §8.2 tie-break), responses
 * claiming them (the §9 conflict check), spoofed goodbyes, QU queries with garbage known answers,
 * and truncated or bit-flipped copies of all of these.
 */
export function aimedBuffers(names: AimedNames, count: number, seed = 7): Buffer[] {
  const random = seededRandom(seed);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T;
  const port = () => Math.floor(random() * 65536);
  const ip = () =>
    `10.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`;
  const srv = (ttl: number) =>
    ({
      name: pick(names.instances),
      type: 'SRV',
      class: 'IN',
      ttl,
      data: { priority: port(), weight: port(), port: port(), target: pick([names.host, 'elsewhere.local']) },
    }) as const;
  const hostA = (ttl: number) => ({ name: names.host, type: 'A', class: 'IN', ttl, data: ip() }) as const;
  const shapes: (() => Buffer)[] = [
    () =>
      dnsPacket.encode({
        type: 'query',
        id: 0,
        flags: 0,
        questions: [{ name: pick(names.instances), type: ANY, class: 'IN' }],
        authorities: [srv(120)],
      }),
    () =>
      dnsPacket.encode({
        type: 'query',
        id: 0,
        flags: 0,
        questions: [{ name: names.host, type: ANY, class: 'IN' }],
        authorities: [hostA(120)],
      }),
    () => dnsPacket.encode({ type: 'response', id: 0, flags: 1 << 10, answers: [srv(120)] }),
    () => dnsPacket.encode({ type: 'response', id: 0, flags: 1 << 10, answers: [hostA(120)] }),
    () => dnsPacket.encode({ type: 'response', id: 0, flags: 1 << 10, answers: [srv(0), hostA(0)] }),
    () =>
      dnsPacket.encode({
        type: 'query',
        id: Math.floor(random() * 65536),
        flags: 0,
        questions: [
          { name: pick(names.instances), type: pick<RecordType>(['SRV', 'TXT', ANY]), class: 'IN' },
        ],
        answers: [srv(Math.floor(random() * 5000)), hostA(Math.floor(random() * 5000))],
      }),
  ];
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const packet = pick(shapes)();
    const damage = i % 4;
    if (damage === 1) out.push(packet.subarray(0, Math.floor(random() * packet.length)));
    else if (damage === 2) {
      const flipped = Buffer.from(packet);
      for (let j = 0; j < 4; j++) flipped[Math.floor(random() * flipped.length)] = Math.floor(random() * 256);
      out.push(flipped);
    } else out.push(packet);
  }
  return out;
}
