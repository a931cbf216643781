// One pass now and one every interval after the previous pass ended (never two at once), for
// the agent's periodic checks; stop() waits for a pass under way.
export class PeriodicPass {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stoppedFlag = false;

  /** `pass` must not throw: it reports its own failures. */
  constructor(
    private readonly intervalMs: number,
    private readonly pass: () => Promise<void>,
  ) {}

  get stopped(): boolean {
    return this.stoppedFlag;
  }

  start(): void {
    const tick = () => {
      if (this.stoppedFlag) return;
      this.running = this.pass();
      void this.running.then(() => {
        if (!this.stoppedFlag) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stoppedFlag = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
