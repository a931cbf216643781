// Pure helpers of the DNS-SD resolver (dns.ts): input checks, RFC 2782 SRV ordering, RFC 6763
// TXT parsing and auth URL building. No I/O, so they are easy to test on their own.
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { DNS_SD_LABEL_CHARACTERS, MAX_DNS_LABEL_LENGTH, MAX_DNS_NAME_LENGTH } from '../rules/dns-name.js';

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

/** Lower-cased ASCII domain without the trailing dot, or why it cannot be searched. */
export function normalizeSearchDomain(input: unknown, suffixLength = 0): Checked<string> {
  if (typeof input !== 'string')
    return { ok: false, message: `domain must be a string, got ${typeof input}` };
  let name = input.trim().replace(/\.$/, '');
  if (name === '') return { ok: false, message: 'domain is empty: give a DNS name such as example.com' };
  if ([...name].some((char) => char.charCodeAt(0) > 0x7f)) {
    // Internationalised names are searched in their punycode (xn--) form.
    const ascii = domainToASCII(name);
    if (ascii === '') return { ok: false, message: `domain "${input}" is not a valid DNS name` };
    name = ascii;
  }
  name = name.toLowerCase();
  if (name.length + suffixLength > MAX_DNS_NAME_LENGTH) {
    return {
      ok: false,
      message: `domain "${input}" is too long (DNS names are at most ${MAX_DNS_NAME_LENGTH} characters)`,
    };
  }
  for (const label of name.split('.')) {
    if (label === '')
      return { ok: false, message: `domain "${input}" has an empty label (two dots or a leading dot)` };
    if (label.length > MAX_DNS_LABEL_LENGTH) {
      return {
        ok: false,
        message: `domain "${input}" has a label longer than ${MAX_DNS_LABEL_LENGTH} characters`,
      };
    }
    // letters, digits, hyphen; underscore too, since DNS-SD names (_liqo._tcp) use it
    if (!DNS_SD_LABEL_CHARACTERS.test(label)) {
      return {
        ok: false,
        message: `domain "${input}" has invalid characters in "${label}" (letters, digits, "-" and "_" only)`,
      };
    }
  }
  return { ok: true, value: name };
}

/** A DNS server to ask: an IP address (IPv6 without brackets) and a port. */
export interface DnsServerAddress {
  host: string;
  port: number;
}

/**
 * A DNS server as `host`, `host:port`, `[v6]:port` or a bare IPv6 address. The host must be an
 * IP address: the resolver cannot look a name up before it has a server to ask.
 */
export function parseDnsServerAddress(input: string): Checked<DnsServerAddress> {
  const text = input.trim();
  const hint = 'expected an IP address with an optional port: 127.0.0.1, 127.0.0.1:5353 or [::1]:5353';
  let host = text;
  let port = '53';
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? '';
    port = bracketed[2] ?? '53';
  } else if (isIP(text) === 0 && text.lastIndexOf(':') > 0 && text.indexOf(':') === text.lastIndexOf(':')) {
    host = text.slice(0, text.lastIndexOf(':'));
    port = text.slice(text.lastIndexOf(':') + 1);
  }
  if (isIP(host) === 0) return { ok: false, message: `DNS server "${input}": ${hint}` };
  const portNumber = /^\d{1,5}$/.test(port) ? Number(port) : NaN;
  if (!(portNumber >= 1 && portNumber <= 65535)) {
    return { ok: false, message: `DNS server "${input}": port must be 1-65535` };
  }
  return { ok: true, value: { host, port: portNumber } };
}

/** `host:port`, an IPv6 host in brackets: how servers are named in messages. */
export function formatDnsServer({ host, port }: DnsServerAddress): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** parseDnsServerAddress, as the `host:port` text that names the server. */
export function parseDnsServer(input: string): Checked<string> {
  const parsed = parseDnsServerAddress(input);
  return parsed.ok ? { ok: true, value: formatDnsServer(parsed.value) } : parsed;
}

/** `https://<host>:<port>`; an IPv6 literal goes in brackets. */
export function buildAuthUrl(target: string, port: number): string {
  const host = target.replace(/\.$/, '');
  return `https://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/**
 * RFC 6763 §6: each character-string of a TXT record is one `key=value` (or a bare `key`, a
 * boolean attribute, given as ""). Keys are case-insensitive; the first occurrence wins; strings
 * without a key (empty, or starting with "=") are ignored.
 */
export function parseTxtRecords(records: readonly (readonly string[])[]): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const record of records) {
    for (const chunk of record) {
      const equals = chunk.indexOf('=');
      const key = (equals === -1 ? chunk : chunk.slice(0, equals)).toLowerCase();
      if (key === '' || Object.prototype.hasOwnProperty.call(attributes, key)) continue;
      attributes[key] = equals === -1 ? '' : chunk.slice(equals + 1);
    }
  }
  return attributes;
}

export interface SrvLike {
  priority: number;
  weight: number;
}

/**
 * RFC 2782 order: lowest priority first; within a priority, repeatedly pick at random with
 * probability proportional to weight. Weight-0 records go first in the list the draw runs over,
 * so they are chosen only when the draw is 0: "a very small chance" when others have weight,
 * an even chance among themselves when all are 0.
 */
export function orderSrvRecords<T extends SrvLike>(
  records: readonly T[],
  random: () => number = Math.random,
): T[] {
  const priorities = [...new Set(records.map((record) => record.priority))].sort((a, b) => a - b);
  const ordered: T[] = [];
  for (const priority of priorities) {
    const group = records.filter((record) => record.priority === priority);
    // Zero-weight records are shuffled so that equal ones share the load.
    const zeros = shuffle(
      group.filter((record) => record.weight === 0),
      random,
    );
    const pending = [...zeros, ...group.filter((record) => record.weight > 0)];
    while (pending.length > 0) {
      const total = pending.reduce((sum, record) => sum + record.weight, 0);
      const draw = Math.min(total, Math.floor(random() * (total + 1)));
      let running = 0;
      let index = pending.findIndex((record) => (running += record.weight) >= draw);
      if (index < 0) index = 0;
      ordered.push(...pending.splice(index, 1));
    }
  }
  return ordered;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(random() * (i + 1)));
    const swap = items[i] as T;
    items[i] = items[j] as T;
    items[j] = swap;
  }
  return items;
}
