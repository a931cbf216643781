// The LAN browser: PTR queries for the Liqo service types, answers and unsolicited
// announcements collected into a record cache, missing SRV/TXT/A/AAAA queried, peers reported.
// Continuous mode follows RFC 6762 §5.2 (re-queries 1 s, 2 s, 4 s ... up to 60 min; refresh at
// 80-95 % of a TTL) and §10 (expiry, goodbye, cache flush); one-shot mode settles like
// `avahi-browse -t`. The LAN is a trust boundary (RFC 6762 §11, SPEC §"Security"): packets from
// off-subnet sources never get here (sockets.ts), and an advertised address is kept only when it
// is on the receiving interface's subnet and the connect-time address policy allows it.
import type { RemoteInfo } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { Answer, Packet, Question } from 'dns-packet';
import type { BrowseOptions, MdnsPeer } from '../types.js';
import { RecordCache, isSrvData, type CachedRecord } from './cache.js';
import {
  DEFAULT_SERVICE_TYPES,
  authUrlsFor,
  fullServiceType,
  instanceOf,
  normalizeName,
  packQuestions,
  parseTxt,
} from './names.js';
import { MdnsTransport, type MdnsEndpoint } from './sockets.js';
import { advertisedAddressVerdict, type TrustDropReason } from './trust.js';

const MAX_QUERY_INTERVAL_MS = 60 * 60 * 1000;
const TICK_MS = 250;
/** Unresolved instances/targets queried at once; the rest wait for the next round. */
const MAX_PENDING_RESOLUTIONS = 256;
const RESOLVE_RETRY_MS = 1000;
/** When a one-shot browse sends its regular multicast query, after the legacy one (plus 0-100 ms). */
const ONE_SHOT_MULTICAST_QUERY_MS = 250;
const MAX_QUERY_BYTES = 1400;

type BrowserMode = 'continuous' | 'once';

/**
 * Events: 'added', 'updated', 'removed' (MdnsPeer) as peers come, change and go; 'peer' (MdnsPeer)
 * whenever a response confirms a resolved peer; 'warning' (Error) for dropped packets; 'ignored'
 * (TrustDropReason) for each packet or advertised address refused at the LAN trust boundary.
 */
export class MdnsBrowser extends EventEmitter {
  private readonly serviceTypes: string[];
  private readonly cache: RecordCache;
  private readonly transport: MdnsTransport;
  private readonly resolved = new Map<string, { peer: MdnsPeer; signature: string }>();
  /** Names last asked about (an instance for SRV/TXT or, resolved, TXT alone; a target for
   * A/AAAA): when, and the wait before asking again. */
  private readonly resolveAttempts = new Map<string, { at: number; wait: number }>();
  private timer: NodeJS.Timeout | undefined;
  private nextQueryAt = 0;
  private queryInterval = 1000;
  private started = false;
  /** Last time the cache learnt something new (one-shot settling). */
  lastNewInfoAt = 0;

  constructor(
    private readonly opts: BrowseOptions = {},
    private readonly mode: BrowserMode = 'continuous',
  ) {
    super();
    this.serviceTypes = (opts.serviceTypes?.length ? opts.serviceTypes : DEFAULT_SERVICE_TYPES).map(
      fullServiceType,
    );
    this.cache = new RecordCache(new Set(this.serviceTypes.map(normalizeName)));
    this.transport = new MdnsTransport(opts.interfaces, (packet, rinfo, endpoint) =>
      this.handlePacket(packet, rinfo, endpoint),
    );
    this.transport.on('warning', (err: Error) => this.emit('warning', err));
    this.transport.on('ignored', (reason: TrustDropReason) => this.ignore(reason));
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.mode === 'once') {
      // answered by unicast at once (sent while the port-5353 sockets are still opening); the
      // regular multicast query follows ONE_SHOT_MULTICAST_QUERY_MS later
      const questions = this.browseQuestions();
      void this.transport.sendLegacyQuery({ type: 'query', id: 0, flags: 0, questions });
    }
    try {
      await this.transport.start();
    } catch (err) {
      this.started = false;
      await this.transport.stop();
      throw err;
    }
    const now = Date.now();
    this.lastNewInfoAt = now;
    // §5.2: a continuous querier waits 20-120 ms so hosts starting together do not collide. A
    // one-shot browse sends its multicast query after the legacy query has had its unicast
    // replies: it is the second chance for a lost query or reply, or for a responder that
    // ignores legacy queries, and its answers (delayed 20-120 ms) still land inside the ~1 s
    // settle window. Responders do answer it again by multicast: the legacy replies' 10 s TTLs
    // are under half the true ones, too short to suppress them (§7.1), as with any new browser.
    this.nextQueryAt = now + (this.mode === 'once' ? ONE_SHOT_MULTICAST_QUERY_MS : 20) + Math.random() * 100;
    this.timer = setInterval(() => this.tick(), this.mode === 'once' ? 50 : TICK_MS);
    this.timer.unref?.();
    // what arrived while the sockets were opening (the legacy query's replies) is asked about now
    this.resolveMissing(now);
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.timer) clearInterval(this.timer);
    await this.transport.stop();
  }

  peers(): MdnsPeer[] {
    return [...this.resolved.values()].map((r) => r.peer);
  }

  /** Instances known from a PTR but not resolved yet (one-shot settling waits for them). */
  pendingCount(): number {
    return this.cache.instances().filter((i) => !this.resolved.has(i)).length;
  }

  get droppedPackets(): number {
    return this.transport.dropped;
  }

  /** What was refused at the LAN trust boundary so far, by reason. */
  readonly ignored: Record<TrustDropReason, number> = {
    off_subnet_source: 0,
    off_link_address: 0,
    forbidden_address: 0,
  };

  private ignore(reason: TrustDropReason): void {
    this.ignored[reason] += 1;
    this.emit('ignored', reason);
  }

  private handlePacket(packet: Packet, _rinfo: RemoteInfo, endpoint: MdnsEndpoint): void {
    if (this.started) this.ingest(packet, endpoint);
  }

  /**
   * Takes in one decoded packet as if it had arrived (the socket path; fuzz tests feed it). With
   * the endpoint it came in on, the addresses of browsed targets are held to that link.
   */
  ingest(packet: Packet, endpoint?: MdnsEndpoint): void {
    if (packet.type !== 'response') return;
    const records = [...(packet.answers ?? []), ...(packet.additionals ?? [])].filter(
      (r): r is Answer => !!r && typeof r === 'object' && typeof r.name === 'string',
    );
    // PTR first, then what hangs off them, so additionals in the same packet are relevant
    const order = { PTR: 0, SRV: 1, TXT: 1, A: 2, AAAA: 2 } as Record<string, number>;
    records.sort((a, b) => (order[a.type] ?? 3) - (order[b.type] ?? 3));
    const now = Date.now();
    const touched = new Set<string>();
    let changed = false;
    for (const record of records) {
      if (endpoint && !this.addressAllowed(record, endpoint)) continue;
      const result = this.cache.add(record, now);
      if (!result) continue;
      touched.add(result.name);
      if (result.changed) changed = true;
    }
    if (touched.size === 0) return;
    if (changed) this.lastNewInfoAt = now;
    this.refreshPeers(touched, true);
    this.resolveMissing(now);
  }

  /**
   * An A/AAAA of a browsed target is kept only if on the receiving link and allowed by the
   * address policy; anything else passes (the cache decides what it keeps).
   */
  private addressAllowed(record: Answer, endpoint: MdnsEndpoint): boolean {
    if (record.type !== 'A' && record.type !== 'AAAA') return true;
    if (typeof record.data !== 'string' || !this.cache.isTarget(normalizeName(record.name))) return true;
    const reason = advertisedAddressVerdict(endpoint, record.data);
    if (reason && reason !== 'ignored_link_local') this.ignore(reason);
    return reason === undefined;
  }

  /** Recomputes the peers hanging off the touched names and emits what changed. */
  private refreshPeers(touched: Set<string>, confirmed: boolean): void {
    const instances = new Set<string>();
    const all = new Set(this.cache.instances());
    for (const name of touched) {
      if (all.has(name)) instances.add(name);
      if (this.resolved.has(name)) instances.add(name);
    }
    const hostsTouched = new Set([...touched].filter((n) => !instances.has(n)));
    if (hostsTouched.size > 0) {
      for (const instance of [...all, ...this.resolved.keys()]) {
        const target = this.resolved.get(instance)?.peer.host ?? this.srvOf(instance)?.target;
        if (target && hostsTouched.has(normalizeName(target))) instances.add(instance);
      }
    }
    // a PTR set changed (e.g. one expired): re-check resolved peers no longer listed
    const typeTouched = this.serviceTypes.some((t) => touched.has(normalizeName(t)));
    if (typeTouched) for (const key of this.resolved.keys()) if (!all.has(key)) instances.add(key);
    for (const instance of instances) this.updatePeer(instance, confirmed);
  }

  private srvOf(instance: string): { port: number; target: string } | undefined {
    const srvs = this.cache
      .get(instance, 'SRV')
      .map((r) => r.data)
      .filter(isSrvData);
    srvs.sort((a, b) => a.priority - b.priority || b.weight - a.weight);
    return srvs[0];
  }

  private buildPeer(instance: string): MdnsPeer | undefined {
    let ptr: CachedRecord | undefined;
    let serviceType = '';
    for (const type of this.serviceTypes) {
      ptr = this.cache
        .get(normalizeName(type), 'PTR')
        .find((r) => normalizeName(r.data as string) === instance);
      if (ptr) {
        serviceType = type;
        break;
      }
    }
    const srv = this.srvOf(instance);
    if (!ptr || !srv) return undefined;
    const host = normalizeName(srv.target);
    const addresses = [...this.cache.get(host, 'A'), ...this.cache.get(host, 'AAAA')].map(
      (r) => r.data as string,
    );
    const authUrls = authUrlsFor(addresses, srv.port);
    const first = authUrls[0];
    if (!first) return undefined;
    const fqdn = (ptr.data as string).replace(/\.$/, '');
    const label = instanceOf(fqdn, serviceType) ?? fqdn;
    const txtRecord = this.cache.get(instance, 'TXT')[0];
    const txt = txtRecord ? parseTxt(txtRecord.data) : {};
    const peer: MdnsPeer = {
      instance: label,
      serviceType,
      host: srv.target.replace(/\.$/, ''),
      port: srv.port,
      addresses,
      authUrl: first,
      authUrls,
      txt,
      clusterId: txt.id || label,
      ttl: ptr.ttl,
    };
    if (txt.name) peer.clusterName = txt.name;
    return peer;
  }

  private updatePeer(instance: string, confirmed: boolean): void {
    const peer = this.buildPeer(instance);
    const known = this.resolved.get(instance);
    if (peer && this.opts.skipClusterId && peer.clusterId === this.opts.skipClusterId) return;
    if (!peer) {
      if (known) {
        this.resolved.delete(instance);
        this.emit('removed', known.peer);
      }
      return;
    }
    const { ttl: _ttl, ...stable } = peer;
    const signature = JSON.stringify({ ...stable, addresses: [...peer.addresses].sort() });
    this.resolved.set(instance, { peer, signature });
    // still without a TXT, the instance keeps its attempts: TXT is asked again on their waits
    if (this.cache.get(instance, 'TXT').length > 0) this.resolveAttempts.delete(instance);
    this.resolveAttempts.delete(normalizeName(peer.host));
    if (!known) this.emit('added', peer);
    else if (known.signature !== signature) this.emit('updated', peer);
    if (confirmed) this.emit('peer', peer);
  }

  private tick(): void {
    if (!this.started) return;
    const now = Date.now();
    const expired = this.cache.expire(now);
    if (expired.size > 0) this.refreshPeers(expired, false);
    if (now >= this.nextQueryAt) {
      this.sendBrowseQuery();
      this.nextQueryAt = now + this.queryInterval;
      this.queryInterval = Math.min(this.queryInterval * 2, MAX_QUERY_INTERVAL_MS);
    }
    this.sendRefreshQueries(now);
    this.resolveMissing(now);
    this.emit('tick');
  }

  private browseQuestions(): Question[] {
    return this.serviceTypes.map((name) => ({ name, type: 'PTR', class: 'IN' }));
  }

  /** PTR questions with §7.1 known answers (records with more than half their TTL left). */
  private sendBrowseQuery(): void {
    const now = Date.now();
    const questions = this.browseQuestions();
    const known: Answer[] = [];
    let bytes = 12 + this.serviceTypes.reduce((n, t) => n + t.length + 6, 0);
    for (const type of this.serviceTypes) {
      for (const r of this.cache.get(normalizeName(type), 'PTR')) {
        if (r.ttl === 0 || r.expiresAt - now < (r.ttl * 1000) / 2) continue;
        const size = type.length + (r.data as string).length + 14;
        if (bytes + size > MAX_QUERY_BYTES) break;
        bytes += size;
        known.push({
          name: type,
          type: 'PTR',
          class: 'IN',
          ttl: Math.round((r.expiresAt - now) / 1000),
          data: r.data as string,
        });
      }
    }
    void this.transport.sendAll(() => ({ type: 'query', id: 0, flags: 0, questions, answers: known }));
  }

  private sendRefreshQueries(now: number): void {
    const due = this.cache.dueForRefresh(now);
    if (due.length === 0) return;
    const questions: Question[] = [];
    const seen = new Set<string>();
    for (const r of due) {
      r.refreshes += 1;
      const key = `${r.name}|${r.type}`;
      if (seen.has(key) || questions.length >= 32) continue;
      seen.add(key);
      questions.push({ name: r.name, type: r.type, class: 'IN' });
    }
    void this.transport.sendAll(() => ({ type: 'query', id: 0, flags: 0, questions }));
  }

  /**
   * Queries SRV/TXT of instances without an SRV and A/AAAA of targets without an address. A name
   * not asked about yet (say, the target an SRV just named) is asked at once, and once for all
   * the instances that share it; the same name again only after a wait that doubles each time
   * (RFC 6762 §5.2: 1 s, 2 s, 4 s ...), never in a steady loop. A peer resolved without a TXT
   * (a lost reply, or a responder like Liqo v0.2's that publishes none) has it asked on the same
   * waits.
   */
  private resolveMissing(now: number): void {
    // no port-5353 socket yet: a question now would go nowhere but count as asked for a second
    if (this.transport.openEndpoints.length === 0) return;
    const questions: Question[] = [];
    for (const instance of this.cache.instances()) {
      if (questions.length >= MAX_PENDING_RESOLUTIONS) break;
      const resolved = this.resolved.has(instance);
      if (resolved && this.cache.get(instance, 'TXT').length > 0) continue;
      const srv = resolved ? undefined : this.srvOf(instance);
      const name = srv ? normalizeName(srv.target) : instance;
      const last = this.resolveAttempts.get(name);
      if (last && now - last.at < last.wait) continue;
      const wait = last ? Math.min(last.wait * 2, MAX_QUERY_INTERVAL_MS) : RESOLVE_RETRY_MS;
      this.resolveAttempts.set(name, { at: now, wait });
      const types = resolved
        ? (['TXT'] as const)
        : srv
          ? (['A', 'AAAA'] as const)
          : (['SRV', 'TXT'] as const);
      for (const type of types) questions.push({ name, type, class: 'IN' });
    }
    for (const key of this.resolveAttempts.keys()) {
      if (!this.cache.isInstance(key) && !this.cache.isTarget(key)) this.resolveAttempts.delete(key);
    }
    // Up to 256 instances' questions do not fit one datagram: one query per ~1400 bytes.
    for (const group of packQuestions(questions, MAX_QUERY_BYTES)) {
      void this.transport.sendAll(() => ({ type: 'query', id: 0, flags: 0, questions: group }));
    }
  }
}
