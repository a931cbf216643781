// Which interfaces mDNS uses (SPEC §"Security", RFC 6762 §2 and §11: the LAN is a trust
// boundary). The interfaces named (by name or address) are always honoured. Otherwise: the
// interfaces that carry a default route (read from /proc/net/route and /proc/net/ipv6_route, no
// extra process), else every up, multicast-capable one, else loopback — and by default never a
// container bridge or veth (cni0, docker0, cali*, flannel*, veth*, cilium*, …): pods are not the LAN.
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
  /** CIDRs of this interface in both families: where an on-link peer's addresses lie. */
  linkCidrs: string[];
  /** The loopback interface (the last resort of a host or namespace with nothing else). */
  loopback: boolean;
}

const IFF_UP = 0x1;
const IFF_MULTICAST = 0x1000;
const RTF_UP = 0x1;
const RTF_REJECT = 0x200;

/**
 * Container networking's interfaces (CNI plugins, Docker, libvirt, kube-proxy IPVS, OVN, …):
 * never chosen by default, even when a default route goes through one. A person may still name one.
 */
const CONTAINER_INTERFACE_PATTERNS: RegExp[] = [
  /^cni/,
  /^docker/,
  /^br-[0-9a-f]{12}$/, // Docker user-defined networks
  /^veth/,
  /^cali/,
  /^flannel/,
  /^cilium/,
  /^lxc/, // Cilium's per-pod veths
  /^vxlan[.-]calico/,
  /^tunl\d/,
  /^weave/,
  /^vethwe/,
  /^kube-/, // kube-bridge, kube-ipvs0, kube-dummy-if
  /^nodelocaldns$/,
  /^genev_sys/,
  /^ovn-k8s/,
  /^antrea-/,
  /^virbr/,
  /^podman/,
  /^cbr0$/,
];

export function isContainerInterface(name: string): boolean {
  return CONTAINER_INTERFACE_PATTERNS.some((p) => p.test(name));
}

function linkFlags(name: string): number | undefined {
  try {
    return parseInt(readFileSync(`/sys/class/net/${name}/flags`, 'utf8').trim(), 16);
  } catch {
    return undefined; // not Linux or not readable: trust os.networkInterfaces()
  }
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n');
  } catch {
    return []; // not Linux: no routing table to read
  }
}

/**
 * The interfaces the default route(s) go through, IPv4 (/proc/net/route: destination and mask
 * 0) and IPv6 (/proc/net/ipv6_route: ::/0), skipping routes that are down or "unreachable".
 */
export function defaultRouteInterfaces(
  route = readLines('/proc/net/route'),
  ipv6Route = readLines('/proc/net/ipv6_route'),
): string[] {
  const names = new Set<string>();
  for (const line of route.slice(1)) {
    const [iface, destination, , flags, , , , mask] = line.trim().split(/\s+/);
    if (!iface || destination !== '00000000' || mask !== '00000000') continue;
    const f = parseInt(flags ?? '0', 16);
    if (f & RTF_UP && !(f & RTF_REJECT)) names.add(iface);
  }
  for (const line of ipv6Route) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [destination, prefix] = fields;
    const f = parseInt(fields[8] ?? '0', 16);
    const iface = fields[9] as string;
    if (!/^0{32}$/.test(destination ?? '') || prefix !== '00' || iface === 'lo') continue;
    if (f & RTF_UP && !(f & RTF_REJECT)) names.add(iface);
  }
  return [...names];
}

/**
 * The endpoints to use: the interfaces named (by name: both families; by address: that family),
 * else the default-route interfaces, else every up, multicast-capable, non-loopback interface,
 * else loopback (a namespace or host with nothing else) — container interfaces never by default.
 */
export function selectEndpoints(wanted?: string[]): MdnsEndpoint[] {
  const all = networkInterfaces();
  const endpoints: MdnsEndpoint[] = [];
  const add = (name: string, family: 'IPv4' | 'IPv6') => {
    const infos = all[name] ?? [];
    const same = infos.filter((i) => i.family === family);
    const first = same[0];
    if (!first || endpoints.some((e) => e.name === name && e.family === family)) return;
    const cidrsOf = (list: typeof infos) => list.map((i) => i.cidr).filter((c): c is string => !!c);
    endpoints.push({
      name,
      family,
      socketInterface: family === 'IPv4' ? first.address : `::%${name}`,
      addresses: infos.map((i) => i.address),
      cidrs: cidrsOf(same),
      linkCidrs: cidrsOf(infos),
      loopback: infos.every((i) => i.internal),
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
  const usable = (name: string) => {
    const infos = all[name];
    const internal = !!infos?.every((i) => i.internal);
    if (!infos || internal || isContainerInterface(name)) return false;
    const flags = linkFlags(name);
    return flags === undefined || ((flags & IFF_UP) !== 0 && (flags & IFF_MULTICAST) !== 0);
  };
  let names = defaultRouteInterfaces().filter(usable);
  if (names.length === 0) names = Object.keys(all).filter(usable);
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
