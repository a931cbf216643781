// The help texts `npm run build` renders with the real parser (plugin/help/render.ts) and the
// plugin's entry (plugin/kubectl-liqo.ts) prints without loading yargs or the command tree.
// Imported by the entry, so it stays small and imports nothing.

/** The file, beside the entry module, that holds the rendered texts (a HelpPages). */
export const HELP_PAGES_FILE = 'help-pages.json';

/** Rendered help: wrap width → JSON.stringify(argv) → exactly what the CLI writes on stdout. */
export interface HelpPages {
  byWidth: Record<string, Record<string, string>>;
}

/** The width help text is wrapped to (main.ts): the terminal's, at most 110; 80 off a terminal. */
export function helpWrapWidth(columns: number | undefined): number {
  return Math.min(110, columns ?? 80);
}

/**
 * The stored text for `argv`, or undefined when the CLI itself must answer: not a help request
 * the build rendered, a width it did not render, YARGS_DISABLE_WRAP set (yargs then does not
 * wrap at all), or no readable table.
 */
export function storedHelp(
  argv: readonly string[],
  columns: number | undefined,
  env: Record<string, string | undefined>,
  readPages: () => string,
): string | undefined {
  const last = argv[argv.length - 1];
  if (last !== '--help' && last !== '-h') return undefined;
  if (env.YARGS_DISABLE_WRAP) return undefined;
  let pages: HelpPages;
  try {
    pages = JSON.parse(readPages()) as HelpPages;
  } catch {
    return undefined;
  }
  const text = pages.byWidth?.[String(helpWrapWidth(columns))]?.[JSON.stringify(argv)];
  return typeof text === 'string' ? text : undefined;
}
