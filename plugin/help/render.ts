// Build time (scripts/bundles.mjs runs this as its own bundled entry, in a clean environment):
// every help page of the command tree, rendered by main() itself, into help-pages.json beside
// this module. plugin/kubectl-liqo.ts prints these texts for the same argv and width.
import { writeFileSync } from 'node:fs';
import { COMMANDS } from '../commands/index.js';
import { captureIO } from '../io.js';
import { main } from '../main.js';
import { HELP_PAGES_FILE, helpWrapWidth, type HelpPages } from './stored.js';

/** Off a terminal (and on an 80-column one), and any terminal 110 columns or wider. */
const RENDERED_WIDTHS = [80, 110];

/** `--help` and `-h` for the top level, every command, and every group's sub-commands. */
function helpRequests(): string[][] {
  const pages: string[][] = [[]];
  const word = (command: string) => command.split(' ')[0]!;
  for (const entry of COMMANDS) {
    pages.push([word(entry.command)]);
    if ('subcommands' in entry) {
      for (const sub of entry.subcommands) pages.push([word(entry.command), word(sub.command)]);
    }
  }
  return pages.flatMap((page) => [
    [...page, '--help'],
    [...page, '-h'],
  ]);
}

async function renderHelpPages(): Promise<HelpPages> {
  const byWidth: HelpPages['byWidth'] = {};
  for (const width of RENDERED_WIDTHS) {
    if (helpWrapWidth(width) !== width) throw new Error(`help is never wrapped to ${width} columns`);
    const texts: Record<string, string> = {};
    for (const argv of helpRequests()) {
      const c = captureIO({ columns: width });
      const code = await main(argv, c.io);
      if (code !== 0 || c.stderr() !== '' || c.stdout() === '') {
        throw new Error(`kubectl liqo ${argv.join(' ')}: exit ${code}, stderr: ${c.stderr()}`);
      }
      texts[JSON.stringify(argv)] = c.stdout();
    }
    byWidth[String(width)] = texts;
  }
  return { byWidth };
}

writeFileSync(new URL(HELP_PAGES_FILE, import.meta.url), JSON.stringify(await renderHelpPages()));
