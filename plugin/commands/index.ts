// Every command, in the order `kubectl liqo --help` lists them.
import type { CommandGroup, CommandModule } from '../command.js';
import { completionCommand } from './completion.js';
import { discoveryGroup } from './discovery.js';
import { listCommand } from './list.js';
import { searchDomainGroup } from './search-domain.js';
import { unjoinCommand } from './unjoin.js';
import { versionCommand } from './version.js';

export const COMMANDS: (CommandModule<never> | CommandGroup)[] = [
  listCommand,
  unjoinCommand,
  discoveryGroup,
  searchDomainGroup,
  completionCommand,
  versionCommand,
] as (CommandModule<never> | CommandGroup)[];
