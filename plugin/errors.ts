// Every failure becomes one line. Known error types carry a message written for the user;
// anything else is collapsed to its first meaningful line — never a stack trace.
import { SCRIPT_NAME_FOR_HELP } from './names.js';
import { oneLine } from '../shared/text.js';

/** `usage` is given for a command-line mistake: the line then points at that command's --help. */
export function describeError(err: unknown, usage?: { helpFor?: string }): string {
  const message = err instanceof Error ? err.message : String(err);
  const line = oneLine(message, { joinWith: '; ' }) || (err instanceof Error ? err.name : 'unknown failure');
  if (usage) return `${lowerFirst(line)} (see "${usage.helpFor ?? SCRIPT_NAME_FOR_HELP} --help")`;
  return line;
}

function lowerFirst(s: string): string {
  // yargs says "Unknown argument: x"; kubectl's errors start lower-case.
  return /^[A-Z][a-z]/.test(s) ? s[0]!.toLowerCase() + s.slice(1) : s;
}
