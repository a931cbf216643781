// kubectl liqo dns-registration status | enable | disable: the DNSRegistration object with
// which the discovery agent keeps this cluster's DNS-SD records in a zone (RFC 2136 UPDATE
// signed with TSIG). enable creates or updates it (and, with --tsig-secret-file, the key's
// Secret) and waits for the agent's answer; disable switches it off and waits until the records
// are gone; status shows what the zone holds.
import { readFileSync } from 'node:fs';
import {
  CONDITION_REGISTERED,
  DEFAULT_DNS_TSIG_SECRET,
  DISCOVERY_API_VERSION,
  DISCOVERY_GROUP,
  DNS_REGISTRATION_DEFAULTS,
  KIND_DNS_REGISTRATION,
  TSIG_ALGORITHMS,
  type Condition,
  type DnsRegistration,
  type DnsRegistrationSpec,
} from '../../shared/api/index.js';
import type { LiqoResources } from '../../shared/kube/liqo-resources.js';
import { dnsRegistrationRules, formatFieldError, type FieldError } from '../../shared/rules/index.js';
import { objectNameProblem, OBJECT_NAME_ACCEPTED } from '../../shared/rules/object-name.js';
import type { CommandContext, CommandGroup, CommandModule } from '../command.js';
import {
  dryRunOption,
  dryRunSuffix,
  parseDuration,
  UserError,
  type DryRunMode,
  type GlobalOptions,
} from '../global.js';
import type { CommandIO } from '../io.js';
import { asList, outputOption, printData, resourceName, type OutputFormat } from '../output/print.js';
import { cell, formatTable } from '../output/table.js';

const DEFAULT_WAIT = '30s';
const POLL_MS = 250;

const regName = (name: string | undefined) => resourceName(KIND_DNS_REGISTRATION, DISCOVERY_GROUP, name);

/** A DNSRegistration is named after its zone by default: lower case, no trailing dot. */
export function registrationName(zone: string): string {
  return zone.trim().replace(/\.$/, '').toLowerCase();
}

// ---------------------------------------------------------------------------------- status

export interface DnsRegistrationStatusFlags extends GlobalOptions {
  output?: OutputFormat;
}
export interface DnsRegistrationStatusOptions {
  output: 'table' | 'json' | 'yaml';
}

export function registeredConditionOf(reg: DnsRegistration): Condition | undefined {
  return reg.status?.conditions?.find((c) => c.type === CONDITION_REGISTERED);
}

/** One line per registration for `discovery status` and the end of `dns-registration status`. */
export function describeRegistration(reg: DnsRegistration): string {
  const cond = registeredConditionOf(reg);
  const name = reg.metadata.name ?? '';
  if (reg.spec.enabled === false) return `${name}: disabled (zone ${reg.spec.zone})`;
  if (!cond) return `${name}: not registered yet in zone ${reg.spec.zone} (is the discovery agent running?)`;
  const stale =
    reg.status?.observedGeneration !== undefined &&
    reg.metadata['generation'] !== undefined &&
    reg.status.observedGeneration < (reg.metadata['generation'] as number)
      ? ' (for an older spec; the agent has not acted on the last edit yet)'
      : '';
  return `${name}: ${cond.status === 'True' ? 'registered' : `not registered (${cond.reason ?? 'Unknown'})`}: ${cond.message ?? ''}${stale}`;
}

export const statusCommand: CommandModule<DnsRegistrationStatusFlags, DnsRegistrationStatusOptions> = {
  command: 'status',
  describe: "Show each DNSRegistration: zone, server, whether the zone holds this cluster's records",
  builder: (y) => outputOption(y, ['table', 'json', 'yaml']),
  complete: (flags) => ({ output: (flags.output ?? 'table') as DnsRegistrationStatusOptions['output'] }),
  validate: () => undefined,
  run: runStatus,
};

export async function runStatus(
  opts: DnsRegistrationStatusOptions,
  { io, clients }: CommandContext,
): Promise<void> {
  const resources = await clients.liqo();
  const items = (await resources.dnsRegistrations.list()).sort((a, b) =>
    (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
  if (opts.output !== 'table') return printData(io, opts.output, asList(items));
  if (items.length === 0) {
    io.stderr.write(
      'No DNSRegistrations: this cluster is not registered in any DNS zone (kubectl liqo dns-registration enable --zone ...).\n',
    );
    return;
  }
  printRegistrations(io, items);
}

/** The table, then each registration's condition message and records. */
export function printRegistrations(io: CommandIO, items: DnsRegistration[]): void {
  const rows = items.map((reg) => {
    const cond = registeredConditionOf(reg);
    return [
      cell(reg.metadata.name),
      cell(reg.spec.zone),
      cell(reg.spec.server),
      String(reg.spec.enabled !== false),
      reg.spec.enabled === false ? 'False' : (cond?.status ?? 'Unknown'),
      cell(cond?.reason ?? (reg.spec.enabled === false ? 'Disabled' : 'NotYetSeen')),
      cell(reg.status?.instance ?? reg.spec.instance),
      cell(reg.status?.authUrl ?? reg.spec.authUrl),
    ];
  });
  io.stdout.write(
    formatTable(['NAME', 'ZONE', 'SERVER', 'ENABLED', 'REGISTERED', 'REASON', 'INSTANCE', 'AUTH-URL'], rows),
  );
  for (const reg of items) {
    io.stdout.write(`\n${describeRegistration(reg)}\n`);
    const records = reg.spec.enabled === false ? [] : (reg.status?.records ?? []);
    for (const record of records) io.stdout.write(`  ${record}\n`);
  }
}

// ---------------------------------------------------------------------------------- enable

export interface DnsRegistrationEnableFlags extends GlobalOptions {
  zone?: string;
  server?: string;
  tsigKeyName?: string;
  tsigSecret?: string;
  tsigSecretFile?: string;
  tsigAlgorithm?: string;
  instance?: string;
  authUrl?: string;
  ttl?: number;
  browseDomains?: boolean;
  layouts?: string[];
  refreshInterval?: string;
  name?: string;
  wait?: string;
  dryRun?: DryRunMode;
}

export interface DnsRegistrationEnableOptions {
  name: string;
  /** Whether the name came from --name (for messages). */
  nameGiven: boolean;
  spec: DnsRegistrationSpec;
  /** The TSIG secret (base64) to store in the Secret, from --tsig-secret-file. */
  secretValue?: string;
  /** Where --tsig-secret-file came from, for messages. */
  secretFile?: string;
  waitMs: number;
  dryRun: DryRunMode;
}

/** The key name, algorithm and secret of a file: BIND's `key "n" { algorithm a; secret "s"; };` or the bare secret. */
export function parseTsigKeyFile(text: string): { keyName?: string; algorithm?: string; secret: string } {
  const secret = /secret\s+"([^"]+)"/.exec(text)?.[1];
  if (secret !== undefined) {
    const keyName = /key\s+"?([^"\s{]+)"?\s*\{/.exec(text)?.[1];
    const algorithm = /algorithm\s+"?([A-Za-z0-9.-]+?)\.?"?\s*;/.exec(text)?.[1]?.toLowerCase();
    return { ...(keyName ? { keyName } : {}), ...(algorithm ? { algorithm } : {}), secret };
  }
  return { secret: text.trim() };
}

/** Flags → Options: the DNSRegistration spec, the key from the file, the wait. */
export function completeEnable(flags: DnsRegistrationEnableFlags): DnsRegistrationEnableOptions {
  const zone = flags.zone?.trim() ?? '';
  let keyName = flags.tsigKeyName;
  let algorithm = flags.tsigAlgorithm;
  let secretValue: string | undefined;
  if (flags.tsigSecretFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.tsigSecretFile, 'utf8');
    } catch (err) {
      throw new UserError(
        `--tsig-secret-file: cannot read ${flags.tsigSecretFile}: ${(err as Error).message}`,
      );
    }
    const parsed = parseTsigKeyFile(text);
    keyName ??= parsed.keyName;
    algorithm ??= parsed.algorithm;
    secretValue = parsed.secret;
  }
  const spec: DnsRegistrationSpec = {
    zone,
    server: flags.server?.trim() ?? '',
    tsig: {
      keyName: keyName ?? '',
      ...(algorithm ? { algorithm } : {}),
      secretRef: { name: flags.tsigSecret ?? DEFAULT_DNS_TSIG_SECRET },
    },
    enabled: true,
  };
  if (flags.instance !== undefined) spec.instance = flags.instance;
  if (flags.authUrl !== undefined) spec.authUrl = flags.authUrl;
  if (flags.ttl !== undefined) spec.ttl = flags.ttl;
  if (flags.browseDomains !== undefined) spec.browseDomains = flags.browseDomains;
  if (flags.layouts !== undefined && flags.layouts.length > 0) {
    spec.layouts = flags.layouts
      .flatMap((l) => l.split(','))
      .map((l) => l.trim()) as DnsRegistrationSpec['layouts'];
  }
  if (flags.refreshInterval !== undefined) {
    const ms = parseDuration(flags.refreshInterval, '--refresh-interval') ?? 0;
    spec.refreshIntervalSeconds = Math.round(ms / 1000);
  }
  return {
    name: flags.name ?? registrationName(zone),
    nameGiven: flags.name !== undefined,
    spec,
    ...(secretValue !== undefined ? { secretValue } : {}),
    ...(flags.tsigSecretFile !== undefined ? { secretFile: flags.tsigSecretFile } : {}),
    waitMs: parseDuration(flags.wait ?? DEFAULT_WAIT, '--wait') ?? 0,
    dryRun: flags.dryRun ?? 'none',
  };
}

/** The flag a spec field comes from, so a refusal names what the user typed. */
const FLAG_OF_FIELD: [RegExp, string][] = [
  [/^spec\.zone$/, '--zone'],
  [/^spec\.server$/, '--server'],
  [/^spec\.tsig\.keyName$/, '--tsig-key-name'],
  [/^spec\.tsig\.algorithm$/, '--tsig-algorithm'],
  [/^spec\.tsig\.secretRef\.name$/, '--tsig-secret'],
  [/^spec\.instance$/, '--instance'],
  [/^spec\.authUrl$/, '--auth-url'],
  [/^spec\.ttl$/, '--ttl'],
  [/^spec\.layouts/, '--layouts'],
  [/^spec\.refreshIntervalSeconds$/, '--refresh-interval'],
];

function asFlagError(e: FieldError): string {
  const flag = FLAG_OF_FIELD.find(([pattern]) => pattern.test(e.field))?.[1];
  return formatFieldError(flag ? { ...e, field: `${flag} (${e.field})` } : e);
}

/** The webhook's own rules, before anything is sent; one line naming the flag. */
export function validateEnable(opts: DnsRegistrationEnableOptions): void {
  for (const [flag, value] of [
    ['--zone', opts.spec.zone],
    ['--server', opts.spec.server],
    ['--tsig-key-name', opts.spec.tsig.keyName],
  ] as const) {
    if (!value) {
      throw new UserError(
        `dns-registration enable: ${flag} is required${flag === '--tsig-key-name' ? ' (or a BIND key file with --tsig-secret-file)' : ''}`,
      );
    }
  }
  const nameProblem = objectNameProblem(opts.name);
  if (nameProblem) {
    throw new UserError(
      `dns-registration enable: ${opts.nameGiven ? '--name' : 'the object name made from --zone'} ${JSON.stringify(opts.name)} ${nameProblem} (accepted: ${OBJECT_NAME_ACCEPTED}); choose one with --name`,
    );
  }
  if (opts.secretValue !== undefined) {
    const decoded = Buffer.from(opts.secretValue, 'base64');
    if (
      opts.secretValue === '' ||
      decoded.length === 0 ||
      decoded.toString('base64').replace(/=+$/, '') !== opts.secretValue.replace(/=+$/, '')
    ) {
      throw new UserError(
        `dns-registration enable: --tsig-secret-file ${opts.secretFile ?? ''} holds no base64 secret (accepted: the key file tsig-keygen prints, or the base64 secret alone)`,
      );
    }
  }
  const desired = desiredObject(opts);
  const first = dnsRegistrationRules.validate(dnsRegistrationRules.applyDefaults(desired), undefined)
    .errors[0];
  if (first) throw new UserError(`dns-registration enable: ${asFlagError(first)}`);
}

function desiredObject(opts: DnsRegistrationEnableOptions): DnsRegistration {
  return {
    apiVersion: DISCOVERY_API_VERSION,
    kind: KIND_DNS_REGISTRATION,
    metadata: { name: opts.name },
    spec: opts.spec,
  };
}

export const enableCommand: CommandModule<DnsRegistrationEnableFlags, DnsRegistrationEnableOptions> = {
  command: 'enable',
  describe: "Keep this cluster's records in a DNS zone (creates or updates a DNSRegistration)",
  builder: (y) =>
    dryRunOption(
      y
        .option('zone', { type: 'string', describe: 'The zone, e.g. liqo.example.com (peers search it)' })
        .option('server', { type: 'string', describe: "The zone's primary server, host[:port] (port 53)" })
        .option('tsig-key-name', { type: 'string', describe: 'The TSIG key name the server knows' })
        .option('tsig-secret', {
          type: 'string',
          describe: `Secret in the Liqo namespace holding the key under "secret" (default ${DEFAULT_DNS_TSIG_SECRET})`,
        })
        .option('tsig-secret-file', {
          type: 'string',
          describe:
            'Create/update that Secret from this file: the key file tsig-keygen prints (name and algorithm taken from it) or the base64 secret',
        })
        .option('tsig-algorithm', {
          type: 'string',
          choices: [...TSIG_ALGORITHMS],
          describe: `HMAC algorithm (default ${DNS_REGISTRATION_DEFAULTS.tsigAlgorithm})`,
        })
        .option('instance', { type: 'string', describe: 'Instance label (default: the cluster name)' })
        .option('auth-url', {
          type: 'string',
          describe: 'Auth URL to publish (default: where the agent serves /ids)',
        })
        .option('ttl', {
          type: 'number',
          describe: `Record TTL in seconds (default ${DNS_REGISTRATION_DEFAULTS.ttl})`,
        })
        .option('browse-domains', {
          type: 'boolean',
          describe: 'Also write b._dns-sd._udp / lb._dns-sd._udp browse-domain records',
        })
        .option('layouts', {
          type: 'string',
          array: true,
          describe: 'bare and/or dns-sd (default both)',
        })
        .option('refresh-interval', {
          type: 'string',
          describe: `How often the records are written again (default ${DNS_REGISTRATION_DEFAULTS.refreshIntervalSeconds}s)`,
        })
        .option('name', { type: 'string', describe: 'Object name (default: the zone)' })
        .option('wait', {
          type: 'string',
          default: DEFAULT_WAIT,
          describe: "How long to wait for the agent's answer (0: do not wait)",
        }),
    ),
  complete: (flags) => completeEnable(flags),
  validate: validateEnable,
  run: runEnable,
};

export async function runEnable(
  opts: DnsRegistrationEnableOptions,
  { io, clients }: CommandContext,
): Promise<void> {
  const mode = opts.dryRun;
  const dry = { dryRun: mode === 'server' };
  const resources = await clients.liqo();
  const secretName = opts.spec.tsig.secretRef.name;
  if (mode !== 'client' && (opts.secretValue !== undefined || secretName !== DEFAULT_DNS_TSIG_SECRET)) {
    const writes = await import('../dns-registration/kube-writes.js');
    if (opts.secretValue !== undefined) {
      const where = {
        name: secretName,
        namespace: resources.liqoNamespace,
        key: DNS_REGISTRATION_DEFAULTS.secretKey,
      };
      const verb = await writes.upsertTsigSecret(resources.kubeConfig, where, opts.secretValue, dry.dryRun);
      io.stdout.write(`secret/${secretName} ${verb}${dryRunSuffix(mode)}\n`);
    }
    if (secretName !== DEFAULT_DNS_TSIG_SECRET) {
      const changed = await writes.allowAgentToReadSecret(
        resources.kubeConfig,
        resources.liqoNamespace,
        secretName,
        dry.dryRun,
      );
      if (changed)
        io.stderr.write(
          `The discovery agent may now read Secret ${resources.liqoNamespace}/${secretName}.\n`,
        );
    }
  }
  const existing = await resources.dnsRegistrations.get(opts.name);
  let verb: string;
  let generation: number | undefined;
  if (!existing) {
    const desired = desiredObject(opts);
    if (mode === 'client') dnsRegistrationRules.applyDefaults(desired);
    else
      generation = (await resources.dnsRegistrations.create(desired, dry)).metadata['generation'] as number;
    verb = 'created';
  } else {
    // enable says the whole spec: an optional field not given goes back to its default (null
    // removes it in a merge patch; the webhook fills the default)
    const patch = { spec: { ...UNSET_OPTIONAL, ...opts.spec } };
    const before = JSON.stringify(dnsRegistrationRules.applyDefaults(existing).spec);
    const after = JSON.stringify(dnsRegistrationRules.applyDefaults({ ...existing, spec: opts.spec }).spec);
    if (before === after) {
      verb = 'unchanged';
      generation = existing.metadata['generation'] as number;
    } else {
      if (mode !== 'client') {
        generation = (await resources.dnsRegistrations.patch(opts.name, patch, dry)).metadata[
          'generation'
        ] as number;
      }
      verb = 'configured';
    }
  }
  io.stdout.write(`${regName(opts.name)} ${verb}${dryRunSuffix(mode)}\n`);
  if (mode !== 'none' || opts.waitMs <= 0) return;
  const reg = await waitForAgent(resources, opts.name, generation, opts.waitMs, (r) => {
    const cond = registeredConditionOf(r);
    return cond !== undefined && cond.reason !== 'Disabled';
  });
  if (!reg) {
    throw new UserError(
      `${regName(opts.name)}: no answer from the discovery agent within ${opts.waitMs / 1000}s (is it running? kubectl -n ${resources.liqoNamespace} get pods); see kubectl liqo dns-registration status`,
    );
  }
  const cond = registeredConditionOf(reg);
  if (cond?.status !== 'True') {
    throw new UserError(
      `${regName(opts.name)} not registered (${cond?.reason ?? 'Unknown'}): ${cond?.message ?? ''}`,
    );
  }
  io.stdout.write(`${cond.message ?? 'registered'}\n`);
  for (const record of reg.status?.records ?? []) io.stdout.write(`  ${record}\n`);
}

const UNSET_OPTIONAL = {
  instance: null,
  authUrl: null,
  ttl: null,
  layouts: null,
  browseDomains: null,
  refreshIntervalSeconds: null,
  leaseSeconds: null,
};

/** Polls until the agent has answered for `generation` (observedGeneration) and `done` holds. */
async function waitForAgent(
  resources: LiqoResources,
  name: string,
  generation: number | undefined,
  timeoutMs: number,
  done: (reg: DnsRegistration) => boolean,
): Promise<DnsRegistration | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reg = await resources.dnsRegistrations.get(name);
    if (!reg) return undefined;
    const observed = reg.status?.observedGeneration ?? -1;
    if (observed >= (generation ?? 0) && done(reg)) return reg;
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

// ---------------------------------------------------------------------------------- disable

export interface DnsRegistrationDisableFlags extends GlobalOptions {
  name?: string;
  wait?: string;
  dryRun?: DryRunMode;
}
export interface DnsRegistrationDisableOptions {
  /** One registration, or every one when undefined. */
  name?: string;
  waitMs: number;
  dryRun: DryRunMode;
}

export const disableCommand: CommandModule<DnsRegistrationDisableFlags, DnsRegistrationDisableOptions> = {
  command: 'disable [name]',
  describe:
    "Remove this cluster's records from the zone and keep the DNSRegistration (enabled: false); every one when no name is given",
  builder: (y) =>
    dryRunOption(
      y
        .positional('name', { type: 'string', describe: 'DNSRegistration name (usually the zone)' })
        .option('wait', {
          type: 'string',
          default: DEFAULT_WAIT,
          describe: 'How long to wait until the agent removed the records (0: do not wait)',
        }),
    ),
  complete: (flags) => ({
    ...(flags.name !== undefined ? { name: registrationName(flags.name) } : {}),
    waitMs: parseDuration(flags.wait ?? DEFAULT_WAIT, '--wait') ?? 0,
    dryRun: flags.dryRun ?? 'none',
  }),
  validate: () => undefined,
  run: runDisable,
};

export async function runDisable(
  opts: DnsRegistrationDisableOptions,
  { io, clients }: CommandContext,
): Promise<void> {
  const resources = await clients.liqo();
  const mode = opts.dryRun;
  let targets: DnsRegistration[];
  if (opts.name !== undefined) {
    const one = await resources.dnsRegistrations.get(opts.name);
    if (!one)
      throw new UserError(
        `DNSRegistration "${opts.name}" not found (see kubectl liqo dns-registration status)`,
      );
    targets = [one];
  } else {
    targets = await resources.dnsRegistrations.list();
    if (targets.length === 0) {
      io.stderr.write('No DNSRegistrations: nothing to disable.\n');
      return;
    }
  }
  const waiting: { name: string; generation: number | undefined; zone: string }[] = [];
  for (const reg of targets) {
    const name = reg.metadata.name ?? '';
    if (reg.spec.enabled === false) {
      io.stdout.write(`${regName(name)} unchanged\n`);
      continue;
    }
    let generation = reg.metadata['generation'] as number | undefined;
    if (mode !== 'client') {
      const patched = await resources.dnsRegistrations.patch(
        name,
        { spec: { enabled: false } },
        { dryRun: mode === 'server' },
      );
      generation = patched.metadata['generation'] as number | undefined;
    }
    io.stdout.write(`${regName(name)} disabled${dryRunSuffix(mode)}\n`);
    waiting.push({ name, generation, zone: reg.spec.zone });
  }
  if (mode !== 'none' || opts.waitMs <= 0) return;
  for (const w of waiting) {
    const reg = await waitForAgent(resources, w.name, w.generation, opts.waitMs, (r) => {
      const cond = registeredConditionOf(r);
      return cond?.reason === 'Disabled' || (cond !== undefined && cond.status === 'False');
    });
    const cond = reg && registeredConditionOf(reg);
    if (cond?.reason === 'Disabled') io.stdout.write(`records removed from zone ${w.zone}\n`);
    else if (cond) {
      throw new UserError(
        `${regName(w.name)}: the records could not be removed yet (${cond.reason ?? 'Unknown'}): ${cond.message ?? ''}; the agent keeps trying`,
      );
    } else {
      throw new UserError(
        `${regName(w.name)}: no answer from the discovery agent within ${opts.waitMs / 1000}s (is it running?); the records stay until it acts`,
      );
    }
  }
}

export const dnsRegistrationGroup: CommandGroup = {
  command: 'dns-registration',
  describe: "Keep this cluster's DNS-SD records in a DNS zone by signed DNS UPDATE (DNSRegistration)",
  subcommands: [statusCommand, enableCommand, disableCommand] as CommandGroup['subcommands'],
};

// ------------------------------------------------------------- in `kubectl liqo discovery status`

/** The DNSRegistrations, or undefined when they cannot be read (no CRD, no access). */
export async function readRegistrations(resources: LiqoResources): Promise<DnsRegistration[] | undefined> {
  try {
    return (await resources.dnsRegistrations.list()).sort((a, b) =>
      (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
    );
  } catch {
    return undefined;
  }
}

/** What `discovery status -o json|yaml` says about each registration. */
export function registrationSummaries(items: DnsRegistration[]): Record<string, unknown>[] {
  return items.map((reg) => {
    const cond = registeredConditionOf(reg);
    return {
      name: reg.metadata.name,
      zone: reg.spec.zone,
      server: reg.spec.server,
      enabled: reg.spec.enabled !== false,
      registered: reg.spec.enabled !== false && cond?.status === 'True',
      ...(cond?.reason ? { reason: cond.reason } : {}),
      ...(cond?.message ? { message: cond.message } : {}),
      records: reg.spec.enabled === false ? [] : (reg.status?.records ?? []),
    };
  });
}

/** The lines `discovery status` prints under its table. */
export function registrationLines(items: DnsRegistration[]): string[] {
  if (items.length === 0) {
    return [
      'DNS registration: none (kubectl liqo dns-registration enable --zone ... to publish this cluster)',
    ];
  }
  return ['DNS registration:', ...items.map((reg) => `  ${describeRegistration(reg)}`)];
}
