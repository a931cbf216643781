// The /ids server's certificate. Self-signed like Liqo's own auth certificate (peers see it
// as Untrusted) and kept in a Secret, so every replica and every restart presents the same
// fingerprint. Files (e.g. from cert-manager) can replace it to become Trusted.
import { generateKeyPair } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createSecureContext } from 'node:tls';
import { promisify } from 'node:util';
import {
  certificateNotAfter,
  createServingCertificate,
  type PemKeyPair,
} from '../shared/tls/certificates.js';
import { isConflict, isNotFound, type AgentKube } from './kube-access.js';
import type { Logger } from './logger.js';
import { errorMessage } from './logger.js';

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

export interface CertificateRotation {
  /** Looks now (the periodic check does the same). */
  check(): Promise<void>;
  stop(): void;
}

export interface CertificateRotationOptions {
  /** Where the pair comes from: files (reloaded when they change) or the Secret (renewed too). */
  source: { certFile: string; keyFile: string } | { hosts: string[]; kube: AgentKube };
  current: PemKeyPair;
  /** Called with each new, usable pair (e.g. the /ids server's setCertificate). */
  onChange: (pair: PemKeyPair) => void;
  /** How often to look even without a file event; default one minute. */
  checkIntervalMs?: number;
  log: Logger;
}

/**
 * Keeps the /ids certificate current while the agent runs: files are re-read when they change
 * (a mounted Secret or cert-manager swaps them; the folder is watched, and looked at every
 * minute anyway); the Secret is re-read every minute, so a pair renewed by another replica is
 * picked up, and a self-issued pair is renewed 30 days before it expires. A pair that does not
 * load (half-written files, a key that does not match) is refused with one line and the
 * current one kept.
 */
export function rotateIdsCertificate(opts: CertificateRotationOptions): CertificateRotation {
  let current = opts.current;
  let running: Promise<void> | undefined;
  let stopped = false;
  const read = (): Promise<PemKeyPair> =>
    'certFile' in opts.source
      ? loadCertificateFiles(opts.source.certFile, opts.source.keyFile)
      : ensureIdsCertificate(opts.source.kube, opts.source.hosts, opts.log);
  const once = async () => {
    let next: PemKeyPair;
    try {
      next = await read();
    } catch (err) {
      opts.log.warn({ err: errorMessage(err) }, 'cannot read the /ids certificate; keeping the current one');
      return;
    }
    if (stopped || (next.certPem === current.certPem && next.keyPem === current.keyPem)) return;
    try {
      createSecureContext({ cert: next.certPem, key: next.keyPem }); // refuses a mismatched pair
      opts.onChange(next);
    } catch (err) {
      opts.log.warn(
        { err: errorMessage(err) },
        'the new /ids certificate does not load; keeping the current one',
      );
      return;
    }
    current = next;
    opts.log.info(
      { notAfter: certificateNotAfter(next.certPem).toISOString() },
      'the /ids certificate was replaced',
    );
  };
  const check = (): Promise<void> => {
    running ??= once().finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => void check(), opts.checkIntervalMs ?? 60_000);
  timer.unref();
  const watchers: FSWatcher[] = [];
  if ('certFile' in opts.source) {
    let debounce: NodeJS.Timeout | undefined;
    for (const dir of new Set([dirname(opts.source.certFile), dirname(opts.source.keyFile)])) {
      try {
        watchers.push(
          watch(dir, () => {
            // files are often written in steps: look once they have settled
            if (debounce) clearTimeout(debounce);
            debounce = setTimeout(() => void check(), 200);
          }),
        );
      } catch (err) {
        opts.log.warn(
          { dir, err: errorMessage(err) },
          'cannot watch the certificate folder; checking every interval',
        );
      }
    }
  }
  return {
    check,
    stop() {
      stopped = true;
      clearInterval(timer);
      for (const w of watchers) w.close();
    },
  };
}
