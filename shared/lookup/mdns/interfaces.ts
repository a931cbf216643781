// Which interfaces mDNS uses: the ones named (by name or address), else every up,
// multicast-capable one (Linux link flags), else loopback.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

export interface MdnsEndpoint {
  /** Interface name, e.g. "eth0". */
  name: string;
  family: 'IPv4' | 'IPv6';
  /** The address the socket is tied to (IPv4) or "::%<name>" (IPv6). */
  socketInterface: string;
  /** Every address of the interface (both families): what an advertiser publishes on it. */
  addresses: string[];
  /** CIDRs of this interface in this family, for telling which link a packet came from. */
  cidrs: string[];
}

const IFF_UP = 0x1;
const IFF_MULTICAST = 0x1000;

function linkFlags(name: string): number | undefined {
  try {
    return parseInt(readFileSync(`/sys/class/net/${name}/flags`, 'utf8').trim(), 16);
  } catch {
    return undefined; // not Linux or not readable: trust os.networkInterfaces()
  }
}

/**
 * The endpoints to use: the interfaces named (by name: both families; by address: that family),
 * else every up, multicast-capable, non-loopback interface, else loopback (a namespace or host
 * with nothing else).
 */
export function selectEndpoints(wanted?: string[]): MdnsEndpoint[] {
  const all = networkInterfaces();
  const endpoints: MdnsEndpoint[] = [];
  const add = (name: string, family: 'IPv4' | 'IPv6') => {
    const infos = all[name] ?? [];
    const same = infos.filter((i) => i.family === family);
    const first = same[0];
    if (!first || endpoints.some((e) => e.name === name && e.family === family)) return;
    endpoints.push({
      name,
      family,
      socketInterface: family === 'IPv4' ? first.address : `::%${name}`,
      addresses: infos.map((i) => i.address),
      cidrs: same.map((i) => i.cidr).filter((c): c is string => !!c),
    });
  };
  if (wanted && wanted.length > 0) {
    for (const want of wanted) {
      const byName = all[want];
      if (byName) {
        add(want, 'IPv4');
        add(want, 'IPv6');
        continue;
      }
      const owner = Object.entries(all).find(([, infos]) => infos?.some((i) => i.address === want));
      if (!owner) {
        const names = Object.keys(all).join(', ');
        throw new Error(
          `mDNS interface "${want}" is neither an interface name nor a local address (have: ${names})`,
        );
      }
      add(owner[0], want.includes(':') ? 'IPv6' : 'IPv4');
    }
    return endpoints;
  }
  const usable = (name: string, internal: boolean) => {
    const flags = linkFlags(name);
    if (flags === undefined) return !internal;
    return (flags & IFF_UP) !== 0 && (flags & IFF_MULTICAST) !== 0 && !internal;
  };
  let names = Object.entries(all)
    .filter(([name, infos]) => usable(name, !!infos?.every((i) => i.internal)))
    .map(([name]) => name);
  if (names.length === 0)
    names = Object.entries(all)
      .filter(([, i]) => i?.every((x) => x.internal))
      .map(([n]) => n);
  for (const name of names) {
    add(name, 'IPv4');
    add(name, 'IPv6');
  }
  return endpoints;
}
