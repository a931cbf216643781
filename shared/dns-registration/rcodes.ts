// DNS response codes (RFC 1035 §4.1.1, RFC 2136 §2.2) by name and in words a user acts on.
import type { RcodeName } from './types.js';

const NAMES: Record<number, RcodeName> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  7: 'YXRRSET',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
};

export function rcodeName(code: number): RcodeName {
  return NAMES[code] ?? `RCODE${code}`;
}

/** "answered REFUSED: ..." — what the code means for an UPDATE of `zone` signed with `keyName`. */
export function describeRcode(code: number, zone: string, keyName: string): string {
  const name = rcodeName(code);
  const why: Record<string, string> = {
    FORMERR: 'could not parse our message',
    SERVFAIL: 'failed while applying it (see its log: a journal or zone file it cannot write?)',
    NXDOMAIN: 'says a name we required to exist does not',
    NOTIMP: 'does not implement DNS UPDATE',
    REFUSED: `refused it: its update-policy / allow-update for zone ${zone} does not let key '${keyName}' make this change`,
    YXDOMAIN: 'says a name we required to be unused exists',
    YXRRSET: 'says a record set we required to be absent exists',
    NXRRSET: 'says a record set we required is absent or different',
    NOTAUTH: `is not authoritative for zone ${zone} (or not its primary), or does not accept key '${keyName}' for it`,
    NOTZONE: `says a name in the update is outside zone ${zone}`,
  };
  return `answered ${name}: ${why[name] ?? 'an error code we do not know'}`;
}
