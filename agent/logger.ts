// JSON logs (pino) on stdout: one object per line, as log collectors in a cluster expect.
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export function createLogger(level: string = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return pino({
    level,
    base: { component: 'liqo-agent' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** A one-line message for anything thrown (errors from our look-ups already carry context). */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.name;
  return String(err);
}
