// Usage mistakes named the way kubectl names them: an unknown command, then an unknown flag, before
// anything else yargs would say. yargs checks the number of positionals before unknown flags, and
// an unknown flag swallows the word after it as its value, so `join --wiat <url>` would otherwise
// read "not enough non-option arguments: got 0". The command words and flags are read from the
// raw arguments with yargs-parser's rules, against the options of the command yargs was in.

/** The part of yargs' getOptions() read here. */
export interface OptionTable {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  boolean: string[];
  count: string[];
}

export interface ArgumentScan {
  /** Words that are neither flags nor flag values, in order (the command path comes first). */
  positionals: string[];
  /** The first flag the table does not know, as written ("--wiat", "-x"), and where it was. */
  unknownFlag?: { flag: string; token: string; shorthand: boolean };
}

/** kebab-case, as yargs-parser's camel-case expansion compares names. */
function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

/** Reads `args` as yargs-parser would, against `table`: positionals and the first unknown flag. */
export function scanArguments(args: readonly string[], table: OptionTable): ArgumentScan {
  const canonical = new Map<string, string>();
  for (const key of Object.keys(table.key)) canonical.set(kebab(key), key);
  for (const [key, aliases] of Object.entries(table.alias)) {
    for (const a of aliases) if (!canonical.has(kebab(a))) canonical.set(kebab(a), key);
  }
  const noValue = new Set([...table.boolean, ...table.count]);
  const resolve = (name: string): string | undefined =>
    canonical.get(kebab(name)) ?? (name.startsWith('no-') ? canonical.get(kebab(name.slice(3))) : undefined);
  const takesValue = (key: string | undefined) => key === undefined || !noValue.has(key);
  const isFlag = (t: string | undefined) => t !== undefined && t.startsWith('-') && t !== '-';

  const scan: ArgumentScan = { positionals: [] };
  for (let i = 0; i < args.length; i++) {
    const token = args[i] as string;
    if (token === '--') break;
    if (token.startsWith('--')) {
      const [name = '', value] = splitOnce(token.slice(2), '=');
      const key = resolve(name);
      if (key === undefined) scan.unknownFlag ??= { flag: `--${name}`, token, shorthand: false };
      // an unknown flag takes the next word as its value, as yargs-parser does
      if (value === undefined && (key === undefined || takesValue(key)) && !isFlag(args[i + 1])) i++;
      continue;
    }
    if (isFlag(token) && !/^-\d/.test(token)) {
      const [letters = ''] = splitOnce(token.slice(1), '=');
      for (let j = 0; j < letters.length; j++) {
        const letter = letters[j] as string;
        if (resolve(letter) === undefined)
          scan.unknownFlag ??= { flag: `-${letter}`, token, shorthand: true };
        if (/^-?\d/.test(letters.slice(j + 1))) break; // "-n5": the rest is the value
      }
      const last = letters[letters.length - 1];
      const lastKey = last === undefined ? undefined : resolve(last);
      if (!token.includes('=') && lastKey !== undefined && takesValue(lastKey) && !isFlag(args[i + 1])) i++;
      continue;
    }
    scan.positionals.push(token);
  }
  return scan;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/** The long flags a user can type with this table, for suggestions ("--wait", "--no-color"). */
export function longFlags(table: OptionTable): string[] {
  const names = new Set<string>();
  for (const key of Object.keys(table.key)) {
    if (key.length > 1 && !/[A-Z]/.test(key)) names.add(`--${key}`);
    for (const a of table.alias[key] ?? []) if (a.length > 1 && !/[A-Z]/.test(a)) names.add(`--${a}`);
    if (table.boolean.includes(key) && key.length > 1 && !/[A-Z]/.test(key)) names.add(`--no-${key}`);
  }
  return [...names];
}

/** The candidate closest to `word` (typos, swapped letters), when close enough to be meant. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const budget = word.replace(/^-+/, '').length <= 4 ? 1 : 2;
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance <= budget && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

/**
 * Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
 * neighbouring letters each cost 1 ("wiat" is 1 from "wait"; plain Levenshtein says 2).
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]![j]!;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, at(i - 2, j - 2) + 1);
      rows[i]![j] = d;
    }
  }
  return at(a.length, b.length);
}

export interface UsageContext {
  /** The command words yargs entered, e.g. ["discovery", "status"]; [] at the top. */
  path: string[];
  /** Whether `path` names a command that runs (not a group that needs a sub-command). */
  leaf: boolean;
  /** The commands one level below `path`, when it is a group (or the top). */
  subcommands: string[];
  /** A leaf's yargs command string, e.g. "join <target>". */
  usage?: string;
}

/**
 * The kubectl-style line for a usage failure, when it is an unknown command or flag; undefined
 * otherwise (then yargs' own message stands). `yargsMessage` may carry recommendCommands'
 * "Did you mean X?".
 */
export function describeUnknownInput(
  args: readonly string[],
  context: UsageContext,
  table: OptionTable,
  scriptName: string,
  yargsMessage: string | undefined,
): string | undefined {
  const scan = scanArguments(args, table);
  const extra = scan.positionals[context.path.length];
  if (!context.leaf && extra !== undefined && !context.subcommands.includes(extra)) {
    const suggested =
      /^Did you mean (\S+)\?$/.exec(yargsMessage ?? '')?.[1] ?? closest(extra, context.subcommands);
    const hint = suggested ? ` (did you mean ${suggested}?)` : '';
    return `unknown command "${extra}" for "${[scriptName, ...context.path].join(' ')}"${hint}`;
  }
  const unknown = scan.unknownFlag;
  if (!unknown) return undefined;
  if (unknown.shorthand) return `unknown shorthand flag: '${unknown.flag.slice(1)}' in ${unknown.token}`;
  const suggested = closest(unknown.flag, longFlags(table));
  return `unknown flag: ${unknown.flag}${suggested ? ` (did you mean ${suggested}?)` : ''}`;
}

/** "missing <target> (usage: kubectl liqo join <target>)" instead of yargs' count of positionals. */
export function describeMissingArguments(
  context: UsageContext,
  scriptName: string,
  yargsMessage: string | undefined,
): string | undefined {
  if (!context.leaf || !context.usage || !/^Not enough non-option arguments/i.test(yargsMessage ?? '')) {
    return undefined;
  }
  const required = context.usage.match(/<[^>]+>/g) ?? [];
  if (required.length === 0) return undefined;
  const usage = [scriptName, ...context.path.slice(0, -1), context.usage].join(' ');
  return `missing ${required.join(' ')} (usage: ${usage})`;
}

/**
 * yargs' "Invalid values:\n  Argument: dry-run, Given: "x", Choices: "a", "b"" as one line:
 * `--dry-run: invalid value "x" (choices: a, b)`, or `invalid <shell> "fish" ...` for a positional.
 */
export function describeInvalidChoice(
  context: UsageContext,
  yargsMessage: string | undefined,
): string | undefined {
  const found = /Argument: ([^,]+), Given: (.+), Choices: (.+)$/m.exec(yargsMessage ?? '');
  if (!found) return undefined;
  const [, name = '', given = '', choices = ''] = found;
  const positional = new RegExp(`[<[]${name}[>\\]]`).test(context.usage ?? '');
  const what = positional ? `invalid ${name}` : `--${name}: invalid value`;
  return `${what} ${given} (choices: ${choices.replace(/"/g, '')})`;
}
