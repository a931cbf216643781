// Certificate serials as OpenSSL reads them. forge writes the serial's hex into the DER INTEGER
// and drops at most one leading zero byte; OpenSSL refuses a non-minimal INTEGER when it loads
// the certificate. The old generators made such serials now and then (the harness's `0` + random
// hex: 1 in 512; the webhook's and agent's: 1 in 65,536), and a control-plane start failed with
// "asn1 encoding routines::illegal padding".
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import forge from 'node-forge';
import { createServingCertificate, randomSerialNumber } from '../../shared/tls/certificates.js';

// one key (native, fast) for every certificate below: only the serial is under test
const native = generateKeyPairSync('rsa', { modulusLength: 2048 });
const keyPem = native.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const keys = {
  publicKey: forge.pki.publicKeyFromPem(native.publicKey.export({ type: 'spki', format: 'pem' }).toString()),
  privateKey: forge.pki.privateKeyFromPem(keyPem),
};

function selfSignedWithSerial(serialHex: string): { cert: string; key: string } {
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialHex;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 3_600_000);
  cert.setSubject([{ name: 'commonName', value: 'serial-test' }]);
  cert.setIssuer([{ name: 'commonName', value: 'serial-test' }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keyPem };
}

describe('certificate serials OpenSSL can load', () => {
  it('the failure mode: two leading zero bytes before one < 0x80 is refused as illegal padding', () => {
    assert.throws(
      () => createSecureContext(selfSignedWithSerial(`0000${'11'.repeat(14)}`)),
      /illegal padding/,
    );
    // one leading zero byte forge drops itself, and a zero before a byte >= 0x80 is required
    createSecureContext(selfSignedWithSerial(`00${'11'.repeat(15)}`));
    createSecureContext(selfSignedWithSerial(`0091${'11'.repeat(14)}`));
  });

  it('randomSerialNumber: 16 bytes, the first in 0x40–0x7f (positive, minimal) on every draw', () => {
    const firsts = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const hex = randomSerialNumber();
      assert.match(hex, /^[0-9a-f]{32}$/);
      const first = parseInt(hex.slice(0, 2), 16);
      assert.ok(first >= 0x40 && first <= 0x7f, hex);
      firsts.add(first);
    }
    assert.ok(firsts.size > 32, 'the first byte keeps its six random bits');
  });

  it('certificates made with it load into a TLS context', () => {
    const serving = createServingCertificate({ commonName: 'x', hosts: ['127.0.0.1'], keyPem });
    createSecureContext({ cert: serving.certPem, key: serving.keyPem });
    assert.match(
      new forge.jsbn.BigInteger(forge.pki.certificateFromPem(serving.certPem).serialNumber, 16).toString(16),
      /^[4-7]/,
    );
  });
});
