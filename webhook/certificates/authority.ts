// The pure half of the self-bootstrap (cert-manager's "dynamic authority"): when a CA must be
// made or replaced, what the CA bundle holds, when the serving certificate is renewed, and
// issuing both. No API calls here; bootstrap.ts does those.
import { X509Certificate, createPrivateKey, generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import {
  createCertificateAuthority,
  createServingCertificate,
  type PemKeyPair,
} from '../../shared/tls/certificates.js';

/** setTimeout's limit is 2^31-1 ms (~24.8 days); longer waits are re-checked in steps. */
export const MAX_TIMER_MS = 12 * 3600 * 1000;

const generateRsaKey = promisify(generateKeyPair);

/**
 * An RSA key from OpenSSL on libuv's thread pool: forge's pure-JS key generation would block
 * the event loop (and every admission request) for seconds.
 */
export async function generateRsaKeyPem(bits = 2048): Promise<string> {
  const { privateKey } = await generateRsaKey('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return privateKey;
}

export async function issueCertificateAuthority(commonName: string, validityMs: number, now = new Date()) {
  const keyPem = await generateRsaKeyPem();
  return createCertificateAuthority({
    commonName,
    keyPem,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + validityMs),
  });
}

export async function issueServingCertificate(
  ca: PemKeyPair,
  hosts: string[],
  validityMs: number,
  now = new Date(),
): Promise<PemKeyPair> {
  const keyPem = await generateRsaKeyPem();
  return createServingCertificate(
    {
      commonName: hosts[0] ?? 'liqo-webhook',
      hosts,
      keyPem,
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(now.getTime() + validityMs),
    },
    ca,
  );
}

/** The names the API server may use to reach the Service, plus any extra SANs. */
export function servingHosts(
  serviceName: string,
  serviceNamespace: string,
  extraSans: string[] = [],
): string[] {
  const names = [
    serviceName,
    `${serviceName}.${serviceNamespace}`,
    `${serviceName}.${serviceNamespace}.svc`,
    `${serviceName}.${serviceNamespace}.svc.cluster.local`,
    ...extraSans.map((s) => s.trim()).filter(Boolean),
  ];
  return [...new Set(names)];
}

/**
 * Why the CA in the Secret cannot be used, or undefined when it can: it must parse, be a CA,
 * match its key, and stay valid for at least `minRemainingMs` (so every serving certificate
 * it signs expires before it does).
 */
export function caProblem(ca: PemKeyPair | undefined, now: Date, minRemainingMs: number): string | undefined {
  if (!ca || !ca.certPem || !ca.keyPem) return 'no CA yet';
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(ca.certPem);
  } catch {
    return 'the stored CA certificate does not parse';
  }
  if (!cert.ca) return 'the stored certificate is not a CA';
  try {
    if (!cert.checkPrivateKey(createPrivateKey(ca.keyPem))) return 'the stored CA key does not match';
  } catch {
    return 'the stored CA key does not parse';
  }
  const notAfter = new Date(cert.validTo).getTime();
  if (notAfter - now.getTime() < minRemainingMs) {
    return notAfter <= now.getTime() ? 'the stored CA has expired' : 'the stored CA expires too soon';
  }
  if (new Date(cert.validFrom).getTime() > now.getTime() + 5 * 60_000)
    return 'the stored CA is not valid yet';
  return undefined;
}

/** Splits a PEM bundle into its certificates. */
export function splitPemBundle(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * The CA bundle after a CA change: the new CA first, then the previous ones that are still
 * valid, so that replicas still serving with a certificate from the old CA keep working
 * until they renew.
 */
export function mergeCaBundle(newCaPem: string, previousBundle: string, now: Date): string {
  const keep = [newCaPem.trim()];
  for (const pem of splitPemBundle(previousBundle)) {
    try {
      const cert = new X509Certificate(pem);
      if (new Date(cert.validTo).getTime() > now.getTime() && !keep.includes(pem.trim()))
        keep.push(pem.trim());
    } catch {
      // a broken entry is dropped
    }
  }
  return `${keep.join('\n')}\n`;
}

/**
 * When to issue the next serving certificate: `renewBeforeMs` before it expires, or at two
 * thirds of its life when renewBefore is not shorter than the validity.
 */
export function renewalTime(certPem: string, renewBeforeMs: number): Date {
  const cert = new X509Certificate(certPem);
  const notBefore = new Date(cert.validFrom).getTime();
  const notAfter = new Date(cert.validTo).getTime();
  const lifetime = notAfter - notBefore;
  const lead = renewBeforeMs < lifetime ? renewBeforeMs : Math.floor(lifetime / 3);
  return new Date(notAfter - lead);
}

/** Delay for the renewal timer: 0 when due, capped so the timer re-checks at least twice a day. */
export function renewalDelayMs(certPem: string, renewBeforeMs: number, now: Date): number {
  const due = renewalTime(certPem, renewBeforeMs).getTime() - now.getTime();
  return Math.max(0, Math.min(due, MAX_TIMER_MS));
}

export interface WebhookEntry {
  name?: string;
  clientConfig?: { caBundle?: string };
}

/**
 * JSON Patch operations setting caBundle (base64 of the PEM bundle) on every webhook that
 * lacks it; each guarded by a `test` of the webhook's name, so a concurrent edit that reorders
 * the list fails the patch instead of writing into the wrong webhook.
 */
export function caBundlePatch(
  webhooks: WebhookEntry[] | undefined,
  caBundlePem: string,
): Array<{ op: 'test' | 'add'; path: string; value: unknown }> {
  const value = Buffer.from(caBundlePem).toString('base64');
  const ops: Array<{ op: 'test' | 'add'; path: string; value: unknown }> = [];
  (webhooks ?? []).forEach((w, i) => {
    if (w.clientConfig?.caBundle === value) return;
    ops.push({ op: 'test', path: `/webhooks/${i}/name`, value: w.name });
    if (!w.clientConfig)
      ops.push({ op: 'add', path: `/webhooks/${i}/clientConfig`, value: { caBundle: value } });
    else ops.push({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value });
  });
  return ops;
}

/**
 * JSON Patch operations making `metadata.annotations[key]` equal `value` (none when it already
 * is): how the webhook publishes its admission policy on its configuration.
 */
export function annotationPatch(
  annotations: Record<string, string> | undefined,
  key: string,
  value: string,
): Array<{ op: 'add'; path: string; value: unknown }> {
  return annotationsPatch(annotations, { [key]: value });
}

/** The same for several annotations at once (one `add` of the whole map when there is none). */
export function annotationsPatch(
  annotations: Record<string, string> | undefined,
  wanted: Record<string, string>,
): Array<{ op: 'add'; path: string; value: unknown }> {
  const changed = Object.entries(wanted).filter(([key, value]) => annotations?.[key] !== value);
  if (changed.length === 0) return [];
  if (!annotations) return [{ op: 'add', path: '/metadata/annotations', value: { ...wanted } }];
  // RFC 6901: "~" and "/" in a key are written "~0" and "~1"
  return changed.map(([key, value]) => ({
    op: 'add' as const,
    path: `/metadata/annotations/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`,
    value,
  }));
}
