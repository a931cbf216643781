// The stop logic `npm run sandbox` and `npm run cluster` share: Ctrl-C (or SIGTERM) runs the
// script's clean-up once and exits, a second Ctrl-C exits at once (the exit hooks still kill
// what is left by PID), and a watched process that dies marks the run failed (its logs are
// then kept) and stops the rest.

/** The message of a thrown value, for one line of output. */
export function errorText(err) {
  return err instanceof Error ? err.message : String(err);
}

/**
 * @param {object} opts
 * @param {(line: string) => void} opts.say
 * @param {(failed: boolean) => string} opts.stoppingLine what is said when stopping begins
 * @param {(failed: boolean) => Promise<boolean | void>} opts.cleanUp stops and removes
 *   everything (keeping the logs when failed); false when something could not be removed
 */
export function stopOnSignal({ say, stoppingLine, cleanUp }) {
  let stopping = false;
  /** Set when something went wrong: the run's logs then outlive it. */
  let failed = false;

  async function stop(signal) {
    if (stopping) {
      say(`${signal} again: exiting now (the exit hook still kills what is left)`);
      process.exit(130);
    }
    stopping = true;
    say(stoppingLine(failed));
    try {
      const clean = await cleanUp(failed);
      say('stopped');
      process.exit(failed || clean === false ? 1 : 0);
    } catch (err) {
      say(`error while stopping: ${errorText(err)}`);
      process.exit(1);
    }
  }
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  return {
    /** Marks the run failed: the logs are kept and the exit code is 1. */
    fail() {
      failed = true;
    },
    /** Resolves when start-up may go on; never, when a signal came meanwhile (stop() exits). */
    async notStopping() {
      if (stopping) await new Promise(() => {});
    },
    /** Stops everything when one of `processes` exits by itself; keeps the process alive. */
    watch(processes) {
      for (const p of processes) {
        p.exited.then((how) => {
          if (!stopping) {
            failed = true;
            say(`${p.name} exited (${how}); its log is kept: ${p.logFile}`);
            void stop('exit');
          }
        });
      }
      setInterval(() => {}, 1 << 30);
    },
  };
}
