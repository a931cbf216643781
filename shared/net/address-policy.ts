// The connect-time address policy (SPEC §"Security"): which addresses an /ids fetch may open a
// TCP connection to. It judges the addresses a host name RESOLVES to, at the moment of
// connecting (see guarded-lookup.ts), so a name, a DNS answer that changes between two look-ups
// (rebinding) or a redirect cannot steer a fetch where an IP literal could not go.
//
// What is refused comes from the one address-class table in shared/rules/address.ts, the same
// one the webhook checks authUrl text against: unspecified, link-local (169.254.0.0/16 with the
// cloud metadata addresses, fe80::/10), the other known metadata addresses, multicast,
// broadcast, the deprecated IPv4-compatible form, and the IPv4-mapped and NAT64 forms of all of
// these, always; loopback unless the caller allows it.
import { ADDRESS_CLASSES, classifyAddress, type AddressClass } from '../rules/address.js';

export interface AddressPolicy {
  /** Loopback (127.0.0.0/8, ::1 and their IPv6 forms) may be reached: sandboxes, the user's own plugin. */
  allowLoopback: boolean;
}

/** Why one address is refused: the address, its class, and the sentence to show. */
export interface AddressRefusal {
  address: string;
  addressClass: AddressClass | 'unknown';
  /** For IPv6 forms that carry an IPv4 address: that address. */
  embeddedIPv4?: string;
}

/** The refusal of `address` under `policy`, or undefined when it may be connected to. */
export function refusalOf(address: string, policy: AddressPolicy): AddressRefusal | undefined {
  const classification = classifyAddress(address);
  // a resolver or caller handing over something that is not an IP address: never connect to it
  if (!classification) return { address, addressClass: 'unknown' };
  const { addressClass, embeddedIPv4 } = classification;
  const rule = ADDRESS_CLASSES[addressClass].connect;
  if (rule === 'allowed' || (rule === 'loopback' && policy.allowLoopback)) return undefined;
  return { address, addressClass, ...(embeddedIPv4 ? { embeddedIPv4 } : {}) };
}

/** "an IPv6 form of 169.254.169.254, a link-local address" / "a link-local address". */
export function classPhrase(refusal: AddressRefusal): string {
  const noun =
    refusal.addressClass === 'unknown' ? 'not an IP address' : ADDRESS_CLASSES[refusal.addressClass].noun;
  return refusal.embeddedIPv4 ? `an IPv6 form of ${refusal.embeddedIPv4}, ${noun}` : noun;
}

/**
 * One line naming the host, the address and its class: "metadata.example.com resolves to
 * 169.254.169.254, a link-local address; refused", or for an IP literal "169.254.169.254 is a
 * link-local address; refused". Only our own words and the caller's host: nothing a peer sent.
 */
export function describeRefusal(host: string, refusal: AddressRefusal): string {
  const hint = refusal.addressClass === 'loopback' ? ' (loopback is reached only with --allow-loopback)' : '';
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === refusal.address) return `${bare} is ${classPhrase(refusal)}; refused${hint}`;
  return `${bare} resolves to ${refusal.address}, ${classPhrase(refusal)}; refused${hint}`;
}

/** A connection the policy did not allow; no TCP connection was opened. */
export class AddressRefusedError extends Error {
  override readonly name = 'AddressRefusedError';
  readonly code = 'ERR_ADDRESS_REFUSED';
  constructor(
    readonly host: string,
    readonly refusal: AddressRefusal,
  ) {
    super(describeRefusal(host, refusal));
  }
}

/** Throws AddressRefusedError for the first refused address among those `host` resolved to. */
export function assertAddressesAllowed(
  host: string,
  addresses: readonly string[],
  policy: AddressPolicy,
): void {
  for (const address of addresses) {
    const refusal = refusalOf(address, policy);
    if (refusal) throw new AddressRefusedError(host, refusal);
  }
}
