// RFC 2136 UPDATE messages on the wire. dns-packet encodes the opcode and the four sections
// (zone = questions, prerequisites = answers, updates = authorities, additionals), but its record
// encoder cannot write class NONE (254) or an empty RDATA, which UPDATE needs for "RRset does not
// exist", "delete an RRset" and "delete one RR". So the header and the records are laid out here,
// with dns-packet's own name and RDATA codecs; the RFC 9664 Update Lease goes in an EDNS(0) OPT.
//
//   RFC 2136 §2.4 prerequisites            §2.5 updates
//   yxrrset value-dependent: IN  + RDATA    add to an RRset:   IN  + TTL + RDATA
//   nxrrset:                 NONE, no RDATA delete an RRset:   ANY, TTL 0, no RDATA
//   nxdomain (name unused):  NONE ANY       delete one RR:     NONE, TTL 0 + RDATA
import dnsPacket from 'dns-packet';
import type { PublishedRecord, UpdateLease } from './types.js';
import { nameCodec, rdataCodec } from './wire-codecs.js';

const OPCODE_UPDATE = 5;
const TYPES = { A: 1, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, SOA: 6, OPT: 41, ANY: 255 } as const;
const CLASSES = { IN: 1, NONE: 254, ANY: 255 } as const;
/** RFC 9664 §4: the Update Lease option code. */
export const EDNS_OPTION_UPDATE_LEASE = 2;
/** RFC 6891 §6.2.5 / DNS flag day 2020: what we say we can receive over UDP. */
export const EDNS_UDP_PAYLOAD = 1232;

export type RecordTypeName = keyof typeof TYPES;

/** One record of the prerequisite or update section. */
export interface UpdateRecord {
  name: string;
  type: RecordTypeName;
  class: keyof typeof CLASSES;
  ttl: number;
  /** Omitted for "no RDATA" (RDLENGTH 0). */
  rdata?: PublishedRecord;
}

export const prerequisite = {
  /** The RRset exists exactly as given (value-dependent, RFC 2136 §2.4.2). */
  rrsetEquals: (record: PublishedRecord): UpdateRecord => ({
    name: record.name,
    type: record.type,
    class: 'IN',
    ttl: 0,
    rdata: record,
  }),
  /** No RRset of this type at the name (§2.4.3). */
  rrsetAbsent: (name: string, type: RecordTypeName): UpdateRecord => ({ name, type, class: 'NONE', ttl: 0 }),
  /** The name owns no record of any type (§2.4.5). */
  nameUnused: (name: string): UpdateRecord => ({ name, type: 'ANY', class: 'NONE', ttl: 0 }),
};

export const update = {
  add: (record: PublishedRecord): UpdateRecord => ({
    name: record.name,
    type: record.type,
    class: 'IN',
    ttl: record.ttl,
    rdata: record,
  }),
  deleteRRset: (name: string, type: RecordTypeName): UpdateRecord => ({ name, type, class: 'ANY', ttl: 0 }),
  deleteRecord: (record: PublishedRecord): UpdateRecord => ({
    name: record.name,
    type: record.type,
    class: 'NONE',
    ttl: 0,
    rdata: record,
  }),
};

function encodeRecord(record: UpdateRecord): Buffer {
  const name = nameCodec.encode(record.name);
  const head = Buffer.alloc(8);
  head.writeUInt16BE(TYPES[record.type], 0);
  head.writeUInt16BE(CLASSES[record.class], 2);
  head.writeUInt32BE(record.ttl, 4);
  // RDATA codecs write RDLENGTH first; "no RDATA" is RDLENGTH 0.
  // (dns-packet's TXT encoder turns the strings of the array it is given into Buffers: a copy.)
  const data = record.rdata && Array.isArray(record.rdata.data) ? [...record.rdata.data] : record.rdata?.data;
  const rdata = record.rdata ? rdataCodec(record.rdata.type).encode(data) : Buffer.alloc(2);
  return Buffer.concat([name, head, rdata]);
}

/** The OPT pseudo-record carrying the Update Lease: LEASE, and KEY-LEASE when given (RFC 9664 §4). */
function encodeLeaseOpt(lease: UpdateLease): Buffer {
  const length = lease.keySeconds === undefined ? 4 : 8;
  const option = Buffer.alloc(4 + length);
  option.writeUInt16BE(EDNS_OPTION_UPDATE_LEASE, 0);
  option.writeUInt16BE(length, 2);
  option.writeUInt32BE(lease.seconds, 4);
  if (lease.keySeconds !== undefined) option.writeUInt32BE(lease.keySeconds, 8);
  const head = Buffer.alloc(11);
  head.writeUInt8(0, 0); // root name
  head.writeUInt16BE(TYPES.OPT, 1);
  head.writeUInt16BE(EDNS_UDP_PAYLOAD, 3);
  head.writeUInt32BE(0, 5); // extended RCODE 0, version 0, no flags
  head.writeUInt16BE(option.length, 9);
  return Buffer.concat([head, option]);
}

export interface UpdateMessage {
  id: number;
  zone: string;
  prerequisites: UpdateRecord[];
  updates: UpdateRecord[];
  lease?: UpdateLease;
}

/** The unsigned UPDATE (TSIG is appended by tsig.ts). */
export function encodeUpdate(message: UpdateMessage): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(message.id, 0);
  header.writeUInt16BE(OPCODE_UPDATE << 11, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(message.prerequisites.length, 6);
  header.writeUInt16BE(message.updates.length, 8);
  header.writeUInt16BE(message.lease ? 1 : 0, 10);
  const zone = Buffer.concat([nameCodec.encode(message.zone), Buffer.from([0, TYPES.SOA, 0, CLASSES.IN])]);
  return Buffer.concat([
    header,
    zone,
    ...message.prerequisites.map(encodeRecord),
    ...message.updates.map(encodeRecord),
    ...(message.lease ? [encodeLeaseOpt(message.lease)] : []),
  ]);
}

/** A plain query (no RD: the primary is authoritative), e.g. for the ownership TXT. */
export function encodeQuery(id: number, name: string, type: 'TXT'): Buffer {
  return dnsPacket.encode({ id, type: 'query', flags: 0, questions: [{ name, type, class: 'IN' }] });
}

/** The RCODE of an answer: the header's 4 bits plus an OPT record's extended bits. */
export function responseCode(message: Buffer): number {
  return message.readUInt16BE(2) & 0x0f;
}

export function isUpdateOpcode(message: Buffer): boolean {
  return ((message.readUInt16BE(2) >> 11) & 0x0f) === OPCODE_UPDATE;
}
