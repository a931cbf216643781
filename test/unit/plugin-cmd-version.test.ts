// kubectl liqo version, one step at a time. run's reading of the deployed webhook and agent
// versions needs the apps/admission/coordination APIs, which the in-memory LiqoResources does
// not have: that part runs against a real kube-apiserver in test/e2e/plugin.test.ts (and in
// test/e2e/sandbox.test.ts); here, what run does with whatever the cluster could say.
import assert from 'node:assert/strict';
import {
  CLIENT_VERSION,
  complete,
  run,
  validate,
  type VersionOptions,
} from '../../plugin/commands/version.js';
import { captureIO } from '../../plugin/io.js';
import { memoryClients, noKubeconfigClients } from '../helpers/memory-liqo-resources.js';
import type { ClientFactory } from '../../plugin/command.js';

async function version(o: VersionOptions, clients: ClientFactory) {
  const c = captureIO();
  await run(o, { io: c.io, clients });
  return { stdout: c.stdout(), stderr: c.stderr() };
}

describe('plugin version (unit)', () => {
  describe('complete', () => {
    it('asks the cluster and prints a table unless told otherwise', () => {
      assert.deepEqual(complete({}), { client: false, output: 'table' });
      assert.deepEqual(complete({ client: true, output: 'json' }), { client: true, output: 'json' });
    });
  });

  describe('validate', () => {
    it('has nothing left to refuse', () => {
      validate({ client: true, output: 'yaml' });
    });
  });

  describe('run', () => {
    it('--client: only the client version, and no client is asked for', async () => {
      const clients = memoryClients();
      const r = await version({ client: true, output: 'table' }, clients);
      assert.equal(r.stdout, `Client Version: ${CLIENT_VERSION}\n`);
      assert.equal(r.stderr, '');
      assert.equal(clients.connections, 0);
    });

    it('without a kubeconfig: "unknown" for both servers and why, on stderr, not a failure', async () => {
      const r = await version({ client: false, output: 'table' }, noKubeconfigClients());
      assert.equal(
        r.stdout,
        `Client Version: ${CLIENT_VERSION}\nWebhook Version: unknown\nAgent Version: unknown\n`,
      );
      assert.equal(
        r.stderr,
        'server versions unknown: no kubeconfig (set KUBECONFIG or pass --kubeconfig)\n',
      );
    });

    it('a cluster that cannot be read: still exit 0, with the reason as serverError in -o json', async () => {
      const clients = memoryClients();
      const r = await version({ client: false, output: 'json' }, clients);
      const report = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.deepEqual(report.clientVersion, {
        version: CLIENT_VERSION,
        nodeVersion: process.version,
        platform: `${process.platform}/${process.arch}`,
      });
      assert.equal(report.webhookVersion, undefined);
      assert.match(String(report.serverError), /no KubeConfig/);
      assert.equal(clients.connections, 1);
    });
  });
});
