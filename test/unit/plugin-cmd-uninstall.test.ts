// kubectl liqo uninstall, one step at a time: complete from flag objects, and run's plan — which
// objects go, in which order — through --dry-run=client, which asks for no client. The manifest
// is rendered from manifests/ as the build does. The deletes themselves (a real API server, the
// webhook configurations gone before anything else, "already gone" skipped) are in
// test/e2e/plugin-install.test.ts and test/cluster/install.test.ts.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  completeUninstall,
  runUninstall,
  uninstallCommand,
  type UninstallOptions,
} from '../../plugin/commands/install.js';
import { captureIO } from '../../plugin/io.js';
import { describeObject, type ManifestObject } from '../../plugin/install/objects.js';
import { parseManifest } from '../../plugin/install/release.js';
import { REPO_ROOT } from '../../scripts/bundles.mjs';
import { renderReleaseManifest } from '../../scripts/release-manifest.mjs';
import { memoryClients, noKubeconfigClients } from '../helpers/memory-liqo-resources.js';

let release: ManifestObject[];

const options = (o: Partial<UninstallOptions> = {}): UninstallOptions => ({
  dryRun: 'client',
  deleteCrds: false,
  deleteNamespace: false,
  manifest: release,
  ...o,
});

/** run() with --dry-run=client: the objects it would delete, in order. */
async function plannedDeletes(o: Partial<UninstallOptions> = {}): Promise<string[]> {
  const clients = memoryClients();
  const c = captureIO();
  await runUninstall(options(o), { io: c.io, clients });
  assert.equal(clients.connections, 0, 'a client dry run asks for no client');
  const lines = c.stdout().trimEnd().split('\n');
  for (const line of lines) assert.match(line, / deleted \(dry run\)$/);
  return lines.map((l) => l.replace(/ deleted \(dry run\)$/, ''));
}

const named = (pred: (o: ManifestObject) => boolean) => release.filter(pred).map(describeObject);

describe('plugin uninstall (unit)', () => {
  before(async () => {
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    release = await parseManifest(await renderReleaseManifest(REPO_ROOT, version));
  });

  describe('complete and validate', () => {
    it('CRDs and namespace stay unless asked; a real delete by default', async () => {
      const fromRelease = () => Promise.resolve(release);
      assert.deepEqual(await completeUninstall({}, fromRelease), options({ dryRun: 'none' }));
      assert.deepEqual(
        await completeUninstall(
          { deleteCrds: true, deleteNamespace: true, dryRun: 'server', verbose: 1 },
          fromRelease,
        ),
        options({ dryRun: 'server', deleteCrds: true, deleteNamespace: true }),
      );
      assert.doesNotThrow(() => uninstallCommand.validate(options({ deleteNamespace: true })));
    });

    it('the command module loads the manifest embedded by the build: from source there is none, said in one line', async () => {
      const c = captureIO();
      await assert.rejects(
        Promise.resolve(uninstallCommand.complete({}, { io: c.io, clients: noKubeconfigClients() })),
        { name: 'UserError', message: /^this copy of the plugin has no release manifest/ },
      );
    });
  });

  describe('run: the plan (--dry-run=client)', () => {
    it('webhook configurations first, then the workloads, then the rest in reverse; CRDs and namespace kept', async () => {
      const deletes = await plannedDeletes();
      const configurations = named((o) => o.kind.endsWith('WebhookConfiguration'));
      assert.deepEqual(deletes.slice(0, configurations.length), configurations);
      assert.deepEqual(deletes.slice(configurations.length, configurations.length + 2), [
        'daemonset.apps/liqo-discovery-agent',
        'deployment.apps/liqo-webhook',
      ]);
      const rest = named(
        (o) =>
          !['Namespace', 'CustomResourceDefinition', 'Deployment', 'DaemonSet'].includes(o.kind) &&
          !o.kind.endsWith('WebhookConfiguration'),
      ).reverse();
      assert.deepEqual(deletes.slice(configurations.length + 2), rest);
      assert.ok(!deletes.some((d) => d.startsWith('customresourcedefinition') || d.startsWith('namespace/')));
    });

    it('--delete-crds then --delete-namespace: the CRDs, and the namespace last', async () => {
      const crds = named((o) => o.kind === 'CustomResourceDefinition');
      const withCrds = await plannedDeletes({ deleteCrds: true });
      assert.deepEqual(withCrds.slice(-crds.length), crds);
      const everything = await plannedDeletes({ deleteCrds: true, deleteNamespace: true });
      assert.equal(everything.at(-1), 'namespace/liqo');
      assert.deepEqual(everything.slice(-crds.length - 1, -1), crds);
      assert.equal(everything.length, release.length, 'every object of the manifest, once');
      const namespaceOnly = await plannedDeletes({ deleteNamespace: true });
      assert.equal(namespaceOnly.at(-1), 'namespace/liqo');
      assert.ok(!namespaceOnly.some((d) => d.startsWith('customresourcedefinition')));
    });
  });

  describe('run: against a cluster', () => {
    it('any other mode asks the factory for the cluster; without a kubeconfig nothing is deleted', async () => {
      const c = captureIO();
      await assert.rejects(
        runUninstall(options({ dryRun: 'none' }), { io: c.io, clients: noKubeconfigClients() }),
        {
          message: /^no kubeconfig/,
        },
      );
      assert.equal(c.stdout(), '');
    });
  });
});
