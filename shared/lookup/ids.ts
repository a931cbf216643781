// GET <authUrl>/ids (SPEC §2): a cluster's identity, whether its certificate verifies, and the
// certificate's fingerprint and expiry — bounded (one deadline, body cap, no redirects) and with
// one typed, one-line error per failure.
//
// Every fetch goes through the connect-time address policy (SPEC §"Security",
// shared/net/address-policy.ts): the addresses the host resolves to are judged when connecting,
// and a refused one opens no connection at all. Error messages are our own words only: nothing
// the peer sent (status text, body, Location) is quoted, since the agent copies them into status.
//
// Trust detection uses ONE connection where possible: Node's TLS client always runs the full
// verification (chain and host name) and, with rejectUnauthorized off, reports the outcome in
// socket.authorized / authorizationError instead of aborting. That is exactly "verify first, then
// retry unverified" without a second handshake (so it also shares one deadline by construction).
// In strict mode verification is enforced (rejectUnauthorized on), so nothing is sent to a peer
// whose certificate does not verify.
import { request, type RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import type { TLSSocket, PeerCertificate } from 'node:tls';
import { sha256Fingerprint } from '../tls/fingerprint.js';
import {
  AddressRefusedError,
  assertAddressesAllowed,
  classPhrase,
  refusalOf,
  type AddressPolicy,
} from '../net/address-policy.js';
import { guardedLookup } from '../net/guarded-lookup.js';
import { classifyHost } from '../rules/address.js';
import { parseAuthUrl } from '../rules/url.js';
import { oneLine } from '../text.js';
import type { ClusterIdentityResponse } from '../api/types.js';
import type { FetchIdentityOptions, IdentityErrorCode, IdentityResult } from './types.js';

export const DEFAULT_IDS_TIMEOUT_MS = 5000;
export const DEFAULT_IDS_MAX_BODY_BYTES = 64 * 1024;
/** Without `addressPolicy`: the always-refused classes, loopback allowed (the user's own plugin). */
export const DEFAULT_ADDRESS_POLICY: AddressPolicy = { allowLoopback: true };

export class IdentityFetchError extends Error {
  override readonly name = 'IdentityFetchError';
  constructor(
    readonly code: IdentityErrorCode,
    /** The URL fetched (`<authUrl>/ids`), or the rejected auth URL for INVALID_URL. */
    readonly url: string,
    message: string,
    readonly details: { status?: number; location?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }

  /** The HTTP status, for HTTP_STATUS and REDIRECT. */
  get status(): number | undefined {
    return this.details.status;
  }

  /** The Location header, for REDIRECT. */
  get location(): string | undefined {
    return this.details.location;
  }
}

/** Verification failures that only mean "we cannot vouch for this peer" ⇒ Untrusted. */
const UNTRUSTED_REASONS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the chain',
  UNABLE_TO_GET_ISSUER_CERT: 'certificate issuer unknown',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate issuer unknown',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate issuer unknown or chain incomplete',
  CERT_UNTRUSTED: 'certificate not trusted',
  ERR_TLS_CERT_ALTNAME_INVALID: 'certificate not issued for this host name',
};

/** Where one fetch connects: the auth URL's /ids target (shared/rules/url.ts), for messages `idsUrl`. */
export interface IdsTarget {
  /** `<canonical auth URL>/ids`. */
  idsUrl: string;
  /** IPv6 without brackets. */
  host: string;
  port: number;
  path: string;
}
type Target = IdsTarget;

/**
 * The target the client connects to for `authUrl`, read with the one auth URL parser the webhook
 * and the plugin use, and an IP-literal host judged by `addressPolicy` (Node connects to a
 * literal without a look-up, so the connect-time hook never sees it). No I/O. Throws
 * IdentityFetchError INVALID_URL or ADDRESS_REFUSED.
 */
export function idsTarget(
  authUrl: string,
  addressPolicy: AddressPolicy | 'off' = DEFAULT_ADDRESS_POLICY,
): IdsTarget {
  const parsed = typeof authUrl === 'string' ? parseAuthUrl(authUrl) : undefined;
  if (!parsed?.ok) {
    const why = parsed ? `the auth URL ${parsed.problem}` : 'the auth URL is not a string';
    throw new IdentityFetchError(
      'INVALID_URL',
      authUrl,
      `${JSON.stringify(authUrl)}: ${why} (expected https://<host>:<port>)`,
    );
  }
  const { url: idsUrl, host, port, path } = parsed.url.idsTarget;
  if (addressPolicy !== 'off' && isIP(host)) {
    try {
      assertAddressesAllowed(host, [host], addressPolicy);
    } catch (err) {
      throw new IdentityFetchError('ADDRESS_REFUSED', idsUrl, `${idsUrl}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  return { idsUrl, host, port, path };
}

/** System CAs plus the caller's bundle (Node's `ca` option replaces the defaults otherwise). */
function trustedCas(caBundle: string | Buffer | undefined, idsUrl: string): string[] | undefined {
  if (caBundle === undefined) return undefined;
  const text = Buffer.isBuffer(caBundle) ? caBundle.toString('utf8') : caBundle;
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) {
    throw new IdentityFetchError('TLS', idsUrl, `${idsUrl}: the CA bundle holds no PEM certificate`);
  }
  return [...tls.rootCertificates, ...pems];
}

function networkError(t: Target, err: NodeJS.ErrnoException, timeoutMs: number): IdentityFetchError {
  const at = `${t.idsUrl}:`;
  const e = (code: IdentityErrorCode, text: string) =>
    new IdentityFetchError(code, t.idsUrl, `${at} ${text}`, { cause: err });
  if (err instanceof AddressRefusedError) return e('ADDRESS_REFUSED', err.message);
  const code = err.code ?? '';
  if (code === 'CERT_HAS_EXPIRED')
    return e('CERT_EXPIRED', "the server's certificate has expired (renew it)");
  if (code in UNTRUSTED_REASONS) {
    return e(
      'UNTRUSTED',
      `${UNTRUSTED_REASONS[code]} and strict trust was asked (drop strict or give its CA)`,
    );
  }
  switch (code) {
    case 'ECONNREFUSED':
      return e('REFUSED', 'connection refused (is the auth service running and the port right?)');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NODATA':
      return e('DNS', `cannot resolve host ${t.host} (${code}; check the name and DNS)`);
    case 'ETIMEDOUT':
      return e('TIMEOUT', `no answer within ${timeoutMs} ms (connection timed out)`);
    case 'HPE_HEADER_OVERFLOW':
      return e('TOO_LARGE', 'response headers too large');
    case 'CERT_NOT_YET_VALID':
      return e('TLS', "the server's certificate is not valid yet (check the clocks)");
  }
  if (code.startsWith('HPE_')) return e('NETWORK', `the answer is not valid HTTP (${code})`);
  if (
    code === 'EPROTO' ||
    code.startsWith('ERR_SSL') ||
    code.startsWith('ERR_TLS') ||
    /^[A-Z_]*CERT/.test(code)
  ) {
    return e('TLS', `TLS failed: ${oneLine(err.message)} (does the port serve HTTPS?)`);
  }
  if (code === 'ECONNRESET' || code === 'EPIPE')
    return e('NETWORK', 'the server closed the connection early');
  return e('NETWORK', `${oneLine(err.message)}${code && !err.message.includes(code) ? ` (${code})` : ''}`);
}

/** Checks the certificate's dates ourselves: an unverified peer's expiry must still fail. */
function certificateFacts(t: Target, cert: PeerCertificate): { sha256: string; notAfter: Date } {
  if (!cert.raw) throw new IdentityFetchError('TLS', t.idsUrl, `${t.idsUrl}: the server sent no certificate`);
  const notAfter = new Date(cert.valid_to);
  const notBefore = new Date(cert.valid_from);
  const now = Date.now();
  if (notAfter.getTime() < now) {
    throw new IdentityFetchError(
      'CERT_EXPIRED',
      t.idsUrl,
      `${t.idsUrl}: the server's certificate expired on ${notAfter.toISOString()} (renew it)`,
    );
  }
  if (notBefore.getTime() > now) {
    throw new IdentityFetchError(
      'TLS',
      t.idsUrl,
      `${t.idsUrl}: the server's certificate is valid only from ${notBefore.toISOString()} (check the clocks)`,
    );
  }
  return { sha256: sha256Fingerprint(cert.raw), notAfter };
}

export async function fetchClusterIdentity(
  authUrl: string,
  opts: FetchIdentityOptions = {},
): Promise<IdentityResult> {
  const policy = opts.addressPolicy === 'off' ? undefined : (opts.addressPolicy ?? DEFAULT_ADDRESS_POLICY);
  const target = idsTarget(authUrl, policy ?? 'off');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_IDS_TIMEOUT_MS;
  const maxBody = opts.maxBodyBytes ?? DEFAULT_IDS_MAX_BODY_BYTES;
  const ca = trustedCas(opts.caBundle, target.idsUrl);
  if (opts.signal?.aborted) {
    throw new IdentityFetchError('ABORTED', target.idsUrl, `${target.idsUrl}: aborted before the request`);
  }
  const { body, socketFacts } = await getBounded(target, {
    timeoutMs,
    maxBody,
    strict: !!opts.strict,
    ca,
    signal: opts.signal,
    addresses: opts.addresses,
    policy,
  });
  const identity: ClusterIdentityResponse = identityFromBody(body, (code, text) => {
    return new IdentityFetchError(code, target.idsUrl, `${target.idsUrl}: ${text}`);
  });
  return {
    authUrl,
    identity,
    trustMode: socketFacts.untrustedReason === undefined ? 'Trusted' : 'Untrusted',
    ...(socketFacts.untrustedReason === undefined ? {} : { untrustedReason: socketFacts.untrustedReason }),
    certificateSha256: socketFacts.sha256,
    certificateNotAfter: socketFacts.notAfter,
  };
}

interface GetOptions {
  timeoutMs: number;
  maxBody: number;
  strict: boolean;
  ca: string[] | undefined;
  signal: AbortSignal | undefined;
  addresses?: string[] | undefined;
  policy: AddressPolicy | undefined;
}

interface SocketFacts {
  sha256: string;
  notAfter: Date;
  untrustedReason?: string;
}

/** One GET with a single deadline over connect, TLS, headers and body; leaves nothing open. */
function getBounded(t: Target, o: GetOptions): Promise<{ body: Buffer; socketFacts: SocketFacts }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const options: RequestOptions = {
      host: t.host,
      port: t.port,
      path: t.path,
      method: 'GET',
      headers: { accept: 'application/json', 'user-agent': 'liqo-discovery', connection: 'close' },
      agent: false, // a fresh connection: no pooled socket or TLS session carries trust over
      rejectUnauthorized: o.strict,
      ...(isIP(t.host) ? {} : { servername: t.host }),
      ...(o.ca ? { ca: o.ca } : {}),
      // the policy is judged on what the name resolves to, as Node connects (no second look-up)
      ...(!isIP(t.host) && (o.policy || o.addresses?.length)
        ? { lookup: guardedLookup(o.policy, o.addresses) }
        : {}),
    };
    const req = request(options);
    const finish = (
      err: IdentityFetchError | undefined,
      value?: { body: Buffer; socketFacts: SocketFacts },
    ) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      req.destroy();
      if (err) reject(err);
      else if (value) resolve(value);
    };
    const fail = (
      code: IdentityErrorCode,
      text: string,
      details: { status?: number; location?: string } = {},
    ) => finish(new IdentityFetchError(code, t.idsUrl, `${t.idsUrl}: ${text}`, details));
    // what the deadline interrupted, so the message says where it stalled
    let phase = 'connecting (is the host reachable?)';
    req.on('socket', (socket) => {
      socket.once('connect', () => (phase = 'in the TLS handshake (does the port serve HTTPS?)'));
      socket.once('secureConnect', () => (phase = 'waiting for the answer'));
    });
    const timer = setTimeout(
      () => fail('TIMEOUT', `no complete answer within ${o.timeoutMs} ms (stalled ${phase})`),
      o.timeoutMs,
    );
    const onAbort = () => fail('ABORTED', 'aborted');
    o.signal?.addEventListener('abort', onAbort, { once: true });

    req.on('error', (err: NodeJS.ErrnoException) => finish(networkError(t, err, o.timeoutMs)));
    req.on('response', (res: IncomingMessage) => {
      if (settled) return;
      let facts: SocketFacts;
      try {
        facts = peerFacts(t, res.socket as TLSSocket);
      } catch (err) {
        return finish(err as IdentityFetchError);
      }
      phase = 'reading the body';
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        const location = res.headers.location;
        return fail(
          'REDIRECT',
          `redirects (HTTP ${status}) ${redirectTarget(t, location, o.policy)}; redirects are not followed (use the final auth URL)`,
          {
            status,
            ...(location ? { location } : {}),
          },
        );
      }
      if (status !== 200) return fail('HTTP_STATUS', describeStatus(status), { status });
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > o.maxBody) {
        return fail(
          'TOO_LARGE',
          `the answer declares ${declared} bytes, more than the ${o.maxBody}-byte cap`,
        );
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > o.maxBody) return fail('TOO_LARGE', `the answer exceeds the ${o.maxBody}-byte cap`);
        chunks.push(chunk);
      });
      res.on('end', () => finish(undefined, { body: Buffer.concat(chunks), socketFacts: facts }));
      res.on('error', (err: NodeJS.ErrnoException) => finish(networkError(t, err, o.timeoutMs)));
      res.on('close', () => {
        if (!res.complete) fail('NETWORK', 'the server closed the connection before the answer was complete');
      });
    });
    req.end();
  });
}

function peerFacts(t: Target, socket: TLSSocket): SocketFacts {
  const { sha256, notAfter } = certificateFacts(t, socket.getPeerCertificate());
  if (socket.authorized) return { sha256, notAfter };
  const code = String(socket.authorizationError ?? 'UNKNOWN');
  if (code === 'CERT_HAS_EXPIRED') {
    throw new IdentityFetchError(
      'CERT_EXPIRED',
      t.idsUrl,
      `${t.idsUrl}: the server's certificate has expired (renew it)`,
    );
  }
  const reason =
    code === 'ERR_TLS_CERT_ALTNAME_INVALID'
      ? `certificate not issued for ${t.host}`
      : UNTRUSTED_REASONS[code];
  if (reason === undefined) {
    throw new IdentityFetchError(
      'TLS',
      t.idsUrl,
      `${t.idsUrl}: the server's certificate is refused (${code})`,
    );
  }
  return { sha256, notAfter, untrustedReason: reason };
}

// ---- the body ----

/**
 * Where a redirect points, in our words (the Location itself stays in the error's details):
 * another path, another server, or an address the policy refuses.
 */
function redirectTarget(t: Target, location: string | undefined, policy: AddressPolicy | undefined): string {
  if (!location) return 'without a Location';
  let url: URL;
  try {
    url = new URL(location, `https://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}${t.path}`);
  } catch {
    return 'to an unusable Location';
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  if (host === t.host && port === t.port) return 'to another path on the same server';
  const refusal = policy && classifyHost(url.hostname).kind !== 'name' ? refusalOf(host, policy) : undefined;
  return refusal ? `to ${classPhrase(refusal)}, which is refused anyway` : 'to another server';
}

function describeStatus(status: number): string {
  const hint =
    status === 404
      ? 'is the URL the base of a Liqo auth service?'
      : status >= 500
        ? 'the auth service is failing; try again later'
        : 'expected 200 with the cluster identity';
  return `answered HTTP ${status} (${hint})`;
}

/** What a non-JSON answer looks like, without quoting it. */
function describeNonJson(text: string): string {
  const start = text.trimStart();
  if (start === '') return 'it is empty';
  if (start.startsWith('<')) return 'it looks like HTML or XML';
  return `${Buffer.byteLength(text)} bytes of other text`;
}

type MakeError = (code: IdentityErrorCode, text: string) => IdentityFetchError;

function typeName(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** The /ids JSON: clusterId (non-empty string), optional string clusterName and guestNamespace. */
function identityFromBody(body: Buffer, error: MakeError): ClusterIdentityResponse {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw error('NOT_JSON', 'the answer is not UTF-8 text, so not JSON (is this a Liqo auth service?)');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw error(
      'NOT_JSON',
      `the answer is not JSON (${describeNonJson(text)}; is this a Liqo auth service?)`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw error(
      'NOT_JSON',
      `the answer is JSON ${typeName(parsed)}, not the identity object {"clusterId": ...}`,
    );
  }
  const fields = parsed as Record<string, unknown>;
  const { clusterId, clusterName, guestNamespace } = fields;
  if (clusterId === undefined || clusterId === null) {
    throw error('MISSING_CLUSTER_ID', 'the answer has no clusterId (is this a Liqo auth service?)');
  }
  if (typeof clusterId !== 'string') {
    throw error('MISSING_CLUSTER_ID', `clusterId is ${typeName(clusterId)}, expected a non-empty string`);
  }
  if (clusterId.trim() === '') {
    throw error('MISSING_CLUSTER_ID', 'clusterId is empty (the remote cluster has no identity yet?)');
  }
  const identity: ClusterIdentityResponse = { clusterId };
  for (const [key, value] of [
    ['clusterName', clusterName],
    ['guestNamespace', guestNamespace],
  ] as const) {
    if (value === undefined || value === null || value === '') continue; // absent, as Liqo sends ""
    if (typeof value !== 'string') {
      throw error('NOT_JSON', `${key} is ${typeName(value)}, expected a string (a malformed identity)`);
    }
    identity[key] = value;
  }
  return identity;
}
