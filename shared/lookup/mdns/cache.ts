// The browser's record cache (RFC 6762 §10): only records reachable from the browsed service
// types are kept (PTR of a type -> SRV/TXT of its instances -> A/AAAA of their targets), so a
// flood of unrelated or random records cannot grow it; and it is capped.
import { isIPv4, isIPv6 } from 'node:net';
import type { Answer } from 'dns-packet';
import { instanceOf, normalizeName, ttlOf } from './names.js';

export type CachedType = 'PTR' | 'SRV' | 'TXT' | 'A' | 'AAAA';

export interface CachedRecord {
  name: string;
  type: CachedType;
  data: unknown;
  /** The advertised TTL, seconds (0 for a goodbye). */
  ttl: number;
  receivedAt: number;
  expiresAt: number;
  /** How many RFC 6762 §5.2 refresh queries were sent for this record (0..4). */
  refreshes: number;
  /** Random 0-2 % added to each refresh point. */
  jitter: number;
}

export const MAX_INSTANCES = 1024;
const MAX_RECORDS_PER_NAME = 16;

interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export function isSrvData(data: unknown): data is SrvData {
  const d = data as SrvData | undefined;
  return !!d && typeof d.port === 'number' && typeof d.target === 'string' && typeof d.priority === 'number';
}

export function rdataKey(type: CachedType, data: unknown): string | undefined {
  switch (type) {
    case 'PTR':
      return typeof data === 'string' ? normalizeName(data) : undefined;
    // a truncated record decodes to "10.254.undefined.undefined": only real addresses pass
    case 'A':
      return typeof data === 'string' && isIPv4(data) ? data : undefined;
    case 'AAAA':
      return typeof data === 'string' && isIPv6(data) ? data.toLowerCase() : undefined;
    case 'SRV':
      // port 0 or the root target means "no service here" (RFC 2782)
      return isSrvData(data) && data.port > 0 && normalizeName(data.target) !== ''
        ? `${data.priority} ${data.weight} ${data.port} ${normalizeName(data.target)}`
        : undefined;
    case 'TXT': {
      const parts = Array.isArray(data) ? data : [];
      return parts.map((p) => (Buffer.isBuffer(p) ? p.toString('hex') : '')).join('.');
    }
  }
}

export class RecordCache {
  private readonly byNameType = new Map<string, Map<string, CachedRecord>>();

  constructor(private readonly serviceTypes: Set<string>) {}

  /** Names (normalised) the cache currently cares about, per record type. */
  private relevant(name: string, type: CachedType): boolean {
    if (type === 'PTR') return this.serviceTypes.has(name);
    if (type === 'SRV' || type === 'TXT') return this.isInstance(name);
    return this.isTarget(name);
  }

  // Indexes over the live PTR and SRV records, rebuilt only when those change, so each incoming
  // record costs a set look-up even with a full cache under a flood.
  private instanceIndex: Set<string> | undefined;
  private targetIndex: Set<string> | undefined;

  private invalidate(type: CachedType): void {
    if (type === 'PTR') this.instanceIndex = undefined;
    if (type === 'PTR' || type === 'SRV') this.targetIndex = undefined;
  }

  private instanceSet(): Set<string> {
    if (!this.instanceIndex) {
      this.instanceIndex = new Set();
      for (const type of this.serviceTypes) {
        for (const r of this.get(type, 'PTR')) this.instanceIndex.add(normalizeName(r.data as string));
      }
    }
    return this.instanceIndex;
  }

  isInstance(name: string): boolean {
    return this.instanceSet().has(name);
  }

  isTarget(name: string): boolean {
    if (!this.targetIndex) {
      this.targetIndex = new Set();
      for (const instance of this.instanceSet()) {
        for (const srv of this.get(instance, 'SRV')) {
          if (isSrvData(srv.data)) this.targetIndex.add(normalizeName(srv.data.target));
        }
      }
    }
    return this.targetIndex.has(name);
  }

  instanceCount(): number {
    return this.instanceSet().size;
  }

  /** Instance names (normalised) from every live PTR. */
  instances(): string[] {
    return [...this.instanceSet()];
  }

  /**
   * Takes in a record from a response. Returns the affected name when the cache changed in a
   * way that matters (new record, new data, goodbye), undefined when ignored or only refreshed.
   */
  add(answer: Answer, now: number): { name: string; changed: boolean } | undefined {
    const type = answer.type as CachedType;
    if (!['PTR', 'SRV', 'TXT', 'A', 'AAAA'].includes(type)) return undefined;
    if (typeof answer.name !== 'string') return undefined;
    const name = normalizeName(answer.name);
    if (!this.relevant(name, type)) return undefined;
    const data = (answer as { data?: unknown }).data;
    const key = rdataKey(type, data);
    if (key === undefined) return undefined;
    // RFC 6763 §4.1: a service PTR names "<instance>.<service type>"; anything else is noise
    if (type === 'PTR' && !instanceOf(key, name)) return undefined;
    const ttl = ttlOf(answer);
    const slot = `${name}|${type}`;
    let records = this.byNameType.get(slot);
    if (!records) {
      if (type === 'PTR' && this.instanceCount() >= MAX_INSTANCES) return undefined;
      records = new Map();
      this.byNameType.set(slot, records);
    }
    if ((answer as { flush?: boolean }).flush) {
      // §10.2: other data for this name and type, older than one second, goes in one second
      for (const [k, r] of records) {
        if (k !== key && now - r.receivedAt > 1000) r.expiresAt = Math.min(r.expiresAt, now + 1000);
      }
    }
    const existing = records.get(key);
    if (ttl === 0) {
      // §10.1 goodbye: keep it for one more second, then forget it
      if (!existing) return undefined;
      existing.expiresAt = Math.min(existing.expiresAt, now + 1000);
      existing.ttl = 0;
      return { name, changed: false };
    }
    if (!existing && type === 'PTR' && this.instanceCount() >= MAX_INSTANCES) return undefined;
    if (!existing && type !== 'PTR' && records.size >= MAX_RECORDS_PER_NAME) return undefined;
    if (!existing) this.invalidate(type);
    records.set(key, {
      name,
      type,
      data,
      ttl,
      receivedAt: now,
      expiresAt: now + ttl * 1000,
      refreshes: 0,
      jitter: Math.random() * 0.02,
    });
    return { name, changed: !existing || existing.ttl === 0 };
  }

  get(name: string, type: CachedType): CachedRecord[] {
    const records = this.byNameType.get(`${name}|${type}`);
    return records ? [...records.values()] : [];
  }

  all(): CachedRecord[] {
    const out: CachedRecord[] = [];
    for (const records of this.byNameType.values()) out.push(...records.values());
    return out;
  }

  /** Drops expired records; returns the names that lost something. */
  expire(now: number): Set<string> {
    const touched = new Set<string>();
    for (const [slot, records] of this.byNameType) {
      for (const [key, r] of records) {
        if (r.expiresAt <= now) {
          records.delete(key);
          this.invalidate(r.type);
          touched.add(r.name);
        }
      }
      if (records.size === 0) this.byNameType.delete(slot);
    }
    return touched;
  }

  /** Records whose next §5.2 refresh point (80, 85, 90, 95 % of the TTL) has passed. */
  dueForRefresh(now: number): CachedRecord[] {
    const due: CachedRecord[] = [];
    for (const r of this.all()) {
      if (r.ttl === 0 || r.refreshes >= 4) continue;
      const point = 0.8 + 0.05 * r.refreshes + r.jitter;
      if (now >= r.receivedAt + r.ttl * 1000 * point) due.push(r);
    }
    return due;
  }
}
