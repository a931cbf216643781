// A spinner on stderr, only when stderr is a terminal; otherwise nothing at all, so pipes and
// logs stay clean. ora is loaded only when a spinner is really shown.
import type { CommandIO } from '../io.js';

export interface Spinner {
  text(message: string): void;
  /** Hides the spinner so that a line can be printed, then shows it again. */
  around(print: () => void): void;
  stop(): void;
}

const NO_SPINNER: Spinner = {
  text: () => undefined,
  around: (print) => print(),
  stop: () => undefined,
};

export async function startSpinner(
  io: CommandIO,
  message: string,
  enabled = true,
  colorFlag: boolean | undefined = true,
): Promise<Spinner> {
  if (!io.stderrIsTTY || !enabled || io.env.TERM === 'dumb') return NO_SPINNER;
  // NO_COLOR / --no-color: still a spinner, just without colour
  const noColor = (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') || colorFlag === false;
  const { default: ora } = await import('ora');
  const spinner = ora({
    text: message,
    stream: io.stderr as NodeJS.WritableStream,
    isEnabled: true,
    ...(noColor ? { color: false as const } : {}),
    discardStdin: false,
  }).start();
  return {
    text: (m) => {
      spinner.text = m;
    },
    around: (print) => {
      spinner.clear();
      print();
      spinner.render();
    },
    stop: () => {
      spinner.stop();
    },
  };
}
