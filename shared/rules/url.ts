// The authUrl rules (SPEC §4): an absolute https URL with a valid host and an optional port
// in 1-65535, no user info, query, fragment or path beyond "/". The host is read the way
// the WHATWG URL parser (Node's fetch, browsers) reads it, so every spelling of an address
// ("2130706433", "0x7f000001", "[::ffff:7f00:1]", "%31%32%37.0.0.1") is judged by the
// address it really names. Normalising never changes whether a URL is accepted.
import ipaddr from 'ipaddr.js';
import { judgeHost, type HostClassification } from './address.js';
import { dnsNameProblem, withoutTrailingDot } from './dns-name.js';

export const MAX_AUTH_URL_LENGTH = 2048;
export const AUTH_URL_ACCEPTED =
  'https://<host>[:<port>]: a DNS name or IP address, port 1-65535, no user info, path, query or fragment';

export interface ParsedAuthUrl {
  /** The host as the URL parser reads it, lower-case, without a trailing dot; IPv6 in brackets. */
  host: string;
  /** The host as written (between "//" and the port). */
  hostAsWritten: string;
  /** Only when written: an explicit ":443" is kept, an absent port is not added. */
  port?: number;
}

export type AuthUrlParse = { ok: true; url: ParsedAuthUrl } | { ok: false; problem: string };

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
export function parseAuthUrl(raw: string): AuthUrlParse {
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
  const url: ParsedAuthUrl = { host: withoutTrailingDot(parsedHost), hostAsWritten };
  if (port !== undefined) url.port = port;
  return { ok: true, url };
}

// checkAuthUrl and normaliseAuthUrl read the same authUrl on every admission (the webhook
// defaults it on /mutate, then checks it on /validate): a small cache of parse results,
// oldest evicted first. Only these two read it and neither hands the cached object out;
// parseAuthUrl itself stays uncached so its callers always get a fresh object.
const PARSE_CACHE_SIZE = 256;
const parseCache = new Map<string, AuthUrlParse>();

function parseAuthUrlCached(raw: string): AuthUrlParse {
  const hit = parseCache.get(raw);
  if (hit !== undefined) return hit;
  const parsed = parseAuthUrl(raw);
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
  const parsed = parseAuthUrlCached(raw);
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
 * The canonical form of an authUrl: lower-case scheme and host, the host as the URL parser
 * reads it (dotted-decimal IPv4, compressed IPv6, punycode), no trailing dot, no trailing
 * slash, the port only if one was written. A URL whose shape is wrong is returned unchanged,
 * so that validation reports it as the user wrote it.
 */
export function normaliseAuthUrl(raw: string): string {
  const parsed = parseAuthUrlCached(raw);
  if (!parsed.ok) return raw;
  const { host, port } = parsed.url;
  return `https://${host}${port === undefined ? '' : `:${port}`}`;
}
