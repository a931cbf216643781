// What the advertiser publishes (SPEC §2, RFC 6763 §12) and how it answers one query (RFC 6762
// §6: matching by name and type, ANY; §7.1 known-answer suppression; additional records).
import dnsPacket, { type Answer, type Packet, type Question } from 'dns-packet';
import { rdataKey, type CachedType } from './cache.js';
import { ANY_TYPE, SERVICES_ENUMERATION, encodeTxt, normalizeName, ttlOf } from './names.js';
import type { MdnsEndpoint } from './sockets.js';

/** RFC 6762 §10: names holding or naming a host: 120 s; everything else 75 min. */
export const HOST_RECORD_TTL = 120;
export const OTHER_RECORD_TTL = 4500;

export interface OwnRecord {
  answer: Answer;
  /** Unique (cache-flush) records are answered at once; shared ones (PTR) after 20-120 ms. */
  unique: boolean;
  /** name|type|rdata, for suppression and rate limits. */
  key: string;
}

export interface PublishedNames {
  /** Full service types, e.g. "_liqo._tcp.local". */
  serviceTypes: string[];
  instance: string;
  /** Host label, without ".local". */
  host: string;
  port: number;
  txt: Record<string, string | undefined>;
  /** Applies to PTR, SRV and TXT; host addresses keep 120 s (as Liqo v0.2's zeroconf does). */
  ttl?: number;
}

export function hostFqdn(names: PublishedNames): string {
  return `${names.host}.local`;
}

export function instanceFqdn(names: PublishedNames, serviceType: string): string {
  return `${names.instance}.${serviceType}`;
}

function own(name: string, type: CachedType | 'PTR', data: unknown, ttl: number, unique: boolean): OwnRecord {
  const answer = { name, type, class: 'IN', ttl, data, flush: unique } as Answer;
  const key = `${normalizeName(name)}|${type}|${rdataKey(type as CachedType, data) ?? ''}`;
  return { answer, unique, key };
}

/** The records published on one endpoint: its interface's addresses, both families. */
export function buildRecords(names: PublishedNames, endpoint: MdnsEndpoint): OwnRecord[] {
  const records: OwnRecord[] = [];
  const host = hostFqdn(names);
  const serviceTtl = names.ttl ?? OTHER_RECORD_TTL;
  const srvTtl = names.ttl ?? HOST_RECORD_TTL;
  for (const type of names.serviceTypes) {
    const instance = instanceFqdn(names, type);
    records.push(own(type, 'PTR', instance, serviceTtl, false));
    records.push(own(SERVICES_ENUMERATION, 'PTR', type, serviceTtl, false));
    records.push(
      own(instance, 'SRV', { priority: 0, weight: 0, port: names.port, target: host }, srvTtl, true),
    );
    records.push(own(instance, 'TXT', encodeTxt(names.txt), serviceTtl, true));
  }
  for (const address of endpoint.addresses) {
    records.push(
      own(host, address.includes(':') ? 'AAAA' : 'A', address.replace(/%.*$/, ''), HOST_RECORD_TTL, true),
    );
  }
  return records;
}

/** The unique names (normalised) a probe claims. */
export function uniqueNames(records: OwnRecord[]): Set<string> {
  return new Set(records.filter((r) => r.unique).map((r) => normalizeName(r.answer.name)));
}

export interface QueryAnswer {
  answers: OwnRecord[];
  additionals: OwnRecord[];
  /** Any shared record among the answers: RFC 6762 §6 delays the reply 20-120 ms. */
  shared: boolean;
}

/** QU questions arrive with the top class bit set; dns-packet then reports "UNKNOWN_32769". */
export function wantsUnicast(q: Question): boolean {
  const klass = String(q.class ?? '');
  return klass === 'UNKNOWN_32769' || klass === 'UNKNOWN_33023';
}

function knownAnswerKeys(query: Packet): Map<string, number> {
  const known = new Map<string, number>();
  for (const a of query.answers ?? []) {
    if (!a || typeof a.name !== 'string' || !('data' in a)) continue;
    const key = `${normalizeName(a.name)}|${a.type}|${rdataKey(a.type as CachedType, a.data) ?? ''}`;
    known.set(key, ttlOf(a));
  }
  return known;
}

export function answerQuery(query: Packet, records: OwnRecord[]): QueryAnswer | undefined {
  const known = knownAnswerKeys(query);
  const suppressed = (r: OwnRecord) => {
    const ttl = known.get(r.key);
    return ttl !== undefined && ttl >= ttlOf(r.answer) / 2;
  };
  const answers = new Map<string, OwnRecord>();
  for (const q of query.questions ?? []) {
    if (!q || typeof q.name !== 'string') continue;
    const name = normalizeName(q.name);
    for (const r of records) {
      if (normalizeName(r.answer.name) !== name) continue;
      if (q.type !== ANY_TYPE && q.type !== r.answer.type) continue;
      if (!suppressed(r)) answers.set(r.key, r);
    }
  }
  if (answers.size === 0) return undefined;
  const extra = new Map<string, OwnRecord>();
  const addFor = (name: string, types: string[]) => {
    for (const r of records) {
      if (normalizeName(r.answer.name) !== name || !types.includes(r.answer.type)) continue;
      if (!answers.has(r.key) && !suppressed(r)) extra.set(r.key, r);
    }
  };
  for (const r of answers.values()) {
    const data = (r.answer as { data?: unknown }).data;
    if (r.answer.type === 'PTR' && typeof data === 'string') {
      addFor(normalizeName(data), ['SRV', 'TXT']);
    }
  }
  for (const r of [...answers.values(), ...extra.values()]) {
    const data = (r.answer as { data?: { target?: unknown } }).data;
    if (r.answer.type === 'SRV' && typeof data?.target === 'string')
      addFor(normalizeName(data.target), ['A', 'AAAA']);
  }
  return {
    answers: [...answers.values()],
    additionals: [...extra.values()],
    shared: [...answers.values()].some((r) => !r.unique),
  };
}

/** The numeric types of the records a probe's authority section may hold for our names. */
const TYPE_CODES: Record<string, number> = { A: 1, PTR: 12, HINFO: 13, TXT: 16, AAAA: 28, SRV: 33, NSEC: 47 };

interface RecordEncoder {
  encode(data: unknown): Buffer;
}

/** The record's rdata in uncompressed wire format (dns-packet never compresses rdata names). */
function rdataBytes(record: Answer): Buffer {
  try {
    const encoder = (dnsPacket as unknown as { record(type: string): RecordEncoder }).record(record.type);
    return encoder.encode((record as { data?: unknown }).data).subarray(2); // past RDLENGTH
  } catch {
    return Buffer.alloc(0); // rdata that does not encode compares as the smallest
  }
}

/** RFC 6762 §8.2.1: class (all IN here), then type, then raw rdata, compared as unsigned bytes. */
function compareRecords(a: Answer, b: Answer): number {
  const typeA = TYPE_CODES[a.type] ?? 0xffff;
  const typeB = TYPE_CODES[b.type] ?? 0xffff;
  if (typeA !== typeB) return typeA - typeB;
  return Buffer.compare(rdataBytes(a), rdataBytes(b));
}

/**
 * §8.2 simultaneous probe tie-break: each side's records sorted, then compared pair by pair;
 * the first difference decides, and a side that runs out first is the earlier. Negative when
 * ours is lexicographically earlier (we lose: wait one second and probe again).
 */
export function compareRecordSets(ours: Answer[], theirs: Answer[]): number {
  const a = [...ours].sort(compareRecords);
  const b = [...theirs].sort(compareRecords);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = compareRecords(a[i] as Answer, b[i] as Answer);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}
