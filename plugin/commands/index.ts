// Every command, in the order `kubectl liqo --help` lists them.
import type { AnyCommandModule, CommandGroup } from '../command.js';
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
];
