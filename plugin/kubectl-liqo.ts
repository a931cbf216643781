// The plugin's entry, what the launcher (plugin/launcher.sh) runs. A help request the build
// rendered (`--help`, `<command> --help`, `<group> <sub-command> -h`, …; plugin/help/render.ts)
// is answered from help-pages.json beside this file, for the width it was rendered for, without
// loading yargs and the command tree (most of the plugin's start-up). Everything else is the
// CLI itself (plugin/cli.ts), imported only then. Keep this module tiny.
import { readFileSync } from 'node:fs';
import { HELP_PAGES_FILE, storedHelp } from './help/stored.js';

const help = storedHelp(process.argv.slice(2), process.stdout.columns, process.env, () =>
  readFileSync(new URL(HELP_PAGES_FILE, import.meta.url), 'utf8'),
);
if (help === undefined) {
  void import('./cli.js');
} else {
  // as plugin/cli.ts: a closed pipe ends us quietly; stdout to a pipe or file is synchronous
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
  });
  process.stdout.write(help);
  process.exit(0);
}
