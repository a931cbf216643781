// TSIG (RFC 8945): HMAC signing of a DNS message and verification of the signed answer, with
// node:crypto. No npm package signs TSIG (dns-packet, which we use, only knows the type number;
// dns2 and native-dns have no TSIG), so this is ours, tested byte for byte against BIND's
// nsupdate and dig (test/integration/dns-registration-tsig.test.ts).
//
// What the MAC covers (§4.3.3): [for an answer: the request's MAC size and MAC], the message as
// sent without its TSIG record (ARCOUNT one less, the original id), then the TSIG variables: the
// key name and algorithm name in canonical (lower-case, uncompressed) form, class ANY, TTL 0,
// time signed (48 bits), fudge, error, other len and other data.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { nameCodec } from './wire-codecs.js';
import type { TsigAlgorithm, TsigErrorName, TsigKey } from './types.js';
import { TSIG_ALGORITHMS } from './types.js';

const TYPE_TSIG = 250;
const CLASS_ANY = 255;
export const DEFAULT_FUDGE_SECONDS = 300;

/** RFC 8945 §6: the wire name, node:crypto's hash name and the full MAC length. */
const ALGORITHMS: Record<TsigAlgorithm, { wireName: string; hash: string; macBytes: number }> = {
  'hmac-md5': { wireName: 'hmac-md5.sig-alg.reg.int', hash: 'md5', macBytes: 16 },
  'hmac-sha1': { wireName: 'hmac-sha1', hash: 'sha1', macBytes: 20 },
  'hmac-sha224': { wireName: 'hmac-sha224', hash: 'sha224', macBytes: 28 },
  'hmac-sha256': { wireName: 'hmac-sha256', hash: 'sha256', macBytes: 32 },
  'hmac-sha384': { wireName: 'hmac-sha384', hash: 'sha384', macBytes: 48 },
  'hmac-sha512': { wireName: 'hmac-sha512', hash: 'sha512', macBytes: 64 },
};

const TSIG_ERRORS: Record<number, TsigErrorName> = {
  16: 'BADSIG',
  17: 'BADKEY',
  18: 'BADTIME',
  22: 'BADTRUNC',
};

export function tsigErrorName(code: number): TsigErrorName {
  return TSIG_ERRORS[code] ?? `TSIG${code}`;
}

/** The key's problem in one line, or undefined when it can sign. */
export function checkTsigKey(key: TsigKey | undefined): { field: string; message: string } | undefined {
  if (!key || typeof key !== 'object') return { field: 'key', message: 'no TSIG key given' };
  if (typeof key.name !== 'string' || !/^[A-Za-z0-9_.-]{1,253}$/.test(key.name.replace(/\.$/, ''))) {
    return {
      field: 'key.name',
      message: `TSIG key name "${String(key.name)}" must be a DNS name (e.g. liqo-a)`,
    };
  }
  if (!TSIG_ALGORITHMS.includes(key.algorithm)) {
    return {
      field: 'key.algorithm',
      message: `TSIG algorithm "${String(key.algorithm)}" is not one of ${TSIG_ALGORITHMS.join(', ')}`,
    };
  }
  if (typeof key.secret !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(key.secret.trim())) {
    return { field: 'key.secret', message: 'TSIG secret must be base64 (as tsig-keygen prints it)' };
  }
  if (key.secret.trim().length % 4 !== 0) {
    return {
      field: 'key.secret',
      message: 'TSIG secret is not whole base64 (its length is not a multiple of 4)',
    };
  }
  return undefined;
}

/** A name in canonical wire form: lower-case labels, uncompressed. */
function canonicalName(name: string): Buffer {
  const text = name.replace(/\.$/, '').toLowerCase();
  return nameCodec.encode(text === '' ? '.' : text);
}

function uint48(seconds: number): Buffer {
  const buffer = Buffer.alloc(6);
  buffer.writeUIntBE(seconds, 0, 6);
  return buffer;
}

export interface TsigFields {
  /** Seconds since the epoch. */
  timeSigned: number;
  fudge: number;
  originalId: number;
  error: number;
  otherData: Buffer;
}

/** The TSIG variables of §4.3.3 (what the MAC covers after the message). */
function tsigVariables(key: TsigKey, fields: TsigFields): Buffer {
  const fixed = Buffer.alloc(2 + 4);
  fixed.writeUInt16BE(CLASS_ANY, 0);
  fixed.writeUInt32BE(0, 2);
  const tail = Buffer.alloc(6);
  tail.writeUInt16BE(fields.fudge, 0);
  tail.writeUInt16BE(fields.error, 2);
  tail.writeUInt16BE(fields.otherData.length, 4);
  return Buffer.concat([
    canonicalName(key.name),
    fixed,
    canonicalName(ALGORITHMS[key.algorithm].wireName),
    uint48(fields.timeSigned),
    tail,
    fields.otherData,
  ]);
}

function computeMac(key: TsigKey, parts: Buffer[]): Buffer {
  const hmac = createHmac(ALGORITHMS[key.algorithm].hash, Buffer.from(key.secret.trim(), 'base64'));
  for (const part of parts) hmac.update(part);
  return hmac.digest();
}

function macPrefix(requestMac: Buffer | undefined): Buffer[] {
  if (!requestMac) return [];
  const size = Buffer.alloc(2);
  size.writeUInt16BE(requestMac.length, 0);
  return [size, requestMac];
}

/** The TSIG resource record itself (§4.2), as appended to the message. */
function tsigRecord(key: TsigKey, fields: TsigFields, mac: Buffer): Buffer {
  const algorithm = canonicalName(ALGORITHMS[key.algorithm].wireName);
  const rdata = Buffer.concat([
    algorithm,
    uint48(fields.timeSigned),
    Buffer.alloc(4 + mac.length + 6 + fields.otherData.length),
  ]);
  let offset = algorithm.length + 6;
  rdata.writeUInt16BE(fields.fudge, offset);
  rdata.writeUInt16BE(mac.length, offset + 2);
  mac.copy(rdata, offset + 4);
  offset += 4 + mac.length;
  rdata.writeUInt16BE(fields.originalId, offset);
  rdata.writeUInt16BE(fields.error, offset + 2);
  rdata.writeUInt16BE(fields.otherData.length, offset + 4);
  fields.otherData.copy(rdata, offset + 6);
  const head = Buffer.alloc(10);
  head.writeUInt16BE(TYPE_TSIG, 0);
  head.writeUInt16BE(CLASS_ANY, 2);
  head.writeUInt32BE(0, 4);
  head.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([canonicalName(key.name), head, rdata]);
}

/** The smallest MAC length §5.2.2.1 allows for an algorithm: half the hash, at least 10 bytes. */
export function minimumMacBytes(algorithm: TsigAlgorithm): number {
  return Math.max(10, Math.ceil(ALGORITHMS[algorithm].macBytes / 2));
}

export interface SignOptions {
  /** Seconds since the epoch. */
  timeSigned: number;
  fudge?: number;
  /** For signing an answer (tests play server): the request's MAC. */
  requestMac?: Buffer;
  error?: number;
  otherData?: Buffer;
  /** Truncated MAC length in bytes (§5.2.2.1); default the full MAC. */
  macBytes?: number;
}

export interface SignedMessage {
  message: Buffer;
  /** The full-length or truncated MAC as sent: the answer's MAC covers it. */
  mac: Buffer;
  /** The TSIG record's bytes (the tail of `message`). */
  record: Buffer;
}

/** Appends a TSIG record to an unsigned wire message (ARCOUNT + 1). */
export function signMessage(unsigned: Buffer, key: TsigKey, options: SignOptions): SignedMessage {
  const fields: TsigFields = {
    timeSigned: options.timeSigned,
    fudge: options.fudge ?? DEFAULT_FUDGE_SECONDS,
    originalId: unsigned.readUInt16BE(0),
    error: options.error ?? 0,
    otherData: options.otherData ?? Buffer.alloc(0),
  };
  const full = computeMac(key, [...macPrefix(options.requestMac), unsigned, tsigVariables(key, fields)]);
  const size = options.macBytes ?? full.length;
  if (size > full.length || size < minimumMacBytes(key.algorithm)) {
    throw new RangeError(
      `MAC length ${size} for ${key.algorithm} must be ${minimumMacBytes(key.algorithm)}-${full.length} bytes`,
    );
  }
  const mac = full.subarray(0, size);
  const record = tsigRecord(key, fields, mac);
  const message = Buffer.concat([unsigned, record]);
  message.writeUInt16BE(unsigned.readUInt16BE(10) + 1, 10);
  return { message, mac, record };
}

export interface FoundTsig extends TsigFields {
  keyName: string;
  algorithmName: string;
  mac: Buffer;
  /** The message without its TSIG record: ARCOUNT one less, the original id in the header. */
  unsigned: Buffer;
  /** The TSIG record's bytes. */
  record: Buffer;
}

/** Skips a (possibly compressed) name; returns the offset after it. */
function skipName(buffer: Buffer, offset: number): number {
  for (;;) {
    const length = buffer.readUInt8(offset);
    if (length === 0) return offset + 1;
    if ((length & 0xc0) === 0xc0) return offset + 2;
    offset += length + 1;
  }
}

/**
 * The TSIG record when it is the message's last additional record (§5.1: anywhere else the
 * message is malformed); undefined when there is none. Throws on a message it cannot walk.
 */
export function findTsig(message: Buffer): FoundTsig | undefined {
  const counts = [4, 6, 8, 10].map((at) => message.readUInt16BE(at));
  const [questions = 0, answers = 0, authorities = 0, additionals = 0] = counts;
  if (additionals === 0) return undefined;
  let offset = 12;
  for (let i = 0; i < questions; i++) offset = skipName(message, offset) + 4;
  const before = answers + authorities + additionals - 1;
  for (let i = 0; i < before; i++) {
    offset = skipName(message, offset);
    offset += 10 + message.readUInt16BE(offset + 8);
  }
  const start = offset;
  const keyName = nameCodec.decode(message, offset);
  offset = skipName(message, offset);
  if (message.readUInt16BE(offset) !== TYPE_TSIG) return undefined;
  const rdlength = message.readUInt16BE(offset + 8);
  let at = offset + 10;
  const end = at + rdlength;
  if (end !== message.length) throw new RangeError('TSIG record is not the end of the message');
  const algorithmName = nameCodec.decode(message, at);
  at = skipName(message, at);
  const timeSigned = message.readUIntBE(at, 6);
  const fudge = message.readUInt16BE(at + 6);
  const macSize = message.readUInt16BE(at + 8);
  const mac = message.subarray(at + 10, at + 10 + macSize);
  at += 10 + macSize;
  const originalId = message.readUInt16BE(at);
  const error = message.readUInt16BE(at + 2);
  const otherLength = message.readUInt16BE(at + 4);
  const otherData = message.subarray(at + 6, at + 6 + otherLength);
  if (at + 6 + otherLength !== end) throw new RangeError('TSIG record length does not match its fields');
  const unsigned = Buffer.from(message.subarray(0, start));
  unsigned.writeUInt16BE(originalId, 0);
  unsigned.writeUInt16BE(additionals - 1, 10);
  return {
    keyName,
    algorithmName,
    timeSigned,
    fudge,
    mac: Buffer.from(mac),
    originalId,
    error,
    otherData: Buffer.from(otherData),
    unsigned,
    record: Buffer.from(message.subarray(start)),
  };
}

export type VerifyResult =
  | { ok: true; tsig: FoundTsig }
  | {
      ok: false;
      /** unsigned: no TSIG; server-error: the server put a TSIG error in it; forged: bad MAC or key. */
      kind: 'unsigned' | 'server-error' | 'forged' | 'time' | 'truncated';
      tsigError?: TsigErrorName;
      tsig?: FoundTsig;
      message: string;
    };

/**
 * Verifies an answer to a request we signed with `key` (whose MAC was `requestMac`), at `now`
 * (seconds). An answer carrying a TSIG error (BADSIG, BADKEY: unsigned by the rules; BADTIME:
 * signed) is reported as such, in words, whatever its MAC.
 */
export function verifyResponse(
  response: Buffer,
  key: TsigKey,
  requestMac: Buffer,
  now: number,
): VerifyResult {
  let tsig: FoundTsig | undefined;
  try {
    tsig = findTsig(response);
  } catch (error) {
    return {
      ok: false,
      kind: 'forged',
      message: `the answer's TSIG record is malformed (${(error as Error).message})`,
    };
  }
  if (!tsig) return { ok: false, kind: 'unsigned', message: 'the answer is not signed (no TSIG record)' };
  if (tsig.error !== 0) {
    const name = tsigErrorName(tsig.error);
    return {
      ok: false,
      kind: 'server-error',
      tsigError: name,
      tsig,
      message: describeTsigError(name, key, tsig, now),
    };
  }
  if (tsig.keyName.toLowerCase() !== key.name.replace(/\.$/, '').toLowerCase()) {
    return {
      ok: false,
      kind: 'forged',
      tsig,
      message: `the answer is signed with key '${tsig.keyName}', not '${key.name}'`,
    };
  }
  if (tsig.algorithmName.toLowerCase() !== ALGORITHMS[key.algorithm].wireName) {
    return {
      ok: false,
      kind: 'forged',
      tsig,
      message: `the answer is signed with ${tsig.algorithmName}, not ${key.algorithm}`,
    };
  }
  const full = ALGORITHMS[key.algorithm].macBytes;
  // §5.2.2.1 / §5.3.1: a MAC longer than the hash, shorter than allowed, or shorter than ours.
  if (
    tsig.mac.length > full ||
    tsig.mac.length < Math.max(minimumMacBytes(key.algorithm), requestMac.length)
  ) {
    return {
      ok: false,
      kind: 'truncated',
      tsig,
      message: `the answer's MAC is ${tsig.mac.length} bytes; ${key.algorithm} allows ${Math.max(minimumMacBytes(key.algorithm), requestMac.length)}-${full}`,
    };
  }
  const expected = computeMac(key, [
    ...macPrefix(requestMac),
    tsig.unsigned,
    tsigVariables(key, tsig),
  ]).subarray(0, tsig.mac.length);
  if (!timingSafeEqual(expected, tsig.mac)) {
    return {
      ok: false,
      kind: 'forged',
      tsig,
      message: `the answer's TSIG MAC does not verify with key '${key.name}'`,
    };
  }
  if (Math.abs(now - tsig.timeSigned) > tsig.fudge) {
    return {
      ok: false,
      kind: 'time',
      tsig,
      message: `the answer was signed at ${isoTime(tsig.timeSigned)}, ${Math.abs(now - tsig.timeSigned)} s from our clock (fudge ${tsig.fudge} s): check NTP here and on the server`,
    };
  }
  return { ok: true, tsig };
}

function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** A server's TSIG error in words a user acts on. */
export function describeTsigError(
  name: TsigErrorName,
  key: TsigKey,
  tsig: FoundTsig | undefined,
  now: number,
): string {
  switch (name) {
    case 'BADSIG':
      return `the server rejected the TSIG signature (BADSIG): key '${key.name}' has a different secret there; copy the secret the server has for it`;
    case 'BADKEY':
      return `the server does not know TSIG key '${key.name}' with algorithm ${key.algorithm} (BADKEY): check the key name and algorithm against the server's key statement`;
    case 'BADTIME': {
      const serverTime = tsig && tsig.otherData.length === 6 ? tsig.otherData.readUIntBE(0, 6) : undefined;
      const skew =
        serverTime !== undefined
          ? `; the server's clock says ${isoTime(serverTime)}, ours ${isoTime(now)}`
          : '';
      return `the server rejected the TSIG time (BADTIME): the clocks differ by more than the fudge${skew}; fix the time (NTP) here or on the server`;
    }
    case 'BADTRUNC':
      return `the server rejected the truncated TSIG MAC (BADTRUNC)`;
    default:
      return `the server answered TSIG error ${name}`;
  }
}
