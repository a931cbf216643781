// kubectl liqo: the command tree. It only wires yargs to the commands, runs the chosen one as
// complete → validate → run (plugin/command.ts) with the injected IO and ClientFactory, and
// turns every failure into `error: <one line>` on stderr and exit code 1 (plugin/cli.ts runs
// it as the program).
import yargs, { type Argv } from 'yargs';
import { executeCommand, type AnyCommandModule, type ClientFactory, type CommandGroup } from './command.js';
import { kubeconfigClientFactory } from './client-factory.js';
import { addGlobalOptions, type GlobalOptions } from './global.js';
import type { CommandIO } from './io.js';
import { describeError } from './errors.js';
import { SCRIPT_NAME_FOR_HELP } from './names.js';
import { helpWrapWidth } from './help/stored.js';
import { stderrColors } from './output/color.js';
import { COMMANDS } from './commands/index.js';
import {
  describeInvalidChoice,
  describeMissingArguments,
  describeUnknownInput,
  type OptionTable,
  type UsageContext,
} from './usage-errors.js';

/** kubectl runs us as kubectl-liqo; we always present ourselves as the plugin. */
export const SCRIPT_NAME = SCRIPT_NAME_FOR_HELP;

/** A mistake on the command line; `commandPath` names the command whose --help would help. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly commandPath: string[] = [],
  ) {
    super(message);
  }
}

/** Where yargs is while parsing: set by each command's builder as yargs enters it. */
interface ParseContext {
  context: UsageContext;
}

const TOP_LEVEL: UsageContext = {
  path: [],
  leaf: false,
  subcommands: COMMANDS.map((c) => commandName(c.command)),
};

function commandName(command: string): string {
  return command.split(' ')[0] ?? command;
}

/** The command yargs chose, with the flags it parsed. */
interface ChosenCommand {
  command: AnyCommandModule;
  flags: GlobalOptions;
}
type OnChosen = (chosen: ChosenCommand) => void;

/** Builds the parser; `onChosen` receives the chosen command and its parsed flags. */
export function buildParser(args: string[], io: CommandIO, onChosen: OnChosen): Argv<GlobalOptions> {
  const where: ParseContext = { context: TOP_LEVEL };
  const y = addGlobalOptions(yargs(args))
    .scriptName(SCRIPT_NAME)
    .usage(`${SCRIPT_NAME} <command> [flags]\n\nFind Liqo clusters (LAN, DNS, URLs) and peer with them.`)
    .version(false)
    .help('help')
    .alias('help', 'h')
    .strict()
    .recommendCommands()
    .demandCommand(1, 'a command is required')
    .wrap(helpWrapWidth(io.columns))
    // English whatever LANG says: the bundle carries no yargs translations anyway, and the
    // help texts the build stores (plugin/help/) then depend on nothing but the width
    .detectLocale(false)
    .fail((msg, err) => {
      // An unknown command or flag is named first, whatever yargs tripped over (kubectl's order).
      const options = (y as unknown as { getOptions(): OptionTable }).getOptions();
      const said = msg ?? undefined;
      const named =
        describeUnknownInput(args, where.context, options, SCRIPT_NAME, said) ??
        describeMissingArguments(where.context, SCRIPT_NAME, said) ??
        describeInvalidChoice(where.context, said);
      if (named) throw new UsageError(named, where.context.path);
      // an error that is not yargs' own (one thrown by a builder) stands as written
      if (err && err.name !== 'YError') throw err;
      throw new UsageError(msg ?? err?.message ?? 'invalid arguments', where.context.path);
    })
    .epilog(`Use "${SCRIPT_NAME} <command> --help" for more about a command.`) as Argv<GlobalOptions>;
  for (const entry of COMMANDS) {
    if ('subcommands' in entry) registerGroup(y, entry, onChosen, where);
    else registerCommand(y, entry, onChosen, where, []);
  }
  return y;
}

function registerCommand(
  y: Argv<GlobalOptions>,
  c: AnyCommandModule,
  onChosen: OnChosen,
  where: ParseContext,
  parentPath: string[],
): void {
  const path = [...parentPath, commandName(c.command)];
  y.command(
    c.command,
    c.describe,
    (inner) => {
      where.context = { path, leaf: true, subcommands: [], usage: c.command };
      return c.builder(inner);
    },
    (argv) => {
      onChosen({ command: c, flags: argv as GlobalOptions });
    },
  );
}

function registerGroup(
  y: Argv<GlobalOptions>,
  g: CommandGroup,
  onChosen: OnChosen,
  where: ParseContext,
): void {
  const name = commandName(g.command);
  y.command(g.command, g.describe, (sub) => {
    where.context = {
      path: [name],
      leaf: false,
      subcommands: g.subcommands.map((c) => commandName(c.command)),
    };
    for (const c of g.subcommands) registerCommand(sub, c, onChosen, where, [name]);
    return sub.demandCommand(1, `${name} needs a sub-command`);
  });
}

/**
 * Runs the CLI; resolves to the exit code. `clients` replaces the kubeconfig the global flags
 * choose (a test's in-memory cluster); by default each command gets kubeconfigClientFactory.
 */
export async function main(args: string[], io: CommandIO, clients?: ClientFactory): Promise<number> {
  let chosen: ChosenCommand | undefined;
  try {
    if (args[0] === '__complete') {
      const { printCompletions, completionTree } = await import('./commands/completion.js');
      const tree = completionTree(
        COMMANDS.map((c) =>
          'subcommands' in c
            ? { command: c.command, subcommands: c.subcommands }
            : { command: c.command, builder: c.builder },
        ),
        () => addGlobalOptions(yargs([])) as Argv<GlobalOptions>,
      );
      // completion never fails loudly: no warnings, and a short bound on each request
      const quiet: CommandIO = { ...io, stderr: { write: () => true } };
      await printCompletions(
        args.slice(1),
        io,
        tree,
        clients ?? kubeconfigClientFactory({ requestTimeout: '2s' }, quiet),
      );
      return 0;
    }
    const parser = buildParser(args, io, (c) => {
      chosen = c;
    });
    if (args.includes('--help') || args.includes('-h')) {
      // With a callback yargs neither prints nor exits: the help text comes back as `output`,
      // so it goes to io.stdout like everything else (and a test's captured IO sees it).
      const helpText = await new Promise<string>((resolve, reject) => {
        parser.parse(args, {}, (err, _argv, output) => (err ? reject(err) : resolve(output)));
      });
      if (helpText) io.stdout.write(helpText.endsWith('\n') ? helpText : `${helpText}\n`);
      return 0;
    }
    // (not the callback form here: it renders the whole help text on every run, ~13 ms)
    await parser.parseAsync();
    if (!chosen) return 0;
    const { command, flags } = chosen;
    await executeCommand(command, flags, { io, clients: clients ?? kubeconfigClientFactory(flags, io) });
    return 0;
  } catch (err) {
    const colors = stderrColors(io, chosen?.flags.color ?? !args.includes('--no-color'));
    const verbose = chosen?.flags.verbose ?? 0;
    const usage =
      err instanceof UsageError ? { helpFor: [SCRIPT_NAME, ...err.commandPath].join(' ') } : undefined;
    io.stderr.write(`${colors.red('error:')} ${describeError(err, usage)}\n`);
    if (verbose >= 6 && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
