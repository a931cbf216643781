// A `lookup` function for net/tls/https connections that applies the address policy to what a
// name resolves to, at connect time: Node connects to exactly the addresses this function
// hands back, so there is no window between the check and the connection for a second DNS
// answer to slip into (rebinding). If ANY address of the answer is refused the whole name is:
// a name answering one good and one forbidden address is steering, not redundancy, and
// Happy Eyeballs (autoSelectFamily) would otherwise try the forbidden one too.
//
// Node skips `lookup` for IP literals, so callers check a literal host themselves
// (assertAddressesAllowed) before connecting.
import { lookup as systemLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { assertAddressesAllowed, type AddressPolicy } from './address-policy.js';

type Resolve = (
  host: string,
  family: number,
  hints: number | undefined,
  callback: (err: NodeJS.ErrnoException | null, entries: LookupAddress[]) => void,
) => void;

/** The system resolver (getaddrinfo: /etc/hosts, nsswitch, resolv.conf), every address. */
const resolveWithSystem: Resolve = (host, family, hints, callback) =>
  systemLookup(host, { all: true, family, ...(hints === undefined ? {} : { hints }) }, callback);

/** Answers with given addresses (already resolved elsewhere, e.g. a SearchDomain's own DNS server). */
function resolveTo(addresses: readonly string[]): Resolve {
  const entries = addresses.map((address) => ({ address, family: isIP(address) === 6 ? 6 : 4 }));
  return (_host, family, _hints, callback) =>
    callback(null, family === 4 || family === 6 ? entries.filter((e) => e.family === family) : [...entries]);
}

function familyNumber(family: number | string | undefined): 0 | 4 | 6 {
  if (family === 6 || family === 'IPv6') return 6;
  if (family === 4 || family === 'IPv4') return 4;
  return 0;
}

const addressesOf = (entries: readonly LookupAddress[]) => entries.map((e) => e.address);

/**
 * A LookupFunction that resolves `host` (with the system resolver, or to `addresses` when
 * given), refuses the connection with an AddressRefusedError when the policy refuses any of
 * the addresses, and otherwise returns them as Node asked (one, or all for Happy Eyeballs).
 * Without a policy it resolves and answers unchecked (the benchmark's no-policy anchor).
 */
export function guardedLookup(
  policy: AddressPolicy | undefined,
  addresses?: readonly string[],
): LookupFunction {
  const resolve = addresses?.length ? resolveTo(addresses) : resolveWithSystem;
  const lookup = (
    host: string,
    options: { family?: number | string; hints?: number; all?: boolean },
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    const family = familyNumber(options.family);
    resolve(host, family, options.hints, (err, entries) => {
      if (err) return callback(err, '');
      if (entries.length === 0) {
        const none = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {
          code: 'ENOTFOUND',
          hostname: host,
        });
        return callback(none, '');
      }
      if (policy) {
        try {
          assertAddressesAllowed(host, addressesOf(entries), policy);
        } catch (refused) {
          return callback(refused as NodeJS.ErrnoException, '');
        }
      }
      if (options.all) return callback(null, entries);
      const first = entries[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
  return lookup as unknown as LookupFunction;
}
