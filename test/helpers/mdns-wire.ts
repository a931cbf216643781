// What dns-packet's decoder hides from the test helpers that read raw mDNS messages.

/** The QU bit (top bit of the class) of each question, read from the raw message. */
export function quBits(msg: Buffer): boolean[] {
  const bits: boolean[] = [];
  let offset = 12;
  for (let q = 0; q < msg.readUInt16BE(4); q++) {
    while ((msg[offset] ?? 0) !== 0) {
      if (((msg[offset] ?? 0) & 0xc0) === 0xc0) {
        offset += 1; // a compression pointer ends the name (its second byte is skipped below)
        break;
      }
      offset += (msg[offset] ?? 0) + 1;
    }
    offset += 1 + 2;
    bits.push((msg.readUInt16BE(offset) & 0x8000) !== 0);
    offset += 2;
  }
  return bits;
}
