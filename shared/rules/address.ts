// Address classes (SPEC §4 and §"Security"): the ONE table of what each class of address is and
// whether it may be connected to. The webhook's text check of authUrl hosts (judgeHost) and the
// connect-time policy on resolved addresses (shared/net/address-policy.ts) both read it, so a
// host the webhook refuses as text is also refused when a name resolves to it, and vice versa.
// Input is a host as the WHATWG URL parser gives it (IPv4 already in dotted decimal, IPv6 in
// brackets), or a bare IP address.
import ipaddr from 'ipaddr.js';
import { withoutTrailingDot } from './dns-name.js';

export type AddressClass =
  | 'loopback'
  | 'linkLocal'
  | 'metadata'
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

/**
 * Whether a class may be connected to: `refused` always, `loopback` only where loopback is
 * allowed (sandboxes, the user's own plugin), `allowed` otherwise.
 */
export type ConnectRule = 'refused' | 'loopback' | 'allowed';

interface AddressClassFacts {
  /** For a sentence "host X is <noun>" / "X resolves to Y, <noun>". */
  noun: string;
  /** What the class covers, for a person deciding what to write instead. */
  ranges?: string;
  connect: ConnectRule;
}

export const ADDRESS_CLASSES: Readonly<Record<AddressClass, AddressClassFacts>> = {
  loopback: { noun: 'a loopback address', ranges: 'this machine itself', connect: 'loopback' },
  linkLocal: {
    noun: 'a link-local address',
    ranges: '169.254.0.0/16, fe80::/10; cloud metadata lives there',
    connect: 'refused',
  },
  metadata: {
    noun: 'a cloud metadata address',
    ranges: '100.100.100.200, fd00:ec2::254',
    connect: 'refused',
  },
  unspecified: { noun: 'an unspecified address', ranges: '0.0.0.0/8 or ::', connect: 'refused' },
  multicast: { noun: 'a multicast address', ranges: '224.0.0.0/4, ff00::/8', connect: 'refused' },
  broadcast: { noun: 'the broadcast address', connect: 'refused' },
  ipv4Compatible: {
    noun: 'a deprecated IPv4-compatible IPv6 address',
    ranges: '::a.b.c.d',
    connect: 'refused',
  },
  reserved: { noun: 'in a reserved or documentation range', connect: 'allowed' },
  private: { noun: 'a private address', connect: 'allowed' },
  unicast: { noun: 'a unicast address', connect: 'allowed' },
};

/** Classes no authUrl may point at; loopback alone can be allowed for local sandboxes. */
export const REFUSED_ADDRESS_CLASSES: ReadonlySet<AddressClass> = new Set(
  (Object.keys(ADDRESS_CLASSES) as AddressClass[]).filter((c) => ADDRESS_CLASSES[c].connect !== 'allowed'),
);

/** The noun with its ranges: "a link-local address (169.254.0.0/16, fe80::/10; ...)". */
export function describeAddressClass(addressClass: AddressClass): string {
  const { noun, ranges } = ADDRESS_CLASSES[addressClass];
  return ranges ? `${noun} (${ranges})` : noun;
}

/** Single addresses of cloud instance-metadata services outside the link-local ranges. */
const METADATA_ADDRESSES = new Set(['100.100.100.200', 'fd00:ec2::254']);

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
  if (METADATA_ADDRESSES.has(address.toString())) return 'metadata';
  return IPV4_CLASSES[address.range()] ?? 'unicast';
}

/**
 * IPv6 forms whose last 32 bits are an IPv4 destination: mapped (::ffff:0:0/96), RFC 6145
 * (::ffff:0:0:0/96) and NAT64 (RFC 6052's 64:ff9b::/96, and RFC 8215's local-use
 * 64:ff9b:1::/48 read with the same /96 layout, the one NAT64 gateways use in practice).
 */
function embeddedIPv4Of(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const range = address.range();
  if (range !== 'ipv4Mapped' && range !== 'rfc6145' && range !== 'rfc6052') return undefined;
  const bytes = address.toByteArray().slice(12);
  return new ipaddr.IPv4(bytes);
}

function classifyIPv6(address: ipaddr.IPv6): HostClassification {
  const embedded = embeddedIPv4Of(address);
  if (embedded) {
    return { kind: 'ipv6', addressClass: classifyIPv4(embedded), embeddedIPv4: embedded.toString() };
  }
  // compared without a zone id, in canonical form (fd00:ec2:0::254 is fd00:ec2::254)
  if (METADATA_ADDRESSES.has(new ipaddr.IPv6(address.parts).toString())) {
    return { kind: 'ipv6', addressClass: 'metadata' };
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
 * Classifies an IP address as a resolver or socket gives it: dotted-decimal IPv4 or any IPv6
 * text (a zone id such as "fe80::1%eth0" allowed). Undefined for anything that is not one.
 */
export function classifyAddress(address: string): HostClassification | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(address)) {
    return { kind: 'ipv4', addressClass: classifyIPv4(ipaddr.IPv4.parse(address)) };
  }
  if (address.includes(':') && ipaddr.IPv6.isValid(address)) return classifyIPv6(ipaddr.IPv6.parse(address));
  return undefined;
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
  const asAddress = classifyAddress(ipv4 ?? literal);
  if (asAddress) return asAddress;
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
  const rule = ADDRESS_CLASSES[addressClass].connect;
  if (rule === 'loopback' && options.allowLoopback) {
    return {
      classification,
      warning: `host ${shown} is loopback: allowed only because loopback is enabled (sandbox)`,
    };
  }
  if (rule !== 'allowed') return { classification, refusal: `host ${shown} is ${what}` };
  if (addressClass === 'reserved') {
    return { classification, warning: `host ${shown} is ${what}; it is probably not reachable` };
  }
  return { classification };
}
