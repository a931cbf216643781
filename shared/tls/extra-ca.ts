// NODE_EXTRA_CA_CERTS, applied when the first TLS connection is made instead of at start-up.
//
// Node 20 reads that file into its trust store as the process starts, before any user code:
// with a system-sized bundle (~140 certificates) that is ~40 ms on every run, whether the
// command makes a TLS connection or not (newer Node releases defer it themselves). The plugin's
// launcher (plugin/launcher.sh) therefore hands the variable over as LIQO_NODE_EXTRA_CA_CERTS,
// and this module gives it Node's meaning again: every TLS context made without an explicit
// `ca` trusts Node's bundled roots plus those certificates; an explicit `ca` replaces both.
// The same technique as the win-ca / mac-ca packages (a wrapper around tls.createSecureContext).
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

export const DEFERRED_EXTRA_CA_VARIABLE = 'LIQO_NODE_EXTRA_CA_CERTS';

/** createSecureContext options that change the context itself (not per-connection ones). */
const CONTEXT_OPTIONS = [
  'ca',
  'cert',
  'key',
  'pfx',
  'passphrase',
  'ciphers',
  'sigalgs',
  'ecdhCurve',
  'dhparam',
  'crl',
  'minVersion',
  'maxVersion',
  'secureProtocol',
  'secureOptions',
  'honorCipherOrder',
  'sessionIdContext',
  'sessionTimeout',
  'ticketKeys',
  'privateKeyEngine',
  'privateKeyIdentifier',
  'clientCertEngine',
] as const;

/**
 * If the launcher deferred NODE_EXTRA_CA_CERTS, makes TLS contexts trust those certificates
 * again (read on first use) and puts the variable back for child processes. Returns whether it
 * did anything.
 */
export function applyDeferredExtraCaCerts(env: NodeJS.ProcessEnv = process.env): boolean {
  const file = env[DEFERRED_EXTRA_CA_VARIABLE];
  if (!file) return false;
  delete env[DEFERRED_EXTRA_CA_VARIABLE];
  env.NODE_EXTRA_CA_CERTS = file;

  const createSecureContext = tls.createSecureContext;
  let extra: string[] | undefined;
  const extraCertificates = () => (extra ??= readExtraCertificates(file));
  // One context serves every connection that shapes nothing, as Node's one root store does, so
  // the certificates are parsed once per process rather than per connection.
  let sharedContext: tls.SecureContext | undefined;

  const withExtraCertificates = (options?: tls.SecureContextOptions): tls.SecureContext => {
    if (options?.ca !== undefined) return createSecureContext(options);
    const shaped = CONTEXT_OPTIONS.some((name) => options?.[name] !== undefined);
    if (!shaped && sharedContext) return sharedContext;
    const context =
      addToDefaultTrust(createSecureContext(options), extraCertificates(), file) ??
      // no native context to add to (not Node 20's layout): the documented, slower way
      createSecureContext({ ...options, ca: [...tls.rootCertificates, ...extraCertificates()] });
    if (!shaped) sharedContext = context;
    return context;
  };
  // tls.connect (and so https) calls createSecureContext through the module object
  Object.assign(tls, { createSecureContext: withExtraCertificates });
  return true;
}

/**
 * Adds `pems` to a default-trust context the way Node adds NODE_EXTRA_CA_CERTS (to the context's
 * store, after its bundled roots), through the native context's addCACert, as win-ca does.
 * Passing them with the roots as `ca` instead re-parses all ~300 certificates: ~75 ms against
 * ~45 ms here (measured on this machine, OpenSSL 3). Undefined when there is no native context.
 */
function addToDefaultTrust(
  context: tls.SecureContext,
  pems: string[],
  file: string,
): tls.SecureContext | undefined {
  const native = (context as { context?: { addCACert?: (pem: string) => void } }).context;
  if (typeof native?.addCACert !== 'function') return undefined;
  let rejected = 0;
  for (const pem of pems) {
    try {
      native.addCACert(pem);
    } catch {
      rejected += 1;
    }
  }
  if (rejected > 0) process.emitWarning(`Ignoring ${rejected} unreadable certificate(s) in \`${file}\``);
  return context;
}

/** The PEM certificates in `file`; on failure Node's own warning, and none. */
function readExtraCertificates(file: string): string[] {
  try {
    const text = readFileSync(file, 'utf8');
    return text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  } catch (err) {
    process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(err as Error).message}`);
    return [];
  }
}
