// dns-packet's name and rdata codecs, typed: the package exports them (`name`, `record(type)`)
// but @types/dns-packet declares only whole-packet encode/decode. The UPDATE builder and TSIG
// need them to write what a whole packet cannot say (class NONE, empty RDATA, the TSIG record).
import dnsPacket from 'dns-packet';

export interface Codec<T> {
  encode(value: T, buffer?: Buffer, offset?: number): Buffer;
  decode(buffer: Buffer, offset?: number): T;
  encodingLength(value: T): number;
}

const untyped = dnsPacket as unknown as { name: Codec<string>; record(type: string): Codec<unknown> };

/** A domain name, uncompressed ("." is the root). */
export const nameCodec: Codec<string> = untyped.name;

/** The RDATA codec of a record type (it writes RDLENGTH first). */
export function rdataCodec(type: string): Codec<unknown> {
  return untyped.record(type);
}
