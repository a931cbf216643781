// A small DNS stub client for the SearchDomain resolver (dns.ts), speaking the wire format itself
// (dns-packet) instead of going through node:dns, because the resolver needs what node:dns hides:
// the TTLs of PTR/SRV/TXT, the additional section (RFC 6763 §12.2: a server sends the SRV
// target's A/AAAA there, which saves two queries per cluster), and many queries in flight on one
// socket rather than one c-ares request each.
//
// Per server: one connected UDP socket (replies from anyone else never reach it) and, for answers
// too large for UDP (TC bit), one pipelined TCP connection opened on demand. Every query has a
// random 16-bit id and its question is checked in the reply, so a stray or spoofed packet cannot
// answer it. Tries × servers like c-ares: a timeout, refusal, SERVFAIL or malformed reply moves
// on to the next server; NOERROR and NXDOMAIN are answers.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { Socket as TcpSocket } from 'node:net';
import { getRandomValues } from 'node:crypto';
import type { DnsServerAddress } from './dns-records.js';
import dnsPacket, { type Answer, type DecodedPacket, type OptAnswer, type RecordType } from 'dns-packet';

/** A resource record of a reply (the EDNS OPT pseudo-record is removed). */
export type DnsRecord = Exclude<Answer, OptAnswer>;

export interface DnsClientSettings {
  /** Per try of one query on one server. */
  queryTimeoutMs: number;
  /** Rounds over the server list. */
  tries: number;
}

/** The codes node:dns uses, so callers explain failures the same way whichever client asked. */
export type DnsErrorCode =
  | 'ETIMEOUT'
  | 'ECONNREFUSED'
  | 'ECONNRESET'
  /** No route to the server (ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL on connect). */
  | 'ENETUNREACH'
  | 'ESERVFAIL'
  | 'EREFUSED'
  | 'EFORMERR'
  | 'ENOTIMP'
  | 'EBADRESP'
  | 'ECANCELLED'
  /** The UDP answer had the TC bit: ask again over TCP (never leaves this module). */
  | 'ETRUNCATED';

export class DnsQueryError extends Error {
  constructor(
    readonly code: DnsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface DnsResponse {
  /** 0 NOERROR or 3 NXDOMAIN: the others are thrown as DnsQueryError. */
  rcode: number;
  answers: DnsRecord[];
  additionals: DnsRecord[];
}

const RCODE_NXDOMAIN = 3;
const RCODE_ERRORS: Record<number, DnsErrorCode> = {
  1: 'EFORMERR',
  2: 'ESERVFAIL',
  4: 'ENOTIMP',
  5: 'EREFUSED',
};
/** RFC 6891 §6.2.5 and the 2020 DNS flag day: large enough for most answers, small enough not to fragment. */
const EDNS_UDP_PAYLOAD = 1232;
const MAX_TCP_MESSAGE = 65535;

interface Pending {
  name: string;
  type: RecordType;
  /** Date.now() after which the query has timed out. */
  deadline: number;
  resolve(response: DnsResponse): void;
  reject(error: DnsQueryError): void;
}

/** Random query ids, drawn in batches from the system's CSPRNG. */
class IdSource {
  private readonly pool = new Uint16Array(1024);
  private next = this.pool.length;
  take(inUse: Map<number, unknown>): number {
    for (;;) {
      if (this.next === this.pool.length) {
        getRandomValues(this.pool);
        this.next = 0;
      }
      const id = this.pool[this.next++] as number;
      if (!inUse.has(id)) return id;
    }
  }
}

function encodeQuery(id: number, name: string, type: RecordType, edns: boolean): Buffer {
  return dnsPacket.encode({
    id,
    type: 'query',
    // RD: the system's resolvers are recursive; an authoritative server ignores the bit.
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals: edns
      ? [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: EDNS_UDP_PAYLOAD,
            extendedRcode: 0,
            ednsVersion: 0,
            flags: 0,
            flag_do: false,
            options: [],
          },
        ]
      : [],
  });
}

/** Matches a reply to its pending query and checks it; returns an error, or the response. */
function readReply(message: Buffer, pending: Map<number, Pending>): void {
  if (message.length < 12) return;
  const id = message.readUInt16BE(0);
  const query = pending.get(id);
  if (!query || (message.readUInt8(2) & 0x80) === 0) return; // not ours, or not a response
  let decoded: DecodedPacket;
  try {
    decoded = dnsPacket.decode(message);
  } catch (error) {
    pending.delete(id);
    query.reject(new DnsQueryError('EBADRESP', `malformed answer (${(error as Error).message})`));
    return;
  }
  const question = decoded.questions?.[0];
  // A reply to another question with our id is a spoofing attempt or a confused server: ignore it.
  if (!question || question.type !== query.type || !sameName(question.name, query.name)) return;
  pending.delete(id);
  if (decoded.flag_tc) {
    query.reject(new DnsQueryError('ETRUNCATED', 'truncated'));
    return;
  }
  const rcode = message.readUInt8(3) & 0x0f;
  const failure = RCODE_ERRORS[rcode];
  if (failure) query.reject(new DnsQueryError(failure, failure));
  else if (rcode !== 0 && rcode !== RCODE_NXDOMAIN)
    query.reject(new DnsQueryError('EBADRESP', `unexpected response code ${rcode}`));
  else query.resolve({ rcode, answers: records(decoded.answers), additionals: records(decoded.additionals) });
}

function records(section: Answer[] | undefined): DnsRecord[] {
  return (section ?? []).filter((record): record is DnsRecord => record.type !== 'OPT');
}

export function sameName(a: string, b: string): boolean {
  return a.length === b.length ? a.toLowerCase() === b.toLowerCase() : false;
}

/**
 * One server's UDP socket and TCP connection, with the queries waiting on each. Every query on
 * a connection has the same timeout, so each pending map (in insertion order) is also in deadline
 * order, and one timer for the earliest deadline replaces a timer per query.
 */
class ServerConnection {
  private udp: UdpSocket | undefined;
  private udpReady: Promise<DnsQueryError | undefined> | undefined;
  /** Set once the UDP socket is connected, or why it cannot be. */
  private udpState: 'connected' | DnsQueryError | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private tcp: TcpSocket | undefined;
  private tcpBuffer: Buffer = Buffer.alloc(0);
  private readonly udpPending = new Map<number, Pending>();
  private readonly tcpPending = new Map<number, Pending>();
  private closed = false;
  private refusedUntil = 0;

  constructor(
    readonly address: DnsServerAddress,
    private readonly ids: IdSource,
    /** Per try of one query; also how long a refusal is remembered. */
    private readonly timeoutMs: number,
  ) {}

  async ask(name: string, type: RecordType, transport: 'udp' | 'tcp', edns: boolean): Promise<DnsResponse> {
    if (this.closed) throw new DnsQueryError('ECANCELLED', 'cancelled');
    const pending = transport === 'udp' ? this.udpPending : this.tcpPending;
    const id = this.ids.take(pending);
    const response = new Promise<DnsResponse>((resolve, reject) => {
      pending.set(id, { name, type, deadline: Date.now() + this.timeoutMs, resolve, reject });
    });
    this.sweepTimer ??= setTimeout(() => this.sweep(), this.timeoutMs);
    const query = encodeQuery(id, name, type, edns);
    const fail = (error: DnsQueryError): Promise<DnsResponse> => {
      pending.get(id)?.reject(error);
      pending.delete(id);
      return response;
    };
    try {
      if (transport === 'udp') {
        if (Date.now() < this.refusedUntil) return fail(new DnsQueryError('ECONNREFUSED', 'refused'));
        if (this.udpState !== 'connected') {
          const unusable = this.udpState ?? (await this.openUdp());
          if (unusable) return fail(unusable);
          // Closed while the socket was being set up: `response` is already rejected (ECANCELLED).
          if (this.closed) return response;
        }
        // The callback is where a connected socket hears of an earlier ICMP refusal.
        this.udp?.send(query, (error) => {
          if (error) this.udpFailed(error);
        });
      } else {
        const frame = Buffer.allocUnsafe(query.length + 2);
        frame.writeUInt16BE(query.length, 0);
        query.copy(frame, 2);
        this.openTcp().write(frame);
      }
    } catch (error) {
      // Whatever the socket layer throws, this query fails with it, and `response` is the one
      // promise its caller waits on (never left rejected and unobserved).
      return fail(new DnsQueryError('ECONNRESET', (error as Error).message));
    }
    return response;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.sweepTimer);
    this.failAll(this.udpPending, new DnsQueryError('ECANCELLED', 'cancelled'));
    this.failAll(this.tcpPending, new DnsQueryError('ECANCELLED', 'cancelled'));
    this.udp?.close();
    this.tcp?.destroy();
  }

  /** Resolves once the socket is connected, or to why it cannot be (no route to the server). */
  private openUdp(): Promise<DnsQueryError | undefined> {
    if (this.udpReady) return this.udpReady;
    const socket = createSocket({
      type: this.address.host.includes(':') ? 'udp6' : 'udp4',
      recvBufferSize: 1 << 20,
    });
    this.udp = socket;
    socket.on('message', (message) => readReply(message, this.udpPending));
    socket.on('error', (error) => this.udpFailed(error));
    this.udpReady = new Promise<DnsQueryError | undefined>((resolve) => {
      socket.connect(this.address.port, this.address.host, (error?: NodeJS.ErrnoException) => {
        const unusable = error ? new DnsQueryError('ENETUNREACH', error.code ?? error.message) : undefined;
        this.udpState = unusable ?? 'connected';
        resolve(unusable);
      });
    });
    return this.udpReady;
  }

  /** Times out the queries whose deadline has passed, then waits for the next deadline. */
  private sweep(): void {
    this.sweepTimer = undefined;
    const now = Date.now();
    let next = Infinity;
    for (const pending of [this.udpPending, this.tcpPending]) {
      for (const [id, query] of pending) {
        if (query.deadline > now) {
          next = Math.min(next, query.deadline);
          break;
        }
        pending.delete(id);
        query.reject(new DnsQueryError('ETIMEOUT', 'timeout'));
      }
    }
    if (next !== Infinity && !this.closed) this.sweepTimer = setTimeout(() => this.sweep(), next - now);
  }

  /**
   * On a connected socket the kernel reports an ICMP "port unreachable" as ECONNREFUSED on the
   * next send or receive, with no hint of which query caused it. So everything waiting on this
   * server fails the same way, and for one query timeout new queries fail at once rather than
   * each waiting out its timer (the next send would be the one to hear of its own refusal).
   */
  private udpFailed(error: NodeJS.ErrnoException): void {
    const refused = error.code === 'ECONNREFUSED';
    if (refused) this.refusedUntil = Date.now() + this.timeoutMs;
    this.failAll(this.udpPending, new DnsQueryError(refused ? 'ECONNREFUSED' : 'ECONNRESET', error.message));
  }

  private openTcp(): TcpSocket {
    if (this.tcp && !this.tcp.destroyed) return this.tcp;
    const socket = new TcpSocket();
    this.tcp = socket;
    this.tcpBuffer = Buffer.alloc(0);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.tcpBuffer = this.tcpBuffer.length === 0 ? chunk : Buffer.concat([this.tcpBuffer, chunk]);
      while (this.tcpBuffer.length >= 2) {
        const length = this.tcpBuffer.readUInt16BE(0);
        if (this.tcpBuffer.length < length + 2) break;
        readReply(this.tcpBuffer.subarray(2, length + 2), this.tcpPending);
        this.tcpBuffer = this.tcpBuffer.subarray(length + 2);
      }
      // A frame can never exceed 64 KiB; more buffered than that is not DNS.
      if (this.tcpBuffer.length > MAX_TCP_MESSAGE + 2) socket.destroy(new Error('oversized TCP frame'));
    });
    const fail = (error?: NodeJS.ErrnoException): void => {
      const code = error?.code === 'ECONNREFUSED' ? 'ECONNREFUSED' : 'ECONNRESET';
      this.failAll(this.tcpPending, new DnsQueryError(code, error?.message ?? 'connection closed'));
    };
    socket.on('error', fail);
    socket.on('close', () => fail());
    socket.connect(this.address.port, this.address.host);
    return socket;
  }

  private failAll(pending: Map<number, Pending>, error: DnsQueryError): void {
    const waiting = [...pending.values()];
    pending.clear();
    for (const query of waiting) query.reject(error);
  }
}

export class DnsClient {
  private readonly connections: ServerConnection[];

  constructor(
    servers: readonly DnsServerAddress[],
    private readonly settings: DnsClientSettings,
  ) {
    const ids = new IdSource();
    this.connections = servers.map((server) => new ServerConnection(server, ids, settings.queryTimeoutMs));
  }

  get servers(): readonly DnsServerAddress[] {
    return this.connections.map((connection) => connection.address);
  }

  /** One question; resolves on NOERROR or NXDOMAIN, throws DnsQueryError after every server and try failed. */
  async exchange(name: string, type: RecordType): Promise<DnsResponse> {
    let last: DnsQueryError | undefined;
    for (let attempt = 0; attempt < this.settings.tries; attempt++) {
      for (const connection of this.connections) {
        try {
          return await this.askServer(connection, name, type);
        } catch (error) {
          if (!(error instanceof DnsQueryError)) throw error;
          if (error.code === 'ECANCELLED') throw error;
          last = error;
        }
      }
    }
    throw last ?? new DnsQueryError('ETIMEOUT', 'no tries');
  }

  private async askServer(
    connection: ServerConnection,
    name: string,
    type: RecordType,
  ): Promise<DnsResponse> {
    let edns = true;
    for (;;) {
      try {
        try {
          return await connection.ask(name, type, 'udp', edns);
        } catch (error) {
          if (!(error instanceof DnsQueryError) || error.code !== 'ETRUNCATED') throw error;
          return await connection.ask(name, type, 'tcp', edns);
        }
      } catch (error) {
        // RFC 6891 §7: a server that does not know EDNS answers FORMERR; ask it the old way once.
        if (!(error instanceof DnsQueryError) || error.code !== 'EFORMERR' || !edns) throw error;
        edns = false;
      }
    }
  }

  /** Fails every query in flight with ECANCELLED and closes the sockets. */
  close(): void {
    for (const connection of this.connections) connection.close();
  }
}
