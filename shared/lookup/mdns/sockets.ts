// The mDNS transport: one multicast-dns socket per chosen interface and address family, bound to
// the wildcard address (binding to the unicast address alone receives no multicast) with the
// interface set for membership and sending. Packets reach the owner already decoded; anything
// multicast-dns cannot decode is dropped as a warning, and owner exceptions never escape. A
// packet whose source is not on the receiving interface's subnet never reaches the owner
// (RFC 6762 §11): it is counted and announced as an 'ignored' event, not a warning.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import dnsPacket, { type Packet } from 'dns-packet';
import makeMdns from 'multicast-dns';
import { selectEndpoints, type MdnsEndpoint } from './interfaces.js';
import { MDNS_IPV4_GROUP, MDNS_IPV6_GROUP, MDNS_PORT } from './names.js';
import { sourceOnLink, type TrustDropReason } from './trust.js';

export { selectEndpoints, type MdnsEndpoint };

export type PacketHandler = (packet: Packet, rinfo: RemoteInfo, endpoint: MdnsEndpoint) => void;

interface RawSender {
  send(packet: Packet, to: { address: string; port: number }, cb: (err: Error | null) => void): void;
  send(packet: Packet, cb: (err: Error | null) => void): void;
}

interface OpenSocket {
  endpoint: MdnsEndpoint;
  mdns: makeMdns.MulticastDNS;
  /** multicast-dns's socket (we create it), for what multicast-dns cannot encode. */
  socket: Socket;
}

/**
 * Events: 'warning' (Error) for undecodable packets, socket trouble or handler failures;
 * 'ignored' (TrustDropReason) for each packet refused at the LAN trust boundary.
 */
export class MdnsTransport extends EventEmitter {
  private sockets: OpenSocket[] = [];
  private legacySockets: Socket[] = [];
  readonly endpoints: MdnsEndpoint[];
  /** Packets dropped because they could not be decoded or handled. */
  dropped = 0;
  /** Packets refused at the LAN trust boundary (source off the receiving interface's subnet). */
  offSubnetSources = 0;

  constructor(
    interfaces: string[] | undefined,
    private readonly onPacket: PacketHandler,
  ) {
    super();
    this.endpoints = selectEndpoints(interfaces);
  }

  /** Opens every endpoint's socket; resolves with those that work, rejects if none does. */
  async start(): Promise<MdnsEndpoint[]> {
    const opened = await Promise.all(this.endpoints.map((e) => this.open(e)));
    this.sockets = opened.filter((s): s is OpenSocket => s !== undefined);
    if (this.sockets.length === 0) {
      const tried = this.endpoints.map((e) => `${e.name}/${e.family}`).join(', ') || 'none found';
      throw new Error(`mDNS: no usable multicast interface (tried: ${tried})`);
    }
    return this.sockets.map((s) => s.endpoint);
  }

  private open(endpoint: MdnsEndpoint): Promise<OpenSocket | undefined> {
    const v6 = endpoint.family === 'IPv6';
    return new Promise((resolve) => {
      let mdns: makeMdns.MulticastDNS;
      let socket: Socket;
      try {
        socket = createSocket({ type: v6 ? 'udp6' : 'udp4', reuseAddr: true, ipv6Only: v6 });
        mdns = makeMdns({
          type: v6 ? 'udp6' : 'udp4',
          ip: v6 ? MDNS_IPV6_GROUP : MDNS_IPV4_GROUP,
          port: MDNS_PORT,
          interface: endpoint.socketInterface,
          bind: v6 ? '::' : '0.0.0.0',
          socket,
        });
      } catch (err) {
        this.emit(
          'warning',
          new Error(`mDNS ${endpoint.name}/${endpoint.family}: ${(err as Error).message}`),
        );
        return resolve(undefined);
      }
      let joined = false;
      mdns.on('networkInterface', () => (joined = true));
      mdns.on('warning', (err: Error) => {
        this.dropped += 1;
        this.emit('warning', err);
      });
      mdns.on('packet', (packet: Packet, rinfo: RemoteInfo) => {
        if (!this.fromThisLink(endpoint, rinfo.address)) return;
        try {
          this.onPacket(packet, rinfo, endpoint);
        } catch (err) {
          this.dropped += 1;
          this.emit(
            'warning',
            new Error(`mDNS packet from ${rinfo.address} dropped: ${(err as Error).message}`),
          );
        }
      });
      mdns.once('error', (err: Error) => {
        this.emit('warning', new Error(`mDNS ${endpoint.name}/${endpoint.family}: ${err.message}`));
        mdns.destroy();
        resolve(undefined);
      });
      mdns.once('ready', () => {
        mdns.on('error', (err: Error) => this.emit('warning', err));
        // multicast-dns joins the group when listening; a failed join arrives as a warning
        setImmediate(() => {
          if (joined) return resolve({ endpoint, mdns, socket });
          this.emit(
            'warning',
            new Error(`mDNS ${endpoint.name}/${endpoint.family}: could not join the group`),
          );
          mdns.destroy();
          resolve(undefined);
        });
      });
    });
  }

  /**
   * RFC 6762 §11: only packets whose source is on the receiving interface's link count. Every
   * socket gets a copy of the group's packets from all interfaces (Linux IP_MULTICAST_ALL), so a
   * packet is handled by the socket whose subnet holds its source, and one that no socket's subnet
   * holds is ignored, and counted once (by the first socket of its family).
   */
  private fromThisLink(endpoint: MdnsEndpoint, source: string): boolean {
    if (sourceOnLink(endpoint, source)) return true;
    const family = this.sockets.filter((s) => s.endpoint.family === endpoint.family);
    const owned = family.some((s) => sourceOnLink(s.endpoint, source));
    if (!owned && (family[0]?.endpoint ?? endpoint) === endpoint) this.ignore('off_subnet_source');
    return false;
  }

  private ignore(reason: TrustDropReason): void {
    if (reason === 'off_subnet_source') this.offSubnetSources += 1;
    this.emit('ignored', reason);
  }

  get openEndpoints(): MdnsEndpoint[] {
    return this.sockets.map((s) => s.endpoint);
  }

  /** Sends on one endpoint (multicast unless `to` is given); never throws. */
  send(endpoint: MdnsEndpoint, packet: Packet, to?: { address: string; port: number }): Promise<void> {
    const socket = this.sockets.find((s) => s.endpoint === endpoint);
    if (!socket) return Promise.resolve();
    let dest = to;
    if (dest && /^fe[89ab]/i.test(dest.address) && !dest.address.includes('%')) {
      dest = { ...dest, address: `${dest.address}%${endpoint.name}` };
    }
    return new Promise((resolve) => {
      try {
        const done = (err: Error | null) => {
          if (err) this.emit('warning', new Error(`mDNS send on ${endpoint.name}: ${err.message}`));
          resolve();
        };
        // multicast-dns has send() (its typings only list query/respond)
        const raw = socket.mdns as unknown as RawSender;
        if (dest) raw.send(packet, dest, done);
        else raw.send(packet, done);
      } catch (err) {
        this.emit('warning', new Error(`mDNS send on ${endpoint.name}: ${(err as Error).message}`));
        resolve();
      }
    });
  }

  /**
   * A query whose questions ask for unicast replies (the QU bit, RFC 6762 §5.4), multicast to the
   * group from port 5353 like any other; multicast-dns cannot set that bit, so it is written into
   * the encoded questions here and the datagram sent on the endpoint's socket. Never throws.
   */
  sendUnicastResponseQuery(endpoint: MdnsEndpoint, packet: Packet): Promise<void> {
    const open = this.sockets.find((s) => s.endpoint === endpoint);
    if (!open) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        const wire = dnsPacket.encode(packet);
        setQuestionsUnicastBit(wire);
        const group = endpoint.family === 'IPv6' ? MDNS_IPV6_GROUP : MDNS_IPV4_GROUP;
        open.socket.send(wire, MDNS_PORT, group, (err) => {
          if (err) this.emit('warning', new Error(`mDNS send on ${endpoint.name}: ${err.message}`));
          resolve();
        });
      } catch (err) {
        this.emit('warning', new Error(`mDNS send on ${endpoint.name}: ${(err as Error).message}`));
        resolve();
      }
    });
  }

  /** Sends on every open endpoint. */
  async sendAll(build: (endpoint: MdnsEndpoint) => Packet | undefined): Promise<void> {
    await Promise.all(
      this.sockets.map((s) => {
        const packet = build(s.endpoint);
        return packet ? this.send(s.endpoint, packet) : undefined;
      }),
    );
  }

  /**
   * RFC 6762 §6.7 "legacy unicast": a query sent from an ephemeral port is answered by unicast
   * straight away (no 20-120 ms delay, no one-second multicast rate limit, and no other process
   * on port 5353 can take the answer), so a one-shot browse hears every responder at once.
   */
  async sendLegacyQuery(packet: Packet): Promise<void> {
    let wire: Buffer;
    try {
      wire = dnsPacket.encode(packet);
    } catch (err) {
      return void this.emit('warning', err as Error);
    }
    await Promise.all(
      this.endpoints.map(
        (endpoint) =>
          new Promise<void>((resolve) => {
            const v6 = endpoint.family === 'IPv6';
            const socket = createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 });
            this.legacySockets.push(socket);
            socket.on('error', (err) => {
              this.emit('warning', new Error(`mDNS legacy query on ${endpoint.name}: ${err.message}`));
              resolve();
            });
            socket.on('message', (msg, rinfo) => {
              // a unicast reply, so it came in on this endpoint's interface: its source must be there
              if (!sourceOnLink(endpoint, rinfo.address)) return this.ignore('off_subnet_source');
              let decoded: Packet;
              try {
                decoded = dnsPacket.decode(msg);
              } catch (err) {
                this.dropped += 1;
                return void this.emit('warning', err as Error);
              }
              try {
                this.onPacket(decoded, rinfo, endpoint);
              } catch (err) {
                this.dropped += 1;
                this.emit(
                  'warning',
                  new Error(`mDNS packet from ${rinfo.address} dropped: ${(err as Error).message}`),
                );
              }
            });
            socket.bind(0, v6 ? '::' : '0.0.0.0', () => {
              try {
                socket.setMulticastInterface(endpoint.socketInterface);
                socket.setMulticastTTL(255);
                socket.send(wire, MDNS_PORT, v6 ? MDNS_IPV6_GROUP : MDNS_IPV4_GROUP, () => resolve());
              } catch (err) {
                this.emit(
                  'warning',
                  new Error(`mDNS legacy query on ${endpoint.name}: ${(err as Error).message}`),
                );
                resolve();
              }
            });
          }),
      ),
    );
  }

  async stop(): Promise<void> {
    for (const socket of this.legacySockets) {
      try {
        socket.close();
      } catch {
        // already closed
      }
    }
    this.legacySockets = [];
    const sockets = this.sockets;
    this.sockets = [];
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.mdns.destroy(() => resolve()))));
  }
}

/** Sets the top bit of each question's class in an encoded message (dns-packet writes names
 * uncompressed, so each question is its labels, a zero byte, then type and class). */
export function setQuestionsUnicastBit(wire: Buffer): void {
  let offset = 12;
  for (let q = 0; q < wire.readUInt16BE(4); q++) {
    while ((wire[offset] ?? 0) !== 0) offset += (wire[offset] ?? 0) + 1;
    offset += 1 + 2; // the root label, then the type
    wire.writeUInt16BE(wire.readUInt16BE(offset) | 0x8000, offset);
    offset += 2;
  }
}
