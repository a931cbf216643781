// kubectl liqo discovery status | enable | disable, one step at a time: complete and validate
// from flag objects, run against the in-memory LiqoResources (test/helpers/memory-liqo-resources.ts;
// the same commands run against a real kube-apiserver with the webhook in test/e2e/plugin.test.ts).
import assert from 'node:assert/strict';
import { CLUSTER_CONFIG_NAME } from '../../shared/api/constants.js';
import {
  completeSwitch,
  runStatus,
  runSwitch,
  statusCommand,
  switchCommand,
  type DiscoverySwitchOptions,
} from '../../plugin/commands/discovery.js';
import { captureIO } from '../../plugin/io.js';
import {
  clusterConfigFixture,
  memoryClients,
  noKubeconfigClients,
} from '../helpers/memory-liqo-resources.js';

const CC_NAME = 'clusterconfig.config.liqo.io/liqo-configuration';

function withClusterConfig(discoveryConfig?: Record<string, unknown>) {
  const clients = memoryClients();
  if (discoveryConfig) clients.resources.clusterConfigs.seed(clusterConfigFixture(discoveryConfig));
  return clients;
}

async function status(output: 'table' | 'json' | 'yaml', clients = withClusterConfig()) {
  const c = captureIO();
  await runStatus({ output }, { io: c.io, clients });
  return { stdout: c.stdout(), stderr: c.stderr() };
}

async function setSwitches(opts: DiscoverySwitchOptions, clients = withClusterConfig()) {
  const c = captureIO();
  await runSwitch(opts, { io: c.io, clients });
  return { stdout: c.stdout(), stderr: c.stderr(), resources: clients.resources };
}

describe('plugin discovery (unit)', () => {
  describe('status: complete and validate', () => {
    it('-o defaults to table and anything yargs let through is valid', () => {
      const c = captureIO();
      const ctx = { io: c.io, clients: noKubeconfigClients() };
      assert.deepEqual(statusCommand.complete({}, ctx), { output: 'table' });
      assert.deepEqual(statusCommand.complete({ output: 'yaml', verbose: 1 }, ctx), { output: 'yaml' });
      assert.doesNotThrow(() => statusCommand.validate({ output: 'json' }));
    });
  });

  describe('status: run', () => {
    it('shows the ClusterConfig, with defaults for what it does not say', async () => {
      const r = await status('table', withClusterConfig({ enableDiscovery: false, ttl: 60 }));
      const [header, row] = r.stdout.trimEnd().split('\n');
      assert.match(
        header ?? '',
        /^LAN-DISCOVERY\s+ADVERTISEMENT\s+SERVICE\s+DOMAIN\s+TTL\s+AUTOJOIN\s+AUTOJOIN-UNTRUSTED$/,
      );
      assert.match(row ?? '', /^disabled\s+enabled\s+\S+\s+\S+\s+60s\s+(true|false)\s+(true|false)$/);
      assert.equal(r.stderr, '');
    });

    it('without a ClusterConfig: the defaults, and a note on stderr', async () => {
      const r = await status('table');
      assert.match(r.stdout.split('\n')[1] ?? '', /^enabled\s+enabled\s/);
      assert.equal(r.stderr, 'ClusterConfig liqo-configuration not found: showing the defaults.\n');
    });

    it('-o json says whether the ClusterConfig was found, and nothing on stderr', async () => {
      const r = await status('json', withClusterConfig({ enableAdvertisement: false }));
      const doc = JSON.parse(r.stdout) as {
        clusterConfigFound: boolean;
        discoveryConfig: Record<string, unknown>;
      };
      assert.equal(doc.clusterConfigFound, true);
      assert.equal(doc.discoveryConfig.enableAdvertisement, false);
      assert.equal(doc.discoveryConfig.enableDiscovery, true);
      assert.equal(
        (JSON.parse((await status('json')).stdout) as { clusterConfigFound: boolean }).clusterConfigFound,
        false,
      );
    });

    it('without a kubeconfig: the factory says so, nothing else happens', async () => {
      const c = captureIO();
      await assert.rejects(runStatus({ output: 'table' }, { io: c.io, clients: noKubeconfigClients() }), {
        name: 'UserError',
        message: /^no kubeconfig/,
      });
      assert.equal(c.stdout(), '');
    });
  });

  describe('enable/disable: complete', () => {
    it('no flag: both switches', () => {
      assert.deepEqual(completeSwitch(true, {}), {
        patch: { enableDiscovery: true, enableAdvertisement: true },
        dryRun: 'none',
      });
      assert.deepEqual(completeSwitch(false, {}).patch, {
        enableDiscovery: false,
        enableAdvertisement: false,
      });
    });

    it('a flag names the one switch; --dry-run is kept', () => {
      assert.deepEqual(completeSwitch(false, { lanDiscovery: true, dryRun: 'server' }), {
        patch: { enableDiscovery: false },
        dryRun: 'server',
      });
      assert.deepEqual(completeSwitch(true, { advertisement: true }).patch, { enableAdvertisement: true });
      assert.deepEqual(completeSwitch(true, { advertisement: true, lanDiscovery: true }).patch, {
        enableDiscovery: true,
        enableAdvertisement: true,
      });
    });

    it('the command module completes as completeSwitch does, and validates anything', () => {
      const c = captureIO();
      const disable = switchCommand(false);
      assert.equal(disable.command, 'disable');
      const options = disable.complete({ advertisement: true }, { io: c.io, clients: noKubeconfigClients() });
      assert.deepEqual(options, { patch: { enableAdvertisement: false }, dryRun: 'none' });
      assert.doesNotThrow(() => disable.validate(options as DiscoverySwitchOptions));
    });
  });

  describe('enable/disable: run', () => {
    it('patches only the switches that differ from the ClusterConfig', async () => {
      const r = await setSwitches(
        { patch: { enableDiscovery: false, enableAdvertisement: false }, dryRun: 'none' },
        withClusterConfig({ enableDiscovery: true, enableAdvertisement: true, ttl: 90 }),
      );
      assert.equal(r.stdout, `${CC_NAME} patched\n`);
      assert.deepEqual(
        r.resources.writes().map((w) => [w.verb, w.name, w.body]),
        [
          [
            'patch',
            CLUSTER_CONFIG_NAME,
            { spec: { discoveryConfig: { enableDiscovery: false, enableAdvertisement: false } } },
          ],
        ],
      );
      assert.deepEqual(r.resources.clusterConfigs.stored(CLUSTER_CONFIG_NAME)?.spec?.discoveryConfig, {
        enableDiscovery: false,
        enableAdvertisement: false,
        ttl: 90,
      });
    });

    it('unchanged when the ClusterConfig already says so: nothing is written', async () => {
      const r = await setSwitches(
        { patch: { enableDiscovery: false }, dryRun: 'none' },
        withClusterConfig({ enableDiscovery: false, enableAdvertisement: true }),
      );
      assert.equal(r.stdout, `${CC_NAME} unchanged\n`);
      assert.deepEqual(r.resources.writes(), []);
    });

    it('creates the ClusterConfig with just the switches when there is none', async () => {
      const r = await setSwitches({ patch: { enableAdvertisement: false }, dryRun: 'none' });
      assert.equal(r.stdout, `${CC_NAME} created\n`);
      assert.deepEqual(r.resources.clusterConfigs.stored(CLUSTER_CONFIG_NAME)?.spec, {
        discoveryConfig: { enableAdvertisement: false },
      });
    });

    it('--dry-run=client sends nothing; --dry-run=server sends a dry run', async () => {
      const client = await setSwitches({ patch: { enableDiscovery: true }, dryRun: 'client' });
      assert.equal(client.stdout, `${CC_NAME} created (dry run)\n`);
      assert.deepEqual(
        client.resources.requests.filter((q) => q.verb !== 'get'),
        [],
      );
      const server = await setSwitches(
        { patch: { enableDiscovery: true }, dryRun: 'server' },
        withClusterConfig({ enableDiscovery: false }),
      );
      assert.equal(server.stdout, `${CC_NAME} patched (server dry run)\n`);
      assert.deepEqual(
        server.resources.requests.filter((q) => q.verb === 'patch').map((q) => q.dryRun),
        [true],
      );
      assert.equal(
        server.resources.clusterConfigs.stored(CLUSTER_CONFIG_NAME)?.spec?.discoveryConfig?.enableDiscovery,
        false,
      );
    });
  });
});
