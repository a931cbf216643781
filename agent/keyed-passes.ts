/**
 * Passes over named objects, one at a time per name: the agent's small version of client-go's
 * workqueue with AddAfter. The SearchDomain and DnsRegistration controllers both need the same
 * bookkeeping: a timer per name, never two passes of one name at once, "one more when the
 * current one ends" when the object changes mid-pass, and a stop that waits for the passes
 * under way. That bookkeeping lives here; what a pass does and what a controller remembers
 * about each object (its `state`) stay in the controller.
 */

/** One pass over `name`; resolves the delay before the next pass (undefined: none until asked). */
export type Pass<S> = (name: string, state: S) => Promise<number | undefined>;

interface Entry<S> {
  state: S;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
  again: boolean;
}

export class KeyedPasses<S> {
  private readonly entries = new Map<string, Entry<S>>();
  private stopped = false;

  /** `pass` must not throw: a controller logs its own failures and says when to try again. */
  constructor(private readonly pass: Pass<S>) {}

  get(name: string): S | undefined {
    return this.entries.get(name)?.state;
  }

  /** Every name followed, with its state. */
  *states(): IterableIterator<[string, S]> {
    for (const [name, entry] of this.entries) yield [name, entry.state];
  }

  /**
   * Follow `name` with `state` (replacing the state of a name already followed) and pass over
   * it now: at once if idle, right after the current pass if one is under way.
   */
  set(name: string, state: S): void {
    const entry = this.entries.get(name);
    if (entry) entry.state = state;
    else this.entries.set(name, { state, again: false });
    this.schedule(name, 0);
  }

  isRunning(name: string): boolean {
    return this.entries.get(name)?.running !== undefined;
  }

  /**
   * Stop following `name`. Resolves when its pass under way (if any) has ended; that pass is
   * not followed by another.
   */
  delete(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (entry?.timer) clearTimeout(entry.timer);
    this.entries.delete(name);
    return entry?.running ?? Promise.resolve();
  }

  /** Pass over `name` after `delayMs` (replacing the pass already timed); nothing if not followed. */
  schedule(name: string, delayMs: number): void {
    const entry = this.entries.get(name);
    if (!entry || this.stopped) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (entry.running) {
        entry.again = true;
        return;
      }
      entry.running = this.pass(name, entry.state).then(
        (next) => this.passEnded(name, entry, next),
        // a Pass that throws anyway asks for no next pass; a change to the object brings one
        () => this.passEnded(name, entry, undefined),
      );
    }, delayMs);
  }

  /** Stop every timer and resolve when the passes under way have ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    const running = [...this.entries.values()].map((entry) => {
      if (entry.timer) clearTimeout(entry.timer);
      return entry.running;
    });
    this.entries.clear();
    await Promise.allSettled(running);
  }

  private passEnded(name: string, entry: Entry<S>, next: number | undefined): void {
    entry.running = undefined;
    // deleted (or deleted and followed again) while the pass ran: that pass was its last
    if (this.entries.get(name) !== entry) return;
    const again = entry.again;
    entry.again = false;
    if (again) this.schedule(name, 0);
    else if (next !== undefined) this.schedule(name, next);
  }
}
