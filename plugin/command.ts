// The shape every plugin/commands/<name>.ts exports (kubectl's Complete/Validate/Run split:
// yargs fills and checks the options, run() does the work with the streams it is given).
import type { Argv } from 'yargs';
import type { GlobalOptions } from './global.js';
import type { CommandIO } from './io.js';

export interface CommandModule<O extends GlobalOptions = GlobalOptions> {
  /** yargs command string, e.g. "join <target>". */
  command: string;
  describe: string;
  // The builder's result type depends on the options it adds; main only needs an Argv back.
  builder: (y: Argv<GlobalOptions>) => Argv<unknown>;
  run: (options: O, io: CommandIO) => Promise<void>;
}

/** A command with sub-commands (e.g. `discovery status|enable|disable`). */
export interface CommandGroup {
  command: string;
  describe: string;
  subcommands: CommandModule<never>[];
}
