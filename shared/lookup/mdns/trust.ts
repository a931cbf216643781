// The LAN trust boundary (SPEC §"Security", RFC 6762 §11): a LAN peer is on-link by definition.
// A packet counts only if its source is on the receiving interface's subnet (an IPv6 link-local
// source is on-link by nature), and an advertised A/AAAA only if it lies on that interface's
// subnets and the connect-time address policy allows it. What fails is ignored and counted
// ('ignored' events, one per packet or record), never logged one by one.
import ipaddr from 'ipaddr.js';
import { refusalOf } from '../../net/address-policy.js';
import type { MdnsEndpoint } from './interfaces.js';

export type TrustDropReason = 'off_subnet_source' | 'off_link_address' | 'forbidden_address';

export const TRUST_DROP_REASONS: readonly TrustDropReason[] = [
  'off_subnet_source',
  'off_link_address',
  'forbidden_address',
];

export function inCidr(address: string, cidr: string): boolean {
  try {
    const addr = ipaddr.parse(address.replace(/%.*$/, ''));
    const [range, bits] = ipaddr.parseCIDR(cidr);
    if (addr.kind() !== range.kind()) return false;
    return addr.match(range, bits);
  } catch {
    return false;
  }
}

function isIPv6LinkLocal(address: string): boolean {
  return /^fe[89ab][0-9a-f]?:/i.test(address);
}

/**
 * Whether a packet's source is on this endpoint's link: inside one of its subnets, or for IPv6
 * a link-local address (whose zone, when the kernel reports one, must be this interface).
 */
export function sourceOnLink(endpoint: MdnsEndpoint, source: string): boolean {
  if (endpoint.family === 'IPv6' && isIPv6LinkLocal(source)) {
    const zone = /%(.+)$/.exec(source)?.[1];
    return zone === undefined || zone === endpoint.name || /^\d+$/.test(zone);
  }
  return endpoint.cidrs.some((c) => inCidr(source, c));
}

/**
 * Why an address advertised on this endpoint's link is not to be used, or undefined when it may
 * be: the address policy first (link-local, metadata, loopback except on the loopback interface
 * itself, …), then the on-link rule (inside one of the interface's subnets, either family).
 */
export function advertisedAddressVerdict(
  endpoint: MdnsEndpoint,
  address: string,
): TrustDropReason | 'ignored_link_local' | undefined {
  if (refusalOf(address, { allowLoopback: endpoint.loopback })) {
    // every dual-stack host may publish its fe80:: address (RFC 6762 §6.2): unusable for /ids, so
    // dropped, but no sign of a hostile LAN, so not counted
    return isIPv6LinkLocal(address) ? 'ignored_link_local' : 'forbidden_address';
  }
  if (!endpoint.linkCidrs.some((c) => inCidr(address, c))) return 'off_link_address';
  return undefined;
}
