// THE auth URL (SPEC §1, §4), one parse for all three programs: the webhook's verdict and the
// canonical form its defaulting writes (via shared/rules/foreigncluster.ts), the /ids client's
// connect target (shared/lookup/ids.ts), and the key the plugin finds an existing ForeignCluster
// by (plugin/foreign-clusters.ts) and the agent compares pins with. Nothing else parses one.
//
// Accepted: an absolute https URL with a valid host and an optional port in 1-65535, no user
// info, query, fragment or path beyond "/". The host is read the way the WHATWG URL parser
// (Node's fetch, browsers) reads it, so every spelling of an address ("2130706433",
// "0x7f000001", "[::ffff:7f00:1]", "%31%32%37.0.0.1") is judged by the address it really names.
// Normalising never changes whether a URL is accepted.
import ipaddr from 'ipaddr.js';
import { judgeHost, type HostClassification } from './address.js';
import { dnsNameProblem, withoutTrailingDot } from './dns-name.js';

export const MAX_AUTH_URL_LENGTH = 2048;
/** The port of an auth URL that names none; the canonical form writes it. */
const HTTPS_PORT = 443;
export const AUTH_URL_ACCEPTED =
  'https://<host>[:<port>]: a DNS name or IP address, port 1-65535, no user info, path, query or fragment';

/**
 * One auth URL as every program reads it, from one parse: the webhook writes `canonical` into
 * spec.authUrl, the /ids client connects to `idsTarget`, and the plugin finds an existing
 * ForeignCluster by `matchKey`. Two spellings of one endpoint have the same canonical form.
 */
export interface AuthUrl {
  /**
   * `https://<host>:<port>` (SPEC §1): the host as the URL parser reads it (dotted-decimal IPv4,
   * compressed IPv6 in brackets, punycode), lower-case, without a trailing dot; the port always
   * written, 443 when none was; no path. What the webhook's defaulting stores.
   */
  readonly canonical: string;
  /** What identifies the endpoint when comparing two auth URLs: the canonical form. */
  readonly matchKey: string;
  /** The host as the URL parser reads it, lower-case, without a trailing dot; IPv6 in brackets. */
  readonly host: string;
  /** The host as written (between "//" and the port). */
  readonly hostAsWritten: string;
  /** The port to connect to: the one written, else 443. */
  readonly port: number;
  /** Where `GET <authUrl>/ids` goes (SPEC §2). */
  readonly idsTarget: IdsConnectTarget;
}

export interface IdsConnectTarget {
  /** `<canonical>/ids`, for messages. */
  readonly url: string;
  /** The host to connect to and to name in TLS: IPv6 without brackets, as Node's request wants it. */
  readonly host: string;
  readonly port: number;
  readonly path: '/ids';
}

export type AuthUrlParse = { ok: true; url: AuthUrl } | { ok: false; problem: string };

const URL_SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/;

function splitHostAndPort(authority: string): { host: string; portText?: string } | string {
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) return 'has "[" without a closing "]" around an IPv6 address';
    const rest = authority.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return `has ${JSON.stringify(rest)} after the IPv6 address`;
    return rest === ''
      ? { host: authority.slice(0, close + 1) }
      : { host: authority.slice(0, close + 1), portText: rest.slice(1) };
  }
  const colon = authority.lastIndexOf(':');
  if (colon < 0) return { host: authority };
  const host = authority.slice(0, colon);
  if (host.includes(':')) return 'has an IPv6 address without brackets (write https://[<address>]:<port>)';
  return { host, portText: authority.slice(colon + 1) };
}

/** Checks the shape of an authUrl and reads its host and port; says what is wrong if it cannot. */
function parseUncached(raw: string): AuthUrlParse {
  const fail = (problem: string): AuthUrlParse => ({ ok: false, problem });
  if (raw === '') return fail('is empty');
  if (raw.length > MAX_AUTH_URL_LENGTH)
    return fail(`is ${raw.length} characters long; at most ${MAX_AUTH_URL_LENGTH}`);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we refuse
  if (/[\s\u0000-\u001f\u007f]/.test(raw)) return fail('contains whitespace or control characters');
  if (raw.includes('\\')) return fail('contains a backslash');
  const shape = URL_SHAPE.exec(raw);
  if (!shape) return fail('is not an absolute URL');
  const [, scheme = '', authority = '', path = '', query, fragment] = shape;
  if (scheme.toLowerCase() !== 'https')
    return fail(`has scheme ${JSON.stringify(scheme)}; only https is allowed`);
  if (authority.includes('@')) return fail('has user info ("user@"); credentials do not belong in the URL');
  if (query !== undefined) return fail('has a query ("?..."); the auth URL is a base URL');
  if (fragment !== undefined) return fail('has a fragment ("#...")');
  if (path !== '' && path !== '/') {
    return fail(
      `has the path ${JSON.stringify(path.length > 40 ? `${path.slice(0, 37)}...` : path)}; give the base URL`,
    );
  }
  const split = splitHostAndPort(authority);
  if (typeof split === 'string') return fail(split);
  const { host: hostAsWritten, portText } = split;
  if (hostAsWritten === '' || hostAsWritten === '[]') return fail('has no host');
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^[0-9]+$/.test(portText))
      return fail(`has port ${JSON.stringify(portText)}, which is not a number`);
    port = Number(portText);
    if (port < 1 || port > 65535) return fail(`has port ${JSON.stringify(portText)}, outside 1-65535`);
  }
  let parsedHost: string;
  try {
    parsedHost = new URL(`https://${hostAsWritten}/`).hostname;
  } catch {
    return fail(`has host ${JSON.stringify(hostAsWritten)}, which is not a valid host name or IP address`);
  }
  const isIp = parsedHost.startsWith('[') || ipaddr.IPv4.isValidFourPartDecimal(parsedHost);
  if (!isIp) {
    const problem = dnsNameProblem(parsedHost, { allowUnderscore: false });
    if (problem) return fail(`has host ${JSON.stringify(parsedHost)}, which ${problem}`);
  }
  return { ok: true, url: authUrlOf(withoutTrailingDot(parsedHost), hostAsWritten, port ?? HTTPS_PORT) };
}

function authUrlOf(host: string, hostAsWritten: string, port: number): AuthUrl {
  const canonical = `https://${host}:${port}`;
  const idsTarget: IdsConnectTarget = Object.freeze({
    url: `${canonical}/ids`,
    host: host.replace(/^\[|\]$/g, ''),
    port,
    path: '/ids' as const,
  });
  return Object.freeze({ canonical, matchKey: canonical, host, hostAsWritten, port, idsTarget });
}

// The webhook reads the same authUrl twice per admission (defaulting on /mutate, checking on
// /validate) and join compares every ForeignCluster's: a small cache of parse results, oldest
// evicted first. The results are frozen, so handing the cached object out is safe.
const PARSE_CACHE_SIZE = 256;
const parseCache = new Map<string, AuthUrlParse>();

/**
 * THE reading of an auth URL (SPEC §4): its shape (https, a host, a port in 1-65535, no user
 * info, path beyond "/", query or fragment) and, when it is fine, the AuthUrl every program uses.
 */
export function parseAuthUrl(raw: string): AuthUrlParse {
  const hit = parseCache.get(raw);
  if (hit !== undefined) return hit;
  const parsed = Object.freeze(parseUncached(raw));
  if (parseCache.size >= PARSE_CACHE_SIZE) {
    const oldest = parseCache.keys().next().value;
    if (oldest !== undefined) parseCache.delete(oldest);
  }
  parseCache.set(raw, parsed);
  return parsed;
}

export const AUTH_URL_HOST_ACCEPTED =
  'a host other clusters can reach: a LAN or public IP or DNS name (not loopback, link-local, unspecified, multicast)';

export interface AuthUrlProblem {
  /** What is wrong, without the field name (the caller adds it). */
  message: string;
  accepted: string;
}

export interface AuthUrlCheck {
  problems: AuthUrlProblem[];
  warnings: string[];
  classification?: HostClassification;
}

/** The full judgement of an authUrl: shape, then the class of the address it names. */
export function checkAuthUrl(raw: string, options: { allowLoopback?: boolean } = {}): AuthUrlCheck {
  const parsed = parseAuthUrl(raw);
  if (!parsed.ok)
    return { problems: [{ message: parsed.problem, accepted: AUTH_URL_ACCEPTED }], warnings: [] };
  const { host, hostAsWritten } = parsed.url;
  const writtenPlainly = withoutTrailingDot(hostAsWritten.toLowerCase());
  const respelt = writtenPlainly !== host && !host.startsWith('[');
  const display = respelt ? `${JSON.stringify(hostAsWritten)} (read as ${host})` : JSON.stringify(host);
  const verdict = judgeHost(host, options, display);
  const warnings: string[] = [];
  if (verdict.classification.kind === 'ipv4' && respelt && !verdict.refusal) {
    warnings.push(`host ${JSON.stringify(hostAsWritten)} is an unusual spelling of ${host}`);
  }
  if (verdict.warning) warnings.push(verdict.warning);
  return {
    problems: verdict.refusal ? [{ message: verdict.refusal, accepted: AUTH_URL_HOST_ACCEPTED }] : [],
    warnings,
    classification: verdict.classification,
  };
}

/**
 * The canonical form of an authUrl (AuthUrl.canonical). A URL whose shape is wrong is returned
 * unchanged, so that validation reports it as the user wrote it.
 */
export function normaliseAuthUrl(raw: string): string {
  const parsed = parseAuthUrl(raw);
  return parsed.ok ? parsed.url.canonical : raw;
}

/** The key two spellings of one endpoint share, or undefined when `raw` is not an auth URL. */
export function authUrlMatchKey(raw: string): string | undefined {
  const parsed = parseAuthUrl(raw);
  return parsed.ok ? parsed.url.matchKey : undefined;
}

/** Both are auth URLs and name the same endpoint ("https://Host.:443/" and "https://host"). */
export function sameAuthUrl(a: string, b: string): boolean {
  const key = authUrlMatchKey(a);
  return key !== undefined && key === authUrlMatchKey(b);
}
