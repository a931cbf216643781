// Address classes for authUrl hosts (SPEC §4): loopback, link-local (the cloud metadata
// address among them), unspecified, multicast and broadcast hosts are refused however they
// are spelt; private LAN addresses are fine. Input is a host as the WHATWG URL parser gives
// it (IPv4 already in dotted decimal, IPv6 in brackets), or a bare IP address.
import ipaddr from 'ipaddr.js';
import { withoutTrailingDot } from './dns-name.js';

export type AddressClass =
  | 'loopback'
  | 'linkLocal'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'ipv4Compatible'
  | 'reserved'
  | 'private'
  | 'unicast';

export interface HostClassification {
  /** What the host is: an IPv4 or IPv6 literal, or a name to be resolved later. */
  kind: 'ipv4' | 'ipv6' | 'name';
  addressClass: AddressClass;
  /** For IPv6 forms that carry an IPv4 address (mapped, translated, NAT64): that address. */
  embeddedIPv4?: string;
}

/** Classes no authUrl may point at; loopback alone can be allowed for local sandboxes. */
export const REFUSED_ADDRESS_CLASSES: ReadonlySet<AddressClass> = new Set([
  'loopback',
  'linkLocal',
  'unspecified',
  'multicast',
  'broadcast',
  'ipv4Compatible',
]);

const CLASS_DESCRIPTIONS: Record<AddressClass, string> = {
  loopback: 'a loopback address (this machine itself)',
  linkLocal: 'a link-local address (169.254.0.0/16, fe80::/10; cloud metadata lives there)',
  unspecified: 'an unspecified address (0.0.0.0/8 or ::)',
  multicast: 'a multicast address (224.0.0.0/4, ff00::/8)',
  broadcast: 'the broadcast address',
  ipv4Compatible: 'a deprecated IPv4-compatible IPv6 address (::a.b.c.d)',
  reserved: 'in a reserved or documentation range',
  private: 'a private address',
  unicast: 'a unicast address',
};

export function describeAddressClass(addressClass: AddressClass): string {
  return CLASS_DESCRIPTIONS[addressClass];
}

/** Names that resolve to this machine by convention (RFC 6761 and Debian's /etc/hosts). */
const LOOPBACK_NAMES = new Set([
  'localhost',
  'localhost.localdomain',
  'localhost4',
  'localhost4.localdomain4',
  'localhost6',
  'localhost6.localdomain6',
  'ip6-localhost',
  'ip6-loopback',
]);

/** Well-known names of the cloud instance-metadata service (169.254.169.254). */
const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);

const IPV4_CLASSES: Record<string, AddressClass> = {
  loopback: 'loopback',
  linkLocal: 'linkLocal',
  unspecified: 'unspecified',
  multicast: 'multicast',
  broadcast: 'broadcast',
  private: 'private',
  reserved: 'reserved',
};

function classifyIPv4(address: ipaddr.IPv4): AddressClass {
  return IPV4_CLASSES[address.range()] ?? 'unicast';
}

/** IPv6 forms whose last 32 bits are an IPv4 destination: mapped, RFC 6145, NAT64 /96. */
function embeddedIPv4Of(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const range = address.range();
  const parts = address.parts;
  const isWellKnownNat64 = range === 'rfc6052' && parts[0] === 0x64 && parts[2] === 0;
  if (range !== 'ipv4Mapped' && range !== 'rfc6145' && !isWellKnownNat64) return undefined;
  const bytes = address.toByteArray().slice(12);
  return new ipaddr.IPv4(bytes);
}

function classifyIPv6(address: ipaddr.IPv6): HostClassification {
  const embedded = embeddedIPv4Of(address);
  if (embedded) {
    return { kind: 'ipv6', addressClass: classifyIPv4(embedded), embeddedIPv4: embedded.toString() };
  }
  const range: string = address.range(); // typings lag behind the ranges ipaddr.js returns
  switch (range) {
    case 'loopback':
    case 'linkLocal':
    case 'unspecified':
    case 'multicast':
      return { kind: 'ipv6', addressClass: range as AddressClass };
    case 'uniqueLocal':
      return { kind: 'ipv6', addressClass: 'private' };
    case 'reserved':
    case 'deprecatedSiteLocal':
    case 'discard':
    case 'benchmarking':
      return { kind: 'ipv6', addressClass: 'reserved' };
    default:
      break;
  }
  // ::a.b.c.d (the first 96 bits zero) is RFC 4291's deprecated IPv4-compatible form.
  const parts = address.parts;
  if (parts.slice(0, 6).every((part) => part === 0)) return { kind: 'ipv6', addressClass: 'ipv4Compatible' };
  return { kind: 'ipv6', addressClass: 'unicast' };
}

/**
 * The dotted-decimal form of an IPv4 address written in any spelling the WHATWG URL parser
 * (and so every browser and Node's fetch) reads as one: "2130706433", "0x7f000001",
 * "0177.0.0.1", "127.1", "127.0.0.1." all mean 127.0.0.1. Undefined for anything else.
 */
export function canonicalIPv4(host: string): string | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(host)) return host;
  if (!/^[0-9a-fA-FxX.]+$/.test(host)) return undefined;
  try {
    const parsed = new URL(`https://${host}/`).hostname;
    return ipaddr.IPv4.isValidFourPartDecimal(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Classifies a host: an IP literal by its range (looking inside IPv6 forms that embed an
 * IPv4 address), a name by the conventions that make it loopback or the metadata service.
 * Never throws; a name that is not an IP is "unicast" (it is resolved later, elsewhere).
 */
export function classifyHost(host: string): HostClassification {
  const bracketed = host.startsWith('[') && host.endsWith(']');
  const literal = bracketed ? host.slice(1, -1) : host;
  const ipv4 = canonicalIPv4(literal);
  if (ipv4 !== undefined) return { kind: 'ipv4', addressClass: classifyIPv4(ipaddr.IPv4.parse(ipv4)) };
  if (literal.includes(':') && ipaddr.IPv6.isValid(literal)) {
    return classifyIPv6(ipaddr.IPv6.parse(literal));
  }
  const name = withoutTrailingDot(host).toLowerCase();
  if (LOOPBACK_NAMES.has(name) || name.endsWith('.localhost'))
    return { kind: 'name', addressClass: 'loopback' };
  if (METADATA_NAMES.has(name)) return { kind: 'name', addressClass: 'linkLocal' };
  return { kind: 'name', addressClass: 'unicast' };
}

export interface HostVerdict {
  classification: HostClassification;
  /** Set when the host is refused: why, in words that name the host. */
  refusal?: string;
  /** Set when the host is accepted but doubtful. */
  warning?: string;
}

/** Judges a host for use in an authUrl. `allowLoopback` lets loopback through, with a warning. */
export function judgeHost(
  host: string,
  options: { allowLoopback?: boolean } = {},
  display = JSON.stringify(host),
): HostVerdict {
  const classification = classifyHost(host);
  const { addressClass, embeddedIPv4 } = classification;
  const what = embeddedIPv4
    ? `an IPv6 form of ${embeddedIPv4}, ${describeAddressClass(addressClass)}`
    : describeAddressClass(addressClass);
  const shown = display;
  if (addressClass === 'loopback' && options.allowLoopback) {
    return {
      classification,
      warning: `host ${shown} is loopback: allowed only because loopback is enabled (sandbox)`,
    };
  }
  if (REFUSED_ADDRESS_CLASSES.has(addressClass))
    return { classification, refusal: `host ${shown} is ${what}` };
  if (addressClass === 'reserved') {
    return { classification, warning: `host ${shown} is ${what}; it is probably not reachable` };
  }
  return { classification };
}
