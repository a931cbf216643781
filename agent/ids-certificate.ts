// The /ids server's certificate. Self-signed like Liqo's own auth certificate (peers see it
// as Untrusted) and kept in a Secret, so every replica and every restart presents the same
// fingerprint. Files (e.g. from cert-manager) can replace it to become Trusted.
import { generateKeyPair } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import {
  certificateNotAfter,
  createServingCertificate,
  type PemKeyPair,
} from '../shared/tls/certificates.js';
import { isConflict, isNotFound, type AgentKube } from './kube-access.js';
import type { Logger } from './logger.js';

export const IDS_TLS_SECRET = 'liqo-agent-ids-tls';
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

export async function loadCertificateFiles(certFile: string, keyFile: string): Promise<PemKeyPair> {
  const [certPem, keyPem] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  return { certPem, keyPem };
}

/** Reads the Secret's key pair, or makes a new self-signed one and stores it. */
export async function ensureIdsCertificate(
  kube: AgentKube,
  hosts: string[],
  log: Logger,
): Promise<PemKeyPair> {
  const { core, namespace } = kube;
  try {
    const secret = await core.readNamespacedSecret({ name: IDS_TLS_SECRET, namespace });
    const certB64 = secret.data?.['tls.crt'];
    const keyB64 = secret.data?.['tls.key'];
    if (certB64 && keyB64) {
      const pair = {
        certPem: Buffer.from(certB64, 'base64').toString('utf8'),
        keyPem: Buffer.from(keyB64, 'base64').toString('utf8'),
      };
      if (certificateNotAfter(pair.certPem).getTime() - Date.now() > RENEW_BEFORE_MS) return pair;
      log.info('the /ids certificate is about to expire; issuing a new one');
      const renewed = await issue(hosts);
      secret.data = { 'tls.crt': b64(renewed.certPem), 'tls.key': b64(renewed.keyPem) };
      await core.replaceNamespacedSecret({ name: IDS_TLS_SECRET, namespace, body: secret });
      return renewed;
    }
  } catch (err) {
    if (isConflict(err)) return ensureIdsCertificate(kube, hosts, log);
    if (!isNotFound(err)) throw err;
  }
  const pair = await issue(hosts);
  try {
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: IDS_TLS_SECRET, namespace },
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': b64(pair.certPem), 'tls.key': b64(pair.keyPem) },
      },
    });
    log.info({ secret: `${namespace}/${IDS_TLS_SECRET}` }, 'created a self-signed /ids certificate');
    return pair;
  } catch (err) {
    if (isConflict(err)) return ensureIdsCertificate(kube, hosts, log); // another replica won
    throw err;
  }
}

async function issue(hosts: string[]): Promise<PemKeyPair> {
  const names = hosts.length ? hosts : ['liqo-auth'];
  // node's native key generation does not block the event loop the way forge's does
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return createServingCertificate({ commonName: names[0] ?? 'liqo-auth', hosts: names, keyPem });
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
