// One resolveSearchDomain call's query machinery: a cap on queries in flight, the total deadline
// (and the caller's abort signal), and failures turned into one-line causes.
import type { RecordType } from 'dns-packet';
import { DnsClient, DnsQueryError, sameName, type DnsRecord } from './dns-client.js';
import { formatDnsServer } from './dns-records.js';

/** Longest CNAME chain followed for one question. */
export const MAX_CNAME_HOPS = 16;

/** How a CNAME chain that loops or never ends is reported. */
export function describeBrokenChain(failed: 'ECNAMELOOP' | 'ECNAMELONG', chain: string[]): string {
  return failed === 'ECNAMELOOP'
    ? `CNAME loop ${chain.join(' → ')}`
    : `CNAME chain longer than ${MAX_CNAME_HOPS}: ${chain.join(' → ')}`;
}

/** Thrown out of a query once the deadline has passed or the caller aborted. */
export class DeadlineExceeded extends Error {
  constructor(
    reason: string,
    /** The record being waited for, e.g. "SRV a.example.com", when known. */
    readonly record?: string,
  ) {
    super(reason);
  }
}

/** The records of one question, at the end of the CNAME chain that led to them. */
export interface Lookup {
  records: DnsRecord[];
  /** The asked name, then each CNAME target followed (length 1: no CNAME). */
  chain: string[];
  /** The reply's additional section (RFC 6763 §12: addresses of SRV targets). */
  additionals: DnsRecord[];
}

export type Answer<T> =
  | { ok: true; value: T }
  /** `absent`: the name or the record type does not exist (NXDOMAIN / NODATA). */
  | { ok: false; code: string; absent: boolean; cause: string };

export interface RunSettings {
  queryTimeoutMs: number;
  tries: number;
  deadlineMs: number;
  concurrency: number;
}

/** Why a lookup found nothing: a DnsQueryError code, ENOTFOUND/ENODATA, or ECNAMELOOP/ECNAMELONG. */
interface LookupFailure {
  failed: string;
  chain: string[];
}

export class SearchRun {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private stopReason: string | undefined;
  private serversText: string | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = (): void => this.stop('aborted by the caller');

  constructor(
    private readonly client: DnsClient,
    private readonly settings: RunSettings,
    private readonly signal?: AbortSignal,
  ) {
    this.timer = setTimeout(
      () => this.stop(`deadline of ${settings.deadlineMs} ms exceeded`),
      settings.deadlineMs,
    );
    if (signal?.aborted) this.stop('aborted by the caller');
    else signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /**
   * Asks for `rrtype` records at `name`, following CNAMEs (within the reply, and with new
   * questions when a server leaves the chain unfinished). Throws DeadlineExceeded only; other
   * failures are answers.
   */
  async query(rrtype: RecordType, name: string): Promise<Answer<Lookup>> {
    const outcome = await this.withSlot(() => this.lookup(rrtype, name));
    // Once stopped, every query in flight ends (the client fails them ECANCELLED): say why.
    if (this.stopReason) throw new DeadlineExceeded(this.stopReason, `${rrtype} ${name}`);
    if (!('failed' in outcome)) return { ok: true, value: outcome };
    const { failed, chain } = outcome;
    const via = chain.length > 1 ? `via CNAME ${chain.join(' → ')}: ` : '';
    const cause =
      failed === 'ECNAMELOOP' || failed === 'ECNAMELONG'
        ? describeBrokenChain(failed, chain)
        : `${via}${this.describe(failed, rrtype)}`;
    return { ok: false, code: failed, absent: failed === 'ENODATA' || failed === 'ENOTFOUND', cause };
  }

  finish(): void {
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    this.client.close();
  }

  private stop(reason: string): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    // Outstanding queries end now (ECANCELLED) instead of at their own timeouts, and the ones
    // waiting for a slot are let go to find the run stopped.
    this.client.close();
    for (const release of this.waiting.splice(0)) release();
  }

  private async lookup(rrtype: RecordType, name: string): Promise<Lookup | LookupFailure> {
    const chain = [name];
    for (;;) {
      const asked = chain[chain.length - 1] as string;
      let response;
      try {
        response = await this.client.exchange(asked, rrtype);
      } catch (error) {
        if (error instanceof DnsQueryError) return { failed: error.code, chain };
        throw error;
      }
      let owner = asked;
      for (;;) {
        const records = response.answers.filter(
          (record) => record.type === rrtype && sameName(record.name, owner),
        );
        if (records.length > 0) return { records, chain, additionals: response.additionals };
        const cname = response.answers.find(
          (record) => record.type === 'CNAME' && sameName(record.name, owner),
        );
        if (!cname) break;
        owner = String(cname.data).replace(/\.$/, '');
        const loops = chain.some((seen) => sameName(seen, owner));
        chain.push(owner);
        if (loops) return { failed: 'ECNAMELOOP', chain };
        if (chain.length > MAX_CNAME_HOPS + 1) return { failed: 'ECNAMELONG', chain };
      }
      // The reply's code is about the last name of its chain (RFC 6604).
      if (response.rcode === 3) return { failed: 'ENOTFOUND', chain };
      // The chain reached a name the server did not follow (out of its zones): ask for it.
      if (owner !== asked) continue;
      return { failed: 'ENODATA', chain };
    }
  }

  private async withSlot<T>(task: () => Promise<T>): Promise<T> {
    if (this.inFlight < this.settings.concurrency) this.inFlight++;
    // The slot is handed over by the finishing query, so the count never overshoots.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.inFlight--;
    }
  }

  private describe(code: string, rrtype: string): string {
    this.serversText ??= this.client.servers.map(formatDnsServer).join(', ') || 'the system resolvers';
    const servers = this.serversText;
    switch (code) {
      case 'ENODATA':
        return `no ${rrtype} record`;
      case 'ENOTFOUND':
        return 'name does not exist (NXDOMAIN)';
      case 'ETIMEOUT': {
        const { queryTimeoutMs, tries } = this.settings;
        return `no answer from ${servers} within ${queryTimeoutMs} ms (${tries} ${tries === 1 ? 'try' : 'tries'})`;
      }
      case 'ECONNREFUSED':
        return `connection refused by ${servers}: no DNS server listening there`;
      case 'ESERVFAIL':
        return `server failure (SERVFAIL) from ${servers}`;
      case 'EREFUSED':
        return `query refused (REFUSED) by ${servers}: is it authoritative for this domain or recursive for us?`;
      case 'ECANCELLED':
        return 'query cancelled';
      case 'ENETUNREACH':
        return `no route to ${servers} (network unreachable)`;
      case 'ECONNRESET':
        return `connection to ${servers} lost`;
      case 'EBADRESP':
        return `malformed answer from ${servers}`;
      case 'EFORMERR':
        return `${servers} could not parse the query (FORMERR)`;
      case 'ENOTIMP':
        return `${servers} does not implement ${rrtype} queries (NOTIMP)`;
      default:
        return `${code} from ${servers}`;
    }
  }
}
