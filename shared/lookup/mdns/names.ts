// Names, TXT and URLs for LAN discovery: the pure parts shared by the browser and the advertiser.
import type { Answer, Question, RecordType } from 'dns-packet';
import { MDNS_DOMAIN, MDNS_SERVICE_LIQO_V02, MDNS_SERVICE_RFC } from '../../api/constants.js';
import { MAX_DNS_LABEL_LENGTH } from '../../rules/dns-name.js';

/** The TTL of a record (OPT pseudo-records have none). */
export function ttlOf(record: Answer): number {
  return 'ttl' in record && typeof record.ttl === 'number' ? record.ttl : 0;
}

/** dns-packet's RecordType omits the query-only type ANY (255), which it encodes fine. */
export const ANY_TYPE = 'ANY' as RecordType;

export const MDNS_IPV4_GROUP = '224.0.0.251';
export const MDNS_IPV6_GROUP = 'ff02::fb';
export const MDNS_PORT = 5353;
/** RFC 6763 §9: the enumeration of service types. */
export const SERVICES_ENUMERATION = `_services._dns-sd._udp.${MDNS_DOMAIN}`;
export const DEFAULT_SERVICE_TYPES = [MDNS_SERVICE_LIQO_V02, MDNS_SERVICE_RFC];

/** mDNS names compare case-insensitively and without the root dot. */
export function normalizeName(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

/** "_liqo._tcp", "_liqo._tcp.local" or "_liqo._tcp.local." -> "_liqo._tcp.local". */
export function fullServiceType(serviceType: string): string {
  const bare = serviceType.replace(/\.$/, '');
  const withDomain = /\.local$/i.test(bare) ? bare : `${bare}.${MDNS_DOMAIN}`;
  if (!/^_[^.]+\._(tcp|udp)\.local$/i.test(withDomain)) {
    throw new Error(`mDNS service type "${serviceType}" is not of the form _name._tcp (e.g. _liqo._tcp)`);
  }
  return withDomain;
}

/** The instance label of "<instance>.<serviceType>", or undefined if the name is not under it. */
export function instanceOf(fqdn: string, serviceType: string): string | undefined {
  const suffix = `.${serviceType}`;
  if (fqdn.length <= suffix.length || fqdn.slice(-suffix.length).toLowerCase() !== suffix.toLowerCase()) {
    return undefined;
  }
  const label = fqdn.slice(0, -suffix.length);
  return label.includes('.') ? undefined : label;
}

/** A DNS label for the host name: letters, digits and hyphens, at most 63 bytes. */
export function hostLabel(name: string): string {
  const label = name
    .replace(/\.local\.?$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_DNS_LABEL_LENGTH)
    .replace(/-+$/, '');
  return label || 'liqo';
}

/** RFC 6762 §9 renaming: "name (2)" for instances, "host-2" for host names. */
export function renamedInstance(base: string, attempt: number): string {
  return attempt <= 1 ? base : `${base} (${attempt})`;
}
export function renamedHost(base: string, attempt: number): string {
  return attempt <= 1 ? base : `${base.slice(0, 60)}-${attempt}`;
}

const MAX_TXT_KEYS = 64;
const MAX_TXT_BYTES = 8192;

/** RFC 6763 §6 key=value strings; keys case-insensitive, first one wins, bounded. */
export function parseTxt(data: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const strings = Array.isArray(data) ? data : data === undefined ? [] : [data];
  let bytes = 0;
  let keys = 0;
  for (const item of strings) {
    const buf = Buffer.isBuffer(item) ? item : typeof item === 'string' ? Buffer.from(item) : undefined;
    if (!buf || buf.length === 0) continue;
    bytes += buf.length;
    if (bytes > MAX_TXT_BYTES || keys >= MAX_TXT_KEYS) break;
    const text = buf.toString('utf8');
    const eq = text.indexOf('=');
    const key = (eq === -1 ? text : text.slice(0, eq)).toLowerCase();
    if (!key || key in out) continue;
    out[key] = eq === -1 ? '' : text.slice(eq + 1);
    keys += 1;
  }
  return out;
}

export function encodeTxt(entries: Record<string, string | undefined>): Buffer[] {
  const out: Buffer[] = [];
  for (const [key, value] of Object.entries(entries)) {
    if (value === undefined) continue;
    const buf = Buffer.from(`${key}=${value}`);
    if (buf.length <= 255) out.push(buf);
  }
  return out;
}

function isIpv6(address: string): boolean {
  return address.includes(':');
}

function isLinkLocal6(address: string): boolean {
  return /^fe[89ab]/i.test(address);
}

/**
 * https://<address>:<port> for each usable address: IPv4 first (link-local IPv4 last), then
 * routable IPv6 in brackets. Link-local IPv6 is left out: a URL cannot carry its zone.
 */
export function authUrlsFor(addresses: string[], port: number): string[] {
  const v4 = addresses.filter((a) => !isIpv6(a));
  const v4Sorted = [
    ...v4.filter((a) => !a.startsWith('169.254.')),
    ...v4.filter((a) => a.startsWith('169.254.')),
  ];
  const v6 = addresses.filter((a) => isIpv6(a) && !isLinkLocal6(a));
  return [...v4Sorted.map((a) => `https://${a}:${port}`), ...v6.map((a) => `https://[${a}]:${port}`)];
}

/**
 * Splits questions into groups whose encoded query stays within `maxBytes` (header, and each
 * question's uncompressed name plus type and class), so that no query is sent as a datagram
 * that must be fragmented (RFC 6762 §17). A question larger than the limit goes alone.
 */
export function packQuestions(questions: Question[], maxBytes: number): Question[][] {
  const HEADER = 12;
  const groups: Question[][] = [];
  let group: Question[] = [];
  let bytes = HEADER;
  for (const question of questions) {
    const size = Buffer.byteLength(question.name) + 2 + 4;
    if (group.length > 0 && bytes + size > maxBytes) {
      groups.push(group);
      group = [];
      bytes = HEADER;
    }
    group.push(question);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
