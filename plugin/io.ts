// What a command reads and writes, passed in (kubectl's IOStreams) so that a test can call a
// command's run() directly and see exactly what a user would.

export interface OutputStream {
  write(chunk: string): unknown;
}

export interface CommandIO {
  /** Data only: tables, JSON, YAML, names. */
  stdout: OutputStream;
  /** Progress, warnings, hints and errors. */
  stderr: OutputStream;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  env: Record<string, string | undefined>;
  /** Terminal input for the interactive picker; absent when there is none. */
  stdin?: NodeJS.ReadStream;
  /** Terminal width for wrapping; default 80. */
  columns?: number;
}

export function processIO(): CommandIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    stdin: process.stdin,
    columns: process.stdout.columns,
  };
}

/** An IO that records everything, for tests and for commands that call other commands. */
export function captureIO(opts: Partial<Omit<CommandIO, 'stdout' | 'stderr'>> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIO = {
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    stdoutIsTTY: false,
    stderrIsTTY: false,
    env: {},
    ...opts,
  };
  return {
    io,
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}
