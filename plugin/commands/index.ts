// Every command, in the order `kubectl liqo --help` lists them.
import type {
  AnyCommandModule,
  CommandGroup,
  OneStepCommandGroup,
  OneStepCommandModule,
} from '../command.js';
import type { CommandIO } from '../io.js';
import { completionCommand } from './completion.js';
import { discoverCommand } from './discover.js';
import { discoveryGroup } from './discovery.js';
import { dnsRegistrationGroup } from './dns-registration.js';
import { idsCommand } from './ids.js';
import { installCommand, uninstallCommand } from './install.js';
import { joinCommand } from './join.js';
import { listCommand } from './list.js';
import { searchDomainGroup } from './search-domain.js';
import { unjoinCommand } from './unjoin.js';
import { versionCommand } from './version.js';

/** TRANSITIONAL: a one-step command runs as complete = its flags, no validate, run(flags, ctx.io). */
function asCommand(c: AnyCommandModule | OneStepCommandModule<never>): AnyCommandModule {
  if ('complete' in c) return c;
  const run = c.run as (flags: unknown, io: CommandIO) => Promise<void>;
  return {
    command: c.command,
    describe: c.describe,
    builder: c.builder,
    complete: (flags) => flags,
    validate: () => undefined,
    run: (flags, ctx) => run(flags, ctx.io),
  };
}

function asEntry(
  e: AnyCommandModule | OneStepCommandModule<never> | CommandGroup | OneStepCommandGroup,
): AnyCommandModule | CommandGroup {
  if ('subcommands' in e) {
    const subcommands: (AnyCommandModule | OneStepCommandModule<never>)[] = e.subcommands;
    return { command: e.command, describe: e.describe, subcommands: subcommands.map(asCommand) };
  }
  return asCommand(e);
}

export const COMMANDS: (AnyCommandModule | CommandGroup)[] = [
  discoverCommand,
  joinCommand,
  unjoinCommand,
  listCommand,
  idsCommand,
  discoveryGroup,
  searchDomainGroup,
  dnsRegistrationGroup,
  installCommand,
  uninstallCommand,
  completionCommand,
  versionCommand,
].map((e) => asEntry(e as Parameters<typeof asEntry>[0]));
