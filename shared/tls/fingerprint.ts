// The SHA-256 fingerprint of a DER certificate, without node-forge: the /ids look-up needs only
// this, and importing certificates.ts would put forge (~0.9 MB) into every bundle that reads /ids.
import { createHash } from 'node:crypto';

/** Colon-separated upper-case hex, as `openssl x509 -fingerprint -sha256` prints it. */
export function sha256Fingerprint(der: Buffer): string {
  return createHash('sha256')
    .update(der)
    .digest('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');
}
