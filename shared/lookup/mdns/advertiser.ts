// The LAN advertiser (SPEC §2, RFC 6762 §6-§10): probes its unique names, renames on conflict,
// announces twice one second apart, answers queries (shared answers after 20-120 ms, unique ones
// at once, QU and legacy unicast honoured, known answers suppressed, at most one multicast of a
// record per second per interface), probes and announces again when its interfaces or addresses
// change (§8.4), and says goodbye (TTL 0) on stop.
import type { RemoteInfo } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { Answer, Packet, Question } from 'dns-packet';
import type { AdvertiseOptions } from '../types.js';
import { rdataKey, type CachedType } from './cache.js';
import {
  answerQuery,
  buildRecords,
  compareRecordSets,
  uniqueNames,
  wantsUnicast,
  type OwnRecord,
  type PublishedNames,
} from './advertiser-records.js';
import {
  DEFAULT_SERVICE_TYPES,
  ANY_TYPE,
  MDNS_PORT,
  fullServiceType,
  hostLabel,
  normalizeName,
  renamedHost,
  renamedInstance,
  ttlOf,
} from './names.js';
import { selectEndpoints } from './interfaces.js';
import { MdnsTransport, type MdnsEndpoint } from './sockets.js';

const PROBE_INTERVAL_MS = 250;
const PROBE_COUNT = 3;
const ANNOUNCE_COUNT = 2;
const MAX_RENAMES = 32;
const MAX_DELAYED_ANSWERS = 256;
/** How often the interfaces and their addresses are looked at for a change (§8.4). */
const TOPOLOGY_CHECK_MS = 5000;

/** The interfaces and addresses the advertiser would use now, as one comparable string. */
function topologyOf(interfaces: string[] | undefined): string {
  return selectEndpoints(interfaces)
    .map((e) => `${e.name}/${e.family}=${[...e.addresses].sort().join(',')}`)
    .sort()
    .join(' ');
}

type State = 'idle' | 'probing' | 'announced' | 'stopped';

function validate(opts: AdvertiseOptions): void {
  const id = opts.clusterId;
  if (typeof id !== 'string' || id.length === 0)
    throw new Error('mDNS advertiser: clusterId must be a non-empty string');
  if (id.includes('.') || Buffer.byteLength(id) > 50) {
    throw new Error(
      `mDNS advertiser: clusterId "${id}" must be one DNS label of at most 50 bytes without dots (e.g. a UUID)`,
    );
  }
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
    throw new Error(`mDNS advertiser: port ${String(opts.port)} must be an integer in 1-65535`);
  }
  if (opts.ttl !== undefined && (!Number.isInteger(opts.ttl) || opts.ttl < 1)) {
    throw new Error(`mDNS advertiser: ttl ${String(opts.ttl)} must be a positive whole number of seconds`);
  }
}

/**
 * Events: 'renamed' ({instance, host}), 'announced', 'topology' (the new interfaces and addresses,
 * before probing again), 'warning' (Error), 'ignored' (TrustDropReason: a packet from a source
 * off the receiving interface's subnet, neither answered nor taken as a conflict).
 */
export class MdnsAdvertiser extends EventEmitter {
  private transport: MdnsTransport;
  private topology = '';
  /** The sockets are being replaced, or could not be opened on the last try (§8.4). */
  private reopening = false;
  private transportDown = false;
  private readonly baseHost: string;
  private names: PublishedNames;
  private state: State = 'idle';
  private renames = 0;
  private generation = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly lastMulticast = new Map<string, number>();
  private probeOutcome: ((result: 'won' | 'conflict' | 'deferred') => void) | undefined;
  private announced = false;
  private readonly wakers = new Set<() => void>();
  private conflicted = { instance: false, host: false };
  private instanceAttempt = 1;
  private hostAttempt = 1;

  constructor(private readonly opts: AdvertiseOptions) {
    super();
    validate(opts);
    this.baseHost = hostLabel(opts.hostname ?? `liqo-${opts.clusterId}`);
    const txt: Record<string, string | undefined> = {
      txtvers: '1',
      id: opts.clusterId,
      name: opts.clusterName,
    };
    this.names = {
      serviceTypes: (opts.serviceTypes?.length ? opts.serviceTypes : DEFAULT_SERVICE_TYPES).map(
        fullServiceType,
      ),
      instance: opts.clusterId,
      host: this.baseHost,
      port: opts.port,
      txt,
      ...(opts.ttl !== undefined ? { ttl: opts.ttl } : {}),
    };
    this.transport = this.makeTransport();
  }

  private makeTransport(): MdnsTransport {
    const transport = new MdnsTransport(this.opts.interfaces, (p, r, e) => this.handlePacket(p, r, e));
    transport.on('warning', (err: Error) => this.emit('warning', err));
    transport.on('ignored', (reason: string) => this.emit('ignored', reason));
    return transport;
  }

  /** The instance label in use (the cluster id, or "<id> (n)" after a conflict). */
  get instance(): string {
    return this.names.instance;
  }

  /** The host name in use, without ".local". */
  get hostname(): string {
    return this.names.host;
  }

  /** Probes, renames as needed, announces once; resolves when the names are claimed. */
  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    this.state = 'probing';
    this.topology = topologyOf(this.opts.interfaces);
    await this.transport.start();
    this.watchTopology();
    await this.sleep(Math.random() * PROBE_INTERVAL_MS);
    await this.claimNames();
  }

  /**
   * RFC 6762 §8.4: when an interface or an address comes or goes, the records no longer say
   * where we are. The sockets (bound to the old addresses) are replaced and the names probed and
   * announced again; the announcements' cache-flush bit makes peers drop the old addresses.
   */
  private watchTopology(): void {
    this.later(TOPOLOGY_CHECK_MS, () => {
      if (this.isStopped()) return;
      const now = topologyOf(this.opts.interfaces);
      const changed = now !== this.topology && this.state === 'announced';
      if ((changed || this.transportDown) && !this.reopening) {
        void this.reopen(now).catch((err: Error) => this.emit('warning', err));
      }
      this.watchTopology();
    });
  }

  private async reopen(topology: string): Promise<void> {
    this.reopening = true;
    try {
      this.generation += 1; // pending re-announcements of the old records are dropped
      this.state = 'probing';
      this.announced = false;
      await this.transport.stop();
      if (this.isStopped()) return;
      this.transport = this.makeTransport();
      try {
        await this.transport.start();
        if (this.isStopped()) return void (await this.transport.stop()); // stop() came meanwhile
      } catch (err) {
        // No usable interface right now (e.g. between the old address going and the new one
        // coming): tried again at the next check.
        this.transportDown = true;
        this.emit('warning', err as Error);
        return;
      }
      this.transportDown = false;
      this.topology = topology;
      this.emit('topology', topology);
      await this.claimNames();
    } finally {
      this.reopening = false;
    }
  }

  private async claimNames(): Promise<void> {
    for (;;) {
      if (this.isStopped()) return;
      this.state = 'probing';
      const outcome = await this.probe();
      if (this.isStopped()) return;
      if (outcome === 'won') break;
      if (outcome === 'deferred') {
        await this.sleep(1000); // §8.2: lost a simultaneous probe; try the same names again
        continue;
      }
      this.renames += 1;
      if (this.renames > MAX_RENAMES) {
        throw new Error(`mDNS advertiser: gave up after ${MAX_RENAMES} name conflicts`);
      }
      if (this.renames >= 15) await this.sleep(5000); // §8.1 rate limit after many conflicts
      // only the names that conflicted change: "<id> (2)", "<host>-2", ...
      if (this.conflicted.instance || !this.conflicted.host) this.instanceAttempt += 1;
      if (this.conflicted.host) this.hostAttempt += 1;
      this.conflicted = { instance: false, host: false };
      this.names = {
        ...this.names,
        instance: renamedInstance(this.opts.clusterId, this.instanceAttempt),
        host: renamedHost(this.baseHost, this.hostAttempt),
      };
      this.emit('renamed', { instance: this.names.instance, host: this.names.host });
    }
    if (this.isStopped()) return;
    this.state = 'announced';
    const generation = ++this.generation;
    await this.announce();
    this.emit('announced');
    for (let i = 1; i < ANNOUNCE_COUNT; i++) {
      this.later(1000 * i, () => {
        if (this.generation === generation && this.state === 'announced') void this.announce();
      });
    }
  }

  private probe(): Promise<'won' | 'conflict' | 'deferred'> {
    return new Promise((resolve) => {
      let sent = 0;
      const done = (result: 'won' | 'conflict' | 'deferred') => {
        if (!this.probeOutcome) return;
        this.probeOutcome = undefined;
        clearTimeout(timer);
        resolve(result);
      };
      this.probeOutcome = done;
      const sendProbe = () => {
        if (this.isStopped()) return done('conflict');
        if (sent === PROBE_COUNT) return done('won');
        sent += 1;
        const probeFor = (endpoint: MdnsEndpoint): Packet => {
          const records = this.records(endpoint);
          const questions: Question[] = [...uniqueNames(records)].map((name) => ({
            name,
            type: ANY_TYPE,
            class: 'IN',
          }));
          return {
            type: 'query' as const,
            id: 0,
            flags: 0,
            questions,
            authorities: records.filter((r) => r.unique).map((r) => r.answer),
          };
        };
        // §8.1: the first probe asks for unicast replies (QU), so a defender answers at once
        // even if it multicast the record within the last second; the others are plain (QM).
        if (sent === 1) {
          for (const endpoint of this.transport.openEndpoints)
            void this.transport.sendUnicastResponseQuery(endpoint, probeFor(endpoint));
        } else {
          void this.transport.sendAll(probeFor);
        }
        timer = setTimeout(sendProbe, PROBE_INTERVAL_MS);
      };
      let timer = setTimeout(sendProbe, 0);
    });
  }

  private isStopped(): boolean {
    return this.state === 'stopped';
  }

  private records(endpoint: MdnsEndpoint): OwnRecord[] {
    return buildRecords(this.names, endpoint);
  }

  /** Every unique record this advertiser publishes on any interface (its own echoes match). */
  private ownUniqueKeys(): Set<string> {
    const keys = new Set<string>();
    for (const e of this.transport.openEndpoints)
      for (const r of this.records(e)) if (r.unique) keys.add(r.key);
    return keys;
  }

  private async announce(): Promise<void> {
    const now = Date.now();
    await this.transport.sendAll((endpoint) => {
      const records = this.records(endpoint);
      for (const r of records) this.lastMulticast.set(`${endpoint.name}/${endpoint.family}|${r.key}`, now);
      return { type: 'response', id: 0, flags: 1 << 10, answers: records.map((r) => r.answer) };
    });
    this.announced = true;
  }

  private handlePacket(packet: Packet, rinfo: RemoteInfo, endpoint: MdnsEndpoint): void {
    if (this.state === 'idle' || this.state === 'stopped') return;
    if (packet.type === 'response')
      return this.checkConflicts([...(packet.answers ?? []), ...(packet.additionals ?? [])]);
    if (packet.type !== 'query') return;
    if ((packet.authorities ?? []).length > 0 && this.state === 'probing') this.tieBreak(packet, endpoint);
    if (this.state !== 'announced') return;
    this.respond(packet, rinfo, endpoint);
  }

  /** A response holding one of our unique names with other data is a conflict (§8.1, §9). */
  private checkConflicts(records: Answer[]): void {
    const names = new Set<string>();
    for (const e of this.transport.openEndpoints) for (const n of uniqueNames(this.records(e))) names.add(n);
    const ours = this.ownUniqueKeys();
    const host = `${this.names.host}.local`;
    let conflict: Answer | undefined;
    for (const r of records) {
      if (!r || typeof r.name !== 'string' || ttlOf(r) === 0) continue;
      const name = normalizeName(r.name);
      if (!names.has(name) || !['SRV', 'TXT', 'A', 'AAAA'].includes(r.type)) continue;
      const key = `${name}|${r.type}|${rdataKey(r.type as CachedType, (r as { data?: unknown }).data) ?? ''}`;
      if (ours.has(key)) continue;
      conflict = r;
      if (name === host) this.conflicted.host = true;
      else this.conflicted.instance = true;
    }
    if (!conflict) return;
    if (this.state === 'probing') {
      this.probeOutcome?.('conflict');
    } else if (this.state === 'announced') {
      this.emit('warning', new Error(`mDNS conflict on ${conflict.name} ${conflict.type}; probing again`));
      this.generation += 1;
      this.state = 'probing';
      void this.claimNames().catch((err: Error) => this.emit('warning', err));
    }
  }

  /** §8.2: two hosts probing the same name; the lexicographically later authority data wins. */
  private tieBreak(query: Packet, endpoint: MdnsEndpoint): void {
    const records = this.records(endpoint);
    const names = uniqueNames(records);
    const theirs = (query.authorities ?? []).filter(
      (a) => a && typeof a.name === 'string' && names.has(normalizeName(a.name)),
    );
    if (theirs.length === 0) return;
    const ours = this.ownUniqueKeys();
    const theirKeys = theirs.map(
      (a) =>
        `${normalizeName(a.name)}|${a.type}|${rdataKey(a.type as CachedType, (a as { data?: unknown }).data) ?? ''}`,
    );
    if (theirKeys.every((key) => ours.has(key))) return; // our own probe, looped back
    // §8.2: compared per name, with the records we would put in our probe on this interface
    for (const name of new Set(theirs.map((a) => normalizeName(a.name)))) {
      const mine = records
        .filter((r) => r.unique && normalizeName(r.answer.name) === name)
        .map((r) => r.answer);
      const other = theirs.filter((a) => normalizeName(a.name) === name);
      if (compareRecordSets(mine, other) < 0) return this.probeOutcome?.('deferred');
    }
  }

  private respond(query: Packet, rinfo: RemoteInfo, endpoint: MdnsEndpoint): void {
    const result = answerQuery(query, this.records(endpoint));
    if (!result) return;
    const legacy = rinfo.port !== MDNS_PORT;
    const quAsked = (query.questions ?? []).some((q) => q && wantsUnicast(q));
    const isProbe = (query.authorities ?? []).length > 0;
    const send = () => {
      if (this.state !== 'announced') return;
      const now = Date.now();
      const limit = isProbe ? 250 : 1000;
      const scope = `${endpoint.name}/${endpoint.family}|`;
      const sinceMulticast = (r: OwnRecord) => now - (this.lastMulticast.get(scope + r.key) ?? 0);
      // §5.4: a QU question is answered by unicast, unless one of the answers has not been
      // multicast here within a quarter of its TTL: then every cache on the link is due a
      // refresh, and the answer is multicast instead.
      const dueForRefresh =
        !isProbe && result.answers.some((r) => sinceMulticast(r) >= (ttlOf(r.answer) * 1000) / 4);
      const unicast = legacy || (quAsked && !dueForRefresh);
      const fresh = (r: OwnRecord) => unicast || sinceMulticast(r) >= limit;
      const answers = result.answers.filter(fresh);
      if (answers.length === 0) return;
      const additionals = result.additionals.filter(fresh);
      if (!unicast) for (const r of [...answers, ...additionals]) this.lastMulticast.set(scope + r.key, now);
      const toWire = (r: OwnRecord): Answer =>
        legacy ? ({ ...r.answer, flush: false, ttl: Math.min(ttlOf(r.answer), 10) } as Answer) : r.answer;
      const packet: Packet = {
        type: 'response',
        id: legacy ? (query.id ?? 0) : 0,
        flags: 1 << 10,
        ...(legacy ? { questions: query.questions ?? [] } : {}),
        answers: answers.map(toWire),
        additionals: additionals.map(toWire),
      };
      void this.transport.send(
        endpoint,
        packet,
        unicast ? { address: rinfo.address, port: rinfo.port } : undefined,
      );
    };
    if (!result.shared || legacy) return send();
    if (this.timers.size >= MAX_DELAYED_ANSWERS) return; // a query flood: the answers already queued will do
    // §6: shared answers wait 20-120 ms (400-500 ms when more known answers follow, TC bit)
    const truncated = ((query.flags ?? 0) & (1 << 9)) !== 0;
    this.later(truncated ? 400 + Math.random() * 100 : 20 + Math.random() * 100, send);
  }

  /** Sends goodbyes (TTL 0) for everything announced, then closes the sockets. */
  async stop(): Promise<void> {
    if (this.isStopped()) return;
    const wasAnnounced = this.announced;
    this.state = 'stopped';
    this.probeOutcome?.('conflict');
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const wake of [...this.wakers]) wake();
    if (wasAnnounced) {
      await this.transport.sendAll((endpoint) => ({
        type: 'response',
        id: 0,
        flags: 1 << 10,
        answers: this.records(endpoint).map((r) => ({ ...r.answer, ttl: 0 }) as Answer),
      }));
    }
    await this.transport.stop();
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  /** A pause that stop() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.wakers.delete(wake);
        resolve();
      };
      this.wakers.add(wake);
      this.later(ms, wake);
    });
  }
}
