// One resolveSearchDomain call's query machinery: a cap on queries in flight, the total deadline
// (and the caller's abort signal), and failures turned into one-line causes.
import type { promises as dnsPromises } from 'node:dns';

type Resolver = dnsPromises.Resolver;

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

export class SearchRun {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private stopReason: string | undefined;
  private serversText: string | undefined;
  private readonly stopped: Promise<never>;
  private stop!: (reason: string) => void;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = (): void => this.stop('aborted by the caller');

  constructor(
    private readonly resolver: Resolver,
    private readonly settings: RunSettings,
    private readonly signal?: AbortSignal,
  ) {
    this.stopped = new Promise<never>((_resolve, reject) => {
      this.stop = (reason: string) => {
        if (this.stopReason) return;
        this.stopReason = reason;
        reject(new DeadlineExceeded(reason));
        // Outstanding queries end now (ECANCELLED) instead of at their own timeouts.
        this.resolver.cancel();
      };
    });
    this.stopped.catch(() => undefined);
    this.timer = setTimeout(
      () => this.stop(`deadline of ${settings.deadlineMs} ms exceeded`),
      settings.deadlineMs,
    );
    if (signal?.aborted) this.stop('aborted by the caller');
    else signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Runs one query within the limits. Throws DeadlineExceeded only; other failures are answers. */
  async query<T>(rrtype: string, name: string, ask: (resolver: Resolver) => Promise<T>): Promise<Answer<T>> {
    try {
      const value = await Promise.race([this.withSlot(() => ask(this.resolver)), this.stopped]);
      return { ok: true, value };
    } catch (error) {
      if (this.stopReason) throw new DeadlineExceeded(this.stopReason, `${rrtype} ${name}`);
      const code = (error as NodeJS.ErrnoException).code ?? 'UNKNOWN';
      return {
        ok: false,
        code,
        absent: code === 'ENODATA' || code === 'ENOTFOUND',
        cause: this.describe(code, rrtype),
      };
    }
  }

  finish(): void {
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    if (this.stopReason) this.resolver.cancel();
  }

  private async withSlot<T>(task: () => Promise<T>): Promise<T> {
    if (this.stopReason) throw new DeadlineExceeded(this.stopReason);
    if (this.inFlight < this.settings.concurrency) this.inFlight++;
    // The slot is handed over by the finishing query, so the count never overshoots.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      if (this.stopReason) throw new DeadlineExceeded(this.stopReason);
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.inFlight--;
    }
  }

  private describe(code: string, rrtype: string): string {
    this.serversText ??= this.resolver.getServers().join(', ') || 'the system resolvers';
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
      default:
        return `${code} from ${servers}`;
    }
  }
}
