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
import type { OneStepCommandGroup, OneStepCommandModule } from '../command.js';
import {
  connect,
  dryRunOption,
  dryRunSuffix,
  UserError,
  type DryRunMode,
  type GlobalOptions,
} from '../global.js';
import type { CommandIO } from '../io.js';
import { asList, outputOption, printData, resourceName, type OutputFormat } from '../output/print.js';
import { summarizeSearchDomain } from '../output/status-summary.js';
import { age, cell, formatTable } from '../output/table.js';

export interface SearchDomainAddOptions extends GlobalOptions {
  domain: string;
  autojoin?: boolean;
  name?: string;
  dryRun?: DryRunMode;
  output?: OutputFormat;
}
export interface SearchDomainListOptions extends GlobalOptions {
  output?: OutputFormat;
}
export interface SearchDomainRemoveOptions extends GlobalOptions {
  name: string;
  ignoreNotFound?: boolean;
  dryRun?: DryRunMode;
}

const sdName = (name: string | undefined) => resourceName(KIND_SEARCH_DOMAIN, DISCOVERY_GROUP, name);

/** A SearchDomain is named after its domain: lower case, no trailing dot. */
export function searchDomainName(domain: string): string {
  return domain.trim().replace(/\.$/, '').toLowerCase();
}

const addCommand: OneStepCommandModule<SearchDomainAddOptions> = {
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
  run: runAdd,
};

export async function runAdd(opts: SearchDomainAddOptions, io: CommandIO): Promise<void> {
  const domain = opts.domain.trim();
  if (!domain) throw new UserError('search-domain add: the domain is empty (e.g. example.com)');
  const name = opts.name ?? searchDomainName(domain);
  checkDomainAndName(domain, name, opts.name !== undefined);
  const autojoin = opts.autojoin ?? false;
  const mode = opts.dryRun ?? 'none';
  const dry = { dryRun: mode === 'server' };
  const resources = await connect(opts, io);
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
  const format = opts.output ?? 'table';
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

const listCommand: OneStepCommandModule<SearchDomainListOptions> = {
  command: 'list',
  describe: 'List the SearchDomains and what was last found in each',
  builder: (y) => outputOption(y, ['table', 'wide', 'json', 'yaml', 'name']),
  run: runList,
};

export async function runList(opts: SearchDomainListOptions, io: CommandIO): Promise<void> {
  const resources = await connect(opts, io);
  const items = (await resources.searchDomains.list()).sort((a, b) =>
    (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
  const format = opts.output ?? 'table';
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

const removeCommand: OneStepCommandModule<SearchDomainRemoveOptions> = {
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
  run: runRemove,
};

export async function runRemove(opts: SearchDomainRemoveOptions, io: CommandIO): Promise<void> {
  const resources = await connect(opts, io);
  const mode = opts.dryRun ?? 'none';
  const name = opts.name.trim();
  let existed: boolean;
  if (mode === 'client') existed = (await resources.searchDomains.get(name)) !== undefined;
  else existed = await resources.searchDomains.delete(name, { dryRun: mode === 'server' });
  if (!existed) {
    // the user may have given the domain rather than the object name
    const byDomain = (await resources.searchDomains.list()).find(
      (sd) => searchDomainName(sd.spec?.domain ?? '') === searchDomainName(name),
    );
    if (byDomain?.metadata.name) {
      return runRemove({ ...opts, name: byDomain.metadata.name }, io);
    }
    if (opts.ignoreNotFound) return;
    throw new UserError(`SearchDomain "${name}" not found (see "kubectl liqo search-domain list")`);
  }
  io.stdout.write(`${sdName(name)} deleted${dryRunSuffix(mode)}\n`);
}

export const searchDomainGroup: OneStepCommandGroup = {
  command: 'search-domain',
  describe: 'Manage the DNS domains searched for clusters (SearchDomains)',
  subcommands: [addCommand, listCommand, removeCommand] as OneStepCommandModule<never>[],
};
