// The shape every plugin/commands/<name>.ts exports: kubectl's Options → Complete → Validate →
// Run (kubectl/pkg/cmd/*). yargs only declares and parses the flags; complete() turns the
// parsed flags into the command's own Options (plain data: defaults applied, durations and
// choices parsed), validate() checks those Options without side effects, and run() does the
// work with the IO streams and the ClientFactory it is given (kubectl's IOStreams and
// cmdutil.Factory). plugin/main.ts calls the three in that order. So each step is testable
// alone — complete and validate with a flag object, run with a ClientFactory whose liqo()
// returns an in-memory LiqoResources — and no flag reaches the logic.
import type { Argv } from 'yargs';
import type { LiqoResources } from '../shared/kube/liqo-resources.js';
import type { GlobalOptions } from './global.js';
import type { CommandIO } from './io.js';

/** What a command asks of the cluster connection beyond the global flags. */
export interface LiqoClientRequest {
  /** The bound on each API request when the user gave no --request-timeout (discover's --timeout). */
  defaultRequestTimeoutMs?: number;
}

/** kubectl's cmdutil.Factory: the only way a command gets a client. */
export interface ClientFactory {
  /**
   * Whether liqo() has a configuration to load, decided without loading the client library
   * (commands that also work without a cluster ask this first).
   */
  hasKubeconfig(): boolean;
  /** The typed client for our CRDs, connected on first use (the kubeconfig is loaded lazily). */
  liqo(request?: LiqoClientRequest): Promise<LiqoResources>;
}

/** What run() (and a complete() that needs cluster facts) works with. */
export interface CommandContext {
  io: CommandIO;
  clients: ClientFactory;
}

/**
 * One command. `F` is what yargs parses (the global flags plus the command's own), `O` the
 * completed Options run() works from. Written as methods so that main can hold commands of
 * different `F`/`O` in one table (see AnyCommandModule).
 */
export interface CommandModule<F extends GlobalOptions = GlobalOptions, O = unknown> {
  /** yargs command string, e.g. "join <target>". */
  command: string;
  describe: string;
  /** Flags only. The result type depends on the options it adds; main only needs an Argv back. */
  builder: (y: Argv<GlobalOptions>) => Argv<unknown>;
  /**
   * Flags → Options: defaults, parsed durations and choices, the environment. No API calls
   * unless the command needs cluster facts to complete (then through ctx.clients).
   */
  complete(flags: F, ctx: CommandContext): O | Promise<O>;
  /** A pure check of the completed Options; throws a UserError naming the flag and what would work. */
  validate(options: O): void;
  /** The work, with the injected streams and clients. Never sees yargs flags. */
  run(options: O, ctx: CommandContext): Promise<void>;
}

/** Any command, as main's table holds it. */
export type AnyCommandModule = CommandModule<GlobalOptions, unknown>;

/** A command with sub-commands (e.g. `discovery status|enable|disable`). */
export interface CommandGroup {
  command: string;
  describe: string;
  subcommands: AnyCommandModule[];
}

/** Complete → Validate → Run, as main does it (and as a test that wants the whole command can). */
export async function executeCommand<F extends GlobalOptions, O>(
  command: CommandModule<F, O>,
  flags: F,
  ctx: CommandContext,
): Promise<void> {
  const options = await command.complete(flags, ctx);
  command.validate(options);
  await command.run(options, ctx);
}
