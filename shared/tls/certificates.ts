// Certificates made with node-forge (RSA): a CA, serving certificates signed by it, and
// self-signed ones. Used by the webhook's self-bootstrap, the agent's /ids server and tests.
import forge from 'node-forge';
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

export interface PemKeyPair {
  certPem: string;
  keyPem: string;
}

export interface CertificateRequest {
  commonName: string;
  /** DNS names and IP addresses; each goes into subjectAltName by its kind. */
  hosts?: string[];
  /** Validity start; defaults to one minute ago (tolerates small clock skew). */
  notBefore?: Date;
  /** Validity end; defaults to notBefore + validityMs. */
  notAfter?: Date;
  validityMs?: number;
  keyBits?: number;
  /**
   * Use this RSA private key (PEM, PKCS#1 or PKCS#8) instead of generating one. Callers that
   * must not block the event loop make it with node:crypto's async generateKeyPair: forge's
   * pure-JS key generation takes seconds.
   */
  keyPem?: string;
}

const DEFAULT_VALIDITY_MS = 365 * 24 * 3600 * 1000;

/**
 * A random 16-byte certificate serial, as the hex forge writes into the DER INTEGER. Forge
 * drops at most one leading zero byte, so a serial starting 00 00 and then a byte < 0x80 stays
 * a non-minimal INTEGER, which OpenSSL refuses to load ("asn1 encoding routines::illegal
 * padding"). The first byte here is 0x40–0x7f: positive, never zero; 126 random bits remain.
 */
export function randomSerialNumber(): string {
  const bytes = forge.random.getBytesSync(16);
  const first = (bytes.charCodeAt(0) & 0x3f) | 0x40;
  return forge.util.bytesToHex(String.fromCharCode(first) + bytes.slice(1));
}

function validity(req: CertificateRequest): { notBefore: Date; notAfter: Date } {
  const notBefore = req.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = req.notAfter ?? new Date(notBefore.getTime() + (req.validityMs ?? DEFAULT_VALIDITY_MS));
  return { notBefore, notAfter };
}

function altNames(hosts: string[]): Array<{ type: number; value?: string; ip?: string }> {
  return hosts.map((h) => {
    const bare = h.replace(/^\[|\]$/g, '');
    return isIP(bare) ? { type: 7, ip: bare } : { type: 2, value: h };
  });
}

/**
 * forge writes names as PrintableString, which has no '@', '_' or '*' (Go's verifier then refuses
 * the whole certificate, e.g. a CA named "liqo-webhook-ca@1764000000"); UTF8String takes any.
 */
function commonNameAttribute(value: string) {
  return { name: 'commonName', value, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class };
}

function generateKeyPair(bits: number): forge.pki.rsa.KeyPair {
  return forge.pki.rsa.generateKeyPair({ bits, e: 0x10001 });
}

function keyPairFor(req: CertificateRequest): forge.pki.rsa.KeyPair {
  if (!req.keyPem) return generateKeyPair(req.keyBits ?? 2048);
  const privateKey = forge.pki.privateKeyFromPem(req.keyPem);
  return { privateKey, publicKey: forge.pki.setRsaPublicKey(privateKey.n, privateKey.e) };
}

/** A new key (or the request's) and a certificate for it with serial and validity set, not yet signed. */
function unsignedCertificate(req: CertificateRequest): {
  keys: forge.pki.rsa.KeyPair;
  cert: forge.pki.Certificate;
} {
  const keys = keyPairFor(req);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerialNumber();
  const { notBefore, notAfter } = validity(req);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  return { keys, cert };
}

/** A self-signed certificate authority. */
export function createCertificateAuthority(req: CertificateRequest): PemKeyPair {
  const { keys, cert } = unsignedCertificate(req);
  const subject = [commonNameAttribute(req.commonName)];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/**
 * A TLS serving certificate for `hosts`, signed by `issuer`, or self-signed when no issuer
 * is given (what Liqo's own auth service presents).
 */
export function createServingCertificate(req: CertificateRequest, issuer?: PemKeyPair): PemKeyPair {
  const { keys, cert } = unsignedCertificate(req);
  cert.setSubject([commonNameAttribute(req.commonName)]);
  let signingKey: forge.pki.PrivateKey = keys.privateKey;
  if (issuer) {
    const caCert = forge.pki.certificateFromPem(issuer.certPem);
    cert.setIssuer(caCert.subject.attributes);
    signingKey = forge.pki.privateKeyFromPem(issuer.keyPem);
  } else {
    cert.setIssuer(cert.subject.attributes);
  }
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: altNames(req.hosts ?? [req.commonName]) },
  ]);
  cert.sign(signingKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** Expiry of the first certificate in a PEM bundle. */
export function certificateNotAfter(certPem: string): Date {
  return new Date(new X509Certificate(certPem).validTo);
}

/** SHA-256 fingerprint of a DER certificate, as colon-separated upper-case hex (like openssl). */
export { sha256Fingerprint } from './fingerprint.js';
