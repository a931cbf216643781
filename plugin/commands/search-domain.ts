// kubectl liqo search-domain add <domain> [--autojoin] | list | remove <name>.
import {
  DISCOVERY_API_VERSION,
  DISCOVERY_GROUP,
  KIND_SEARCH_DOMAIN,
  type SearchDomain,
} from '../../shared/api/index.js';
import {
  DNS_DOMAIN_ACCEPTED,
  domainProblem,
  formatFieldError,
  searchDomainRules,
} from '../../shared/rules/index.js';
import {
  objectNameProblem,
  OBJECT_NAME_ACCEPTED,
  suggestObjectName,
} from '../../shared/rules/object-name.js';
import type { CommandContext, CommandGroup, CommandModule } from '../command.js';
import { dryRunOption, dryRunSuffix, UserError, type DryRunMode, type GlobalOptions } from '../global.js';
import { asList, outputOption, printData, resourceName, type OutputFormat } from '../output/print.js';
import { summarizeSearchDomain } from '../output/status-summary.js';
import { age, cell, formatTable } from '../output/table.js';

/** What yargs parses for `search-domain add`. */
export interface SearchDomainAddFlags extends GlobalOptions {
  domain: string;
  autojoin?: boolean;
  name?: string;
  dryRun?: DryRunMode;
  output?: OutputFormat;
}

/** What `search-domain add` runs from. */
export interface SearchDomainAddOptions {
  /** As given, trimmed (spec.domain). */
  domain: string;
  /** The object name: --name, or made from the domain. */
  name: string;
  /** Whether the name came from --name (the refusal then names that flag). */
  nameGiven: boolean;
  autojoin: boolean;
  dryRun: DryRunMode;
  output: OutputFormat;
}

/** What yargs parses for `search-domain list`. */
export interface SearchDomainListFlags extends GlobalOptions {
  output?: OutputFormat;
}

/** What `search-domain list` runs from. */
export interface SearchDomainListOptions {
  output: OutputFormat;
}

/** What yargs parses for `search-domain remove`. */
export interface SearchDomainRemoveFlags extends GlobalOptions {
  name: string;
  ignoreNotFound?: boolean;
  dryRun?: DryRunMode;
}

/** What `search-domain remove` runs from. */
export interface SearchDomainRemoveOptions {
  /** The object name, or the domain (run() then finds the SearchDomain by its domain). */
  name: string;
  ignoreNotFound: boolean;
  dryRun: DryRunMode;
}

const sdName = (name: string | undefined) => resourceName(KIND_SEARCH_DOMAIN, DISCOVERY_GROUP, name);

/** A SearchDomain is named after its domain: lower case, no trailing dot. */
export function searchDomainName(domain: string): string {
  return domain.trim().replace(/\.$/, '').toLowerCase();
}

export const addCommand: CommandModule<SearchDomainAddFlags, SearchDomainAddOptions> = {
  command: 'add <domain>',
  describe: 'Search a DNS domain for clusters (creates a SearchDomain)',
  builder: (y) =>
    outputOption(
      dryRunOption(
        y
          .positional('domain', {
            type: 'string',
            describe: 'DNS domain, e.g. example.com',
            demandOption: true,
          })
          .option('autojoin', { type: 'boolean', default: false, describe: 'Join the clusters found there' })
          .option('name', { type: 'string', describe: 'Object name (default: the domain)' }),
      ),
      ['table', 'json', 'yaml', 'name'],
    ),
  complete: completeAdd,
  validate: validateAdd,
  run: runAdd,
};

export function completeAdd(flags: SearchDomainAddFlags): SearchDomainAddOptions {
  const domain = String(flags.domain ?? '').trim();
  return {
    domain,
    name: flags.name ?? searchDomainName(domain),
    nameGiven: flags.name !== undefined,
    autojoin: flags.autojoin ?? false,
    dryRun: flags.dryRun ?? 'none',
    output: flags.output ?? 'table',
  };
}

export function validateAdd(opts: SearchDomainAddOptions): void {
  if (!opts.domain) throw new UserError('search-domain add: the domain is empty (e.g. example.com)');
  checkDomainAndName(opts.domain, opts.name, opts.nameGiven);
}

export async function runAdd(opts: SearchDomainAddOptions, { io, clients }: CommandContext): Promise<void> {
  const { domain, name, autojoin } = opts;
  const mode = opts.dryRun;
  const dry = { dryRun: mode === 'server' };
  const resources = await clients.liqo();
  const existing = await resources.searchDomains.get(name);
  let result: SearchDomain;
  let verb: string;
  if (!existing) {
    const desired: SearchDomain = {
      apiVersion: DISCOVERY_API_VERSION,
      kind: KIND_SEARCH_DOMAIN,
      metadata: { name },
      spec: { domain, autojoin },
    };
    result =
      mode === 'client' ? checkClientSide(desired) : await resources.searchDomains.create(desired, dry);
    verb = 'created';
  } else if (existing.spec?.domain === domain && (existing.spec?.autojoin ?? false) === autojoin) {
    result = existing;
    verb = 'unchanged';
  } else {
    const patch = { spec: { domain, autojoin } };
    result =
      mode === 'client'
        ? { ...existing, spec: { ...existing.spec, ...patch.spec } }
        : await resources.searchDomains.patch(name, patch, dry);
    verb = 'configured';
  }
  const format = opts.output;
  if (format === 'json' || format === 'yaml') return printData(io, format, result);
  io.stdout.write(format === 'name' ? `${sdName(name)}\n` : `${sdName(name)} ${verb}${dryRunSuffix(mode)}\n`);
}

/**
 * Before anything is sent: the domain by the webhook's rule, and the object name by the API
 * server's, each refusal one line naming the field and what is accepted (the API server's own
 * message for a bad name is a 400-character regular expression).
 */
function checkDomainAndName(domain: string, name: string, nameGiven: boolean): void {
  const problem = domainProblem(domain);
  if (problem) {
    throw new UserError(
      `search-domain add: ${formatFieldError({
        field: 'spec.domain',
        message: `${JSON.stringify(domain)} ${problem}`,
        accepted: DNS_DOMAIN_ACCEPTED,
      })}`,
    );
  }
  const nameProblem = objectNameProblem(name);
  if (!nameProblem) return;
  const refusal = formatFieldError({
    field: nameGiven ? '--name' : 'metadata.name',
    message: `${JSON.stringify(name)}${nameGiven ? '' : ' (made from the domain)'} ${nameProblem}`,
    accepted: OBJECT_NAME_ACCEPTED,
  });
  const suggestion = nameGiven ? undefined : suggestObjectName(name);
  throw new UserError(
    `search-domain add: ${refusal}${nameGiven ? '' : `; choose one with --name${suggestion ? `, e.g. --name ${suggestion}` : ''}`}`,
  );
}

/** --dry-run=client: the webhook's own rules for a single object, run here. */
function checkClientSide(sd: SearchDomain): SearchDomain {
  const defaulted = searchDomainRules.applyDefaults(sd);
  const first = searchDomainRules.validate(defaulted, undefined).errors[0];
  if (first)
    throw new UserError(`SearchDomain "${sd.metadata.name}" would be refused: ${formatFieldError(first)}`);
  return defaulted;
}

export const listCommand: CommandModule<SearchDomainListFlags, SearchDomainListOptions> = {
  command: 'list',
  describe: 'List the SearchDomains and what was last found in each',
  builder: (y) => outputOption(y, ['table', 'wide', 'json', 'yaml', 'name']),
  complete: (flags) => ({ output: flags.output ?? 'table' }),
  validate: () => undefined, // yargs' choices already bound -o
  run: runList,
};

export async function runList(opts: SearchDomainListOptions, { io, clients }: CommandContext): Promise<void> {
  const resources = await clients.liqo();
  const items = (await resources.searchDomains.list()).sort((a, b) =>
    (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
  const format = opts.output;
  if (format === 'json' || format === 'yaml') return printData(io, format, asList(items));
  if (format === 'name') {
    for (const sd of items) io.stdout.write(`${sdName(sd.metadata.name)}\n`);
    return;
  }
  if (items.length === 0) {
    io.stderr.write('No SearchDomains found.\n');
    return;
  }
  // ERROR is free text of any length, so it stays the last column
  const headers = ['NAME', 'DOMAIN', 'AUTOJOIN', 'CLUSTERS', 'LAST-RESOLVED'];
  if (format === 'wide') headers.push('AGE');
  headers.push('ERROR');
  const rows = items.map((sd) => {
    const summary = summarizeSearchDomain(sd);
    const row = [
      cell(sd.metadata.name),
      cell(sd.spec?.domain),
      String(sd.spec?.autojoin === true),
      cell(summary.found),
      sd.status?.lastResolved ? `${age(sd.status.lastResolved)} ago` : '<never>',
    ];
    if (format === 'wide') row.push(age(sd.metadata.creationTimestamp));
    row.push(cell(summary.error));
    return row;
  });
  io.stdout.write(formatTable(headers, rows));
}

export const removeCommand: CommandModule<SearchDomainRemoveFlags, SearchDomainRemoveOptions> = {
  command: 'remove <name>',
  describe: 'Stop searching a domain (deletes the SearchDomain; WAN ForeignClusters it owns go with it)',
  builder: (y) =>
    dryRunOption(
      y
        .positional('name', {
          type: 'string',
          describe: 'SearchDomain name (usually the domain)',
          demandOption: true,
        })
        .option('ignore-not-found', {
          type: 'boolean',
          default: false,
          describe: 'Succeed when it does not exist',
        }),
    ),
  complete: completeRemove,
  validate: validateRemove,
  run: runRemove,
};

export function completeRemove(flags: SearchDomainRemoveFlags): SearchDomainRemoveOptions {
  return {
    name: String(flags.name ?? '').trim(),
    ignoreNotFound: flags.ignoreNotFound ?? false,
    dryRun: flags.dryRun ?? 'none',
  };
}

/** Any name may exist (run() says when none does); an empty one would address no object. */
export function validateRemove(opts: SearchDomainRemoveOptions): void {
  if (!opts.name) {
    throw new UserError('search-domain remove: the name is empty (see "kubectl liqo search-domain list")');
  }
}

export async function runRemove(
  opts: SearchDomainRemoveOptions,
  { io, clients }: CommandContext,
): Promise<void> {
  const resources = await clients.liqo();
  const mode = opts.dryRun;
  const name = opts.name;
  let existed: boolean;
  if (mode === 'client') existed = (await resources.searchDomains.get(name)) !== undefined;
  else existed = await resources.searchDomains.delete(name, { dryRun: mode === 'server' });
  if (!existed) {
    // the user may have given the domain rather than the object name
    const byDomain = (await resources.searchDomains.list()).find(
      (sd) => searchDomainName(sd.spec?.domain ?? '') === searchDomainName(name),
    );
    if (byDomain?.metadata.name) {
      return runRemove({ ...opts, name: byDomain.metadata.name }, { io, clients });
    }
    if (opts.ignoreNotFound) return;
    throw new UserError(`SearchDomain "${name}" not found (see "kubectl liqo search-domain list")`);
  }
  io.stdout.write(`${sdName(name)} deleted${dryRunSuffix(mode)}\n`);
}

export const searchDomainGroup: CommandGroup = {
  command: 'search-domain',
  describe: 'Manage the DNS domains searched for clusters (SearchDomains)',
  subcommands: [addCommand, listCommand, removeCommand],
};
