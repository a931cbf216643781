// kubectl liqo discovery status | enable | disable: ClusterConfig's LAN discovery switches,
// the guide's `kubectl patch clusterconfigs liqo-configuration ...` in one word.
import {
  CLUSTER_CONFIG_NAME,
  CONFIG_API_VERSION,
  CONFIG_GROUP,
  DISCOVERY_CONFIG_DEFAULTS,
  KIND_CLUSTER_CONFIG,
  type ClusterConfig,
  type DiscoveryConfig,
} from '../../shared/api/index.js';
import type { CommandContext, CommandGroup, CommandModule } from '../command.js';
import { dryRunOption, dryRunSuffix, type DryRunMode, type GlobalOptions } from '../global.js';
import { outputOption, printData, resourceName, type OutputFormat } from '../output/print.js';
import { formatTable } from '../output/table.js';

/** What yargs parses for `discovery status`. */
export interface DiscoveryStatusFlags extends GlobalOptions {
  output?: OutputFormat;
}

/** What `discovery status` runs from. */
export interface DiscoveryStatusOptions {
  output: OutputFormat;
}

/** What yargs parses for `discovery enable|disable`. */
export interface DiscoverySwitchFlags extends GlobalOptions {
  lanDiscovery?: boolean;
  advertisement?: boolean;
  dryRun?: DryRunMode;
}

/** What `discovery enable|disable` runs from: the switches to set, already chosen. */
export interface DiscoverySwitchOptions {
  /** The discoveryConfig fields to write (both switches when no flag names one). */
  patch: Pick<DiscoveryConfig, 'enableDiscovery' | 'enableAdvertisement'>;
  dryRun: DryRunMode;
}

/** The effective settings: what the ClusterConfig says, defaults where it says nothing. */
export function effectiveDiscoveryConfig(
  cc: ClusterConfig | undefined,
): Required<
  Pick<DiscoveryConfig, 'enableDiscovery' | 'enableAdvertisement' | 'authService' | 'domain' | 'ttl'>
> &
  DiscoveryConfig {
  return { ...DISCOVERY_CONFIG_DEFAULTS, ...(cc?.spec?.discoveryConfig ?? {}) } as ReturnType<
    typeof effectiveDiscoveryConfig
  >;
}

export const statusCommand: CommandModule<DiscoveryStatusFlags, DiscoveryStatusOptions> = {
  command: 'status',
  describe: 'Show whether LAN discovery and advertisement are enabled',
  builder: (y) => outputOption(y, ['table', 'json', 'yaml']),
  complete: (flags) => ({ output: flags.output ?? 'table' }),
  validate: () => undefined, // yargs' choices already bound -o
  run: runStatus,
};

export async function runStatus(
  opts: DiscoveryStatusOptions,
  { io, clients }: CommandContext,
): Promise<void> {
  const resources = await clients.liqo();
  const cc = await resources.getClusterConfig();
  const effective = effectiveDiscoveryConfig(cc);
  const format = opts.output;
  // KEP-2149: the cluster-id ConfigMap against ClusterProperty cluster.clusterset.k8s.io (unreadable: left out)
  const { readClusterIdReport, clusterIdLines } = await import('../install/cluster-property.js');
  const ids = await readClusterIdReport(resources).catch(() => undefined);
  const dns = await import('./dns-registration.js');
  const registrations = await dns.readRegistrations(resources);
  if (format === 'json' || format === 'yaml') {
    return printData(io, format, {
      clusterConfigFound: cc !== undefined,
      discoveryConfig: effective,
      ...(ids ? { clusterId: ids } : {}),
      ...(registrations ? { dnsRegistrations: dns.registrationSummaries(registrations) } : {}),
    });
  }
  if (!cc) io.stderr.write(`ClusterConfig ${CLUSTER_CONFIG_NAME} not found: showing the defaults.\n`);
  io.stdout.write(
    formatTable(
      ['LAN-DISCOVERY', 'ADVERTISEMENT', 'SERVICE', 'DOMAIN', 'TTL', 'AUTOJOIN', 'AUTOJOIN-UNTRUSTED'],
      [
        [
          onOff(effective.enableDiscovery),
          onOff(effective.enableAdvertisement),
          effective.authService,
          effective.domain,
          `${effective.ttl}s`,
          String(effective.autojoin ?? DISCOVERY_CONFIG_DEFAULTS.autojoin),
          String(effective.autojoinUntrusted ?? DISCOVERY_CONFIG_DEFAULTS.autojoinUntrusted),
        ],
      ],
    ),
  );
  for (const line of clusterIdLines(ids, resources.liqoNamespace)) io.stdout.write(`${line}\n`);
  for (const line of registrations ? dns.registrationLines(registrations) : []) io.stdout.write(`${line}\n`);
}

function onOff(v: boolean | undefined): string {
  return v === false ? 'disabled' : 'enabled';
}

/** `discovery enable` (enable = true) or `discovery disable`. */
export function switchCommand(enable: boolean): CommandModule<DiscoverySwitchFlags, DiscoverySwitchOptions> {
  const word = enable ? 'enable' : 'disable';
  return {
    command: word,
    describe: `${enable ? 'Enable' : 'Disable'} LAN discovery and/or advertisement (both when no flag is given)`,
    builder: (y) =>
      dryRunOption(
        y
          .option('lan-discovery', { type: 'boolean', describe: `${word} LAN discovery (enableDiscovery)` })
          .option('advertisement', {
            type: 'boolean',
            describe: `${word} mDNS advertisement (enableAdvertisement)`,
          }),
      ),
    complete: (flags) => completeSwitch(enable, flags),
    validate: () => undefined, // every combination of the two switches means something
    run: runSwitch,
  };
}

export function completeSwitch(enable: boolean, flags: DiscoverySwitchFlags): DiscoverySwitchOptions {
  const both = !flags.lanDiscovery && !flags.advertisement;
  const patch: DiscoverySwitchOptions['patch'] = {};
  if (both || flags.lanDiscovery) patch.enableDiscovery = enable;
  if (both || flags.advertisement) patch.enableAdvertisement = enable;
  return { patch, dryRun: flags.dryRun ?? 'none' };
}

export async function runSwitch(
  opts: DiscoverySwitchOptions,
  { io, clients }: CommandContext,
): Promise<void> {
  const patch: DiscoveryConfig = { ...opts.patch };
  const resources = await clients.liqo();
  const mode = opts.dryRun;
  const dry = { dryRun: mode === 'server' };
  const name = resourceName(KIND_CLUSTER_CONFIG, CONFIG_GROUP, CLUSTER_CONFIG_NAME);
  const cc = await resources.getClusterConfig();
  if (!cc) {
    // No ClusterConfig yet (our install does not create one): make it; the webhook fills the rest.
    const created: ClusterConfig = {
      apiVersion: CONFIG_API_VERSION,
      kind: KIND_CLUSTER_CONFIG,
      metadata: { name: CLUSTER_CONFIG_NAME },
      spec: { discoveryConfig: patch },
    };
    if (mode !== 'client') await resources.clusterConfigs.create(created, dry);
    io.stdout.write(`${name} created${dryRunSuffix(mode)}\n`);
    return;
  }
  const current = cc.spec?.discoveryConfig ?? {};
  const changed = Object.entries(patch).some(([k, v]) => current[k] !== v);
  if (!changed) {
    io.stdout.write(`${name} unchanged\n`);
    return;
  }
  if (mode !== 'client') {
    await resources.clusterConfigs.patch(CLUSTER_CONFIG_NAME, { spec: { discoveryConfig: patch } }, dry);
  }
  io.stdout.write(`${name} patched${dryRunSuffix(mode)}\n`);
}

export const discoveryGroup: CommandGroup = {
  command: 'discovery',
  describe: 'Show or switch LAN discovery and advertisement (ClusterConfig)',
  subcommands: [statusCommand, switchCommand(true), switchCommand(false)],
};
