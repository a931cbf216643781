// The serving certificate from files (--tls-cert-file/--tls-key-file), reloaded when they
// change so cert-manager or the kubelet can rotate them. Both swap a symlink in the mounted
// directory rather than writing the files, so the directory is watched, not the files; a
// periodic re-read catches what fs.watch misses (some filesystems send no events).
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createSecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { PemKeyPair } from '../../shared/tls/certificates.js';
import { errorText, type Logger } from '../logger.js';

export class CertificateFileError extends Error {}

/** Throws a one-line error unless the pair is a usable certificate and its matching key. */
export function checkKeyPair(pair: PemKeyPair, where: string): void {
  try {
    // Parses both and checks that the key belongs to the certificate ("key values mismatch").
    createSecureContext({ cert: pair.certPem, key: pair.keyPem });
  } catch (err) {
    throw new CertificateFileError(`${where}: not a usable certificate and key pair: ${errorText(err)}`);
  }
}

export async function loadCertificateFiles(certFile: string, keyFile: string): Promise<PemKeyPair> {
  const read = async (file: string, flag: string) => {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : errorText(err);
      throw new CertificateFileError(`cannot read ${flag} ${file}: ${why}`);
    }
  };
  // Both read at once, but the error reported is always the certificate's first when both
  // fail, whichever read happens to finish first.
  const [cert, key] = await Promise.allSettled([
    read(certFile, '--tls-cert-file'),
    read(keyFile, '--tls-key-file'),
  ]);
  if (cert.status === 'rejected') throw cert.reason;
  if (key.status === 'rejected') throw key.reason;
  const pair = { certPem: cert.value, keyPem: key.value };
  checkKeyPair(pair, `--tls-cert-file ${certFile} / --tls-key-file ${keyFile}`);
  return pair;
}

/** Short description of a certificate for logs: subject, expiry and serial. */
export function describeCertificate(certPem: string): Record<string, string> {
  try {
    const cert = new X509Certificate(certPem);
    return { subject: cert.subject.replace(/\n/g, ', '), notAfter: cert.validTo, serial: cert.serialNumber };
  } catch {
    return {};
  }
}

export interface CertificateFileWatcher {
  /** Re-reads the files now (also what the watchers and the timer call). */
  reload(): Promise<void>;
  stop(): void;
}

export interface WatchCertificateFilesOptions {
  certFile: string;
  keyFile: string;
  /** The pair in use now; a reload that reads the same bytes does nothing. */
  current: PemKeyPair;
  /** Called with each new, checked pair. */
  onChange: (pair: PemKeyPair) => void;
  log: Logger;
  /** The fallback re-read; default 10 s. */
  pollIntervalMs?: number;
}

const DEBOUNCE_MS = 50;

export function watchCertificateFiles(opts: WatchCertificateFilesOptions): CertificateFileWatcher {
  let current = opts.current;
  let lastRejected = '';
  let stopped = false;
  let debounce: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  async function reloadOnce(): Promise<void> {
    let pair: PemKeyPair;
    try {
      pair = await loadCertificateFiles(opts.certFile, opts.keyFile);
    } catch (err) {
      // Mid-rotation the cert may be new and the key still old: keep serving the old pair
      // and log once per distinct failure; the next event or poll picks up the finished pair.
      const text = errorText(err);
      if (text !== lastRejected) {
        lastRejected = text;
        opts.log.warn({ err: text }, 'new TLS certificate files rejected; keeping the previous certificate');
      }
      return;
    }
    lastRejected = '';
    if (pair.certPem === current.certPem && pair.keyPem === current.keyPem) return;
    current = pair;
    opts.onChange(pair);
    opts.log.info(
      { certFile: opts.certFile, ...describeCertificate(pair.certPem) },
      'TLS certificate reloaded from files',
    );
  }

  // Serialise reloads: a burst of events runs at most one reload now and one after it.
  function reload(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = reloadOnce().finally(() => {
      running = undefined;
      if (again && !stopped) {
        again = false;
        void reload();
      }
    });
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => void reload(), DEBOUNCE_MS);
    debounce.unref();
  }

  const watchers: FSWatcher[] = [];
  for (const dir of new Set([dirname(opts.certFile), dirname(opts.keyFile)])) {
    try {
      const w = watch(dir, { persistent: false }, schedule);
      w.on('error', (err) => {
        opts.log.warn({ dir, err: errorText(err) }, 'cannot watch certificate directory; relying on polling');
        w.close();
      });
      watchers.push(w);
    } catch (err) {
      opts.log.warn({ dir, err: errorText(err) }, 'cannot watch certificate directory; relying on polling');
    }
  }
  const poll = setInterval(() => void reload(), opts.pollIntervalMs ?? 10_000);
  poll.unref();

  return {
    reload,
    stop() {
      stopped = true;
      if (debounce) clearTimeout(debounce);
      clearInterval(poll);
      for (const w of watchers) w.close();
    },
  };
}
