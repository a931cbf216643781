// kubectl liqo install, one step at a time: complete and validate from flag objects, and run's
// planning — which objects, in which order, with which transforms — through --dry-run=client,
// which asks for no client at all. The manifest is rendered from manifests/ as the build does
// (the plugin run from source has none embedded). What install does against a cluster
// (server-side apply, waiting for the CRDs and the webhook, the caBundle, --force over a foreign
// CRD, --dry-run=server) needs a real API server: test/e2e/plugin-install*.test.ts, and
// test/cluster/install.test.ts on a real node with pods.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CLUSTER_CONFIG_NAME, LIQO_DISCOVERY_IMAGE } from '../../shared/api/constants.js';
import {
  completeInstall,
  installCommand,
  runInstall,
  validateInstall,
  type InstallFlags,
  type InstallOptions,
} from '../../plugin/commands/install.js';
import { captureIO } from '../../plugin/io.js';
import {
  isWorkload,
  podTemplate,
  type ManifestObject,
  type WebhookConfigurationObject,
} from '../../plugin/install/objects.js';
import { parseManifest } from '../../plugin/install/release.js';
import { REPO_ROOT } from '../../scripts/bundles.mjs';
import { renderReleaseManifest } from '../../scripts/release-manifest.mjs';
import { memoryClients, noKubeconfigClients } from '../helpers/memory-liqo-resources.js';

const IMAGE = 'registry.example:5000/team/liqo-discovery:dev';

let release: ManifestObject[];
const fromRelease = () => Promise.resolve(structuredClone(release));

const options = (o: Partial<InstallOptions> = {}): InstallOptions => ({
  dryRun: 'none',
  output: undefined,
  timeoutMs: 300_000,
  timeoutText: '5m',
  manifest: release,
  settings: { image: LIQO_DISCOVERY_IMAGE, withoutAgent: false },
  caFile: undefined,
  force: false,
  publishClusterProperty: false,
  ...o,
});

const complete = (flags: InstallFlags) => completeInstall(flags, fromRelease);

/** run() with --dry-run=client: what it prints, and how many clients it asked for. */
async function planned(o: Partial<InstallOptions>) {
  const clients = memoryClients();
  const c = captureIO();
  await runInstall(options({ dryRun: 'client', ...o }), { io: c.io, clients });
  assert.equal(clients.connections, 0, 'a client dry run asks for no client');
  assert.equal(c.stderr(), '');
  return c.stdout();
}

function yamlObjects(text: string): ManifestObject[] {
  return parseAllDocuments(text).map((d) => d.toJS() as ManifestObject);
}

const is = (kind: string, name?: string) => (o: ManifestObject) =>
  o.kind === kind && (name === undefined || o.metadata.name === name);

describe('plugin install (unit)', () => {
  before(async () => {
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    release = await parseManifest(await renderReleaseManifest(REPO_ROOT, version));
  });

  describe('complete', () => {
    it('fills the defaults: the published image, 5 m, a real install, the manifest it was given', async () => {
      assert.deepEqual(await complete({}), options());
    });

    it('turns the flags into transform settings: policy, ports, node selector split, webhook URL, profiles', async () => {
      const o = await complete({
        image: IMAGE,
        imagePullPolicy: 'Never',
        timeout: '90s',
        idsPort: 19443,
        agentHealthPort: 19444,
        agentNodeSelector: 'kubernetes.io/os=linux, liqo.io/lan=true',
        withoutAgent: true,
        webhookUrl: 'https://10.0.0.1:8443',
        clusterProfiles: 'fleet',
        force: true,
        publishClusterProperty: true,
        dryRun: 'client',
        output: 'json',
      });
      assert.deepEqual(o, {
        ...options(),
        dryRun: 'client',
        output: 'json',
        timeoutMs: 90_000,
        timeoutText: '90s',
        force: true,
        publishClusterProperty: true,
        settings: {
          image: IMAGE,
          imagePullPolicy: 'Never',
          withoutAgent: true,
          idsPort: 19443,
          agentHealthPort: 19444,
          agentNodeSelector: { 'kubernetes.io/os': 'linux', 'liqo.io/lan': 'true' },
          webhookUrl: 'https://10.0.0.1:8443',
          clusterProfilesNamespace: 'fleet',
        },
      });
    });

    it('a value that does not parse names its flag', async () => {
      await assert.rejects(complete({ timeout: 'later' }), {
        name: 'UserError',
        message: '--timeout: invalid duration "later" (use e.g. 500ms, 10s, 2m)',
      });
      await assert.rejects(complete({ agentNodeSelector: 'linux' }), {
        name: 'UserError',
        message: /^--agent-node-selector "linux": "linux" is not key=value/,
      });
    });

    it('--ca-file with --webhook-url: its PEM becomes the caBundle; unreadable is one line', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'install-ca-'));
      const caFile = join(dir, 'ca.crt');
      await writeFile(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      const o = await complete({ webhookUrl: 'https://10.0.0.1:8443', caFile });
      assert.equal(o.caFile, caFile);
      assert.match(o.settings.caBundle ?? '', /^-----BEGIN CERTIFICATE-----/);
      await assert.rejects(complete({ webhookUrl: 'https://10.0.0.1:8443', caFile: join(dir, 'none') }), {
        name: 'UserError',
        message: `--ca-file: cannot read ${join(dir, 'none')}`,
      });
    });

    it('--ca-file without --webhook-url is not read (validate refuses the pair)', async () => {
      const o = await complete({ caFile: '/nonexistent/ca.crt' });
      assert.equal(o.caFile, '/nonexistent/ca.crt');
      assert.equal(o.settings.caBundle, undefined);
      assert.throws(() => validateInstall(o), { message: '--ca-file only goes with --webhook-url' });
    });

    it('the command module loads the manifest embedded by the build: from source there is none, said in one line', async () => {
      const c = captureIO();
      await assert.rejects(
        Promise.resolve(installCommand.complete({}, { io: c.io, clients: noKubeconfigClients() })),
        {
          name: 'UserError',
          message: 'this copy of the plugin has no release manifest: run it from `npm run build` (dist/)',
        },
      );
    });
  });

  describe('validate', () => {
    it('accepts the defaults and a full set of good values', async () => {
      assert.doesNotThrow(() => validateInstall(options()));
      const full = await complete({
        image: `${IMAGE}@sha256:${'a'.repeat(64)}`,
        idsPort: 1,
        agentHealthPort: 65535,
        webhookUrl: 'https://webhook.example',
        clusterProfiles: 'fleet-1',
        dryRun: 'client',
        output: 'yaml',
      });
      assert.doesNotThrow(() => validateInstall(full));
    });

    it('each refusal is one line naming the flag and what would work', async () => {
      for (const [flags, message] of [
        [{ output: 'yaml' }, '--output only goes with --dry-run=client'],
        [{ output: 'json', dryRun: 'server' }, '--output only goes with --dry-run=client'],
        [
          { image: 'Not An Image' },
          '--image "Not An Image" is not an image reference (e.g. registry.example/liqo-discovery:0.1.0)',
        ],
        [
          { webhookUrl: 'http://10.0.0.1:8443' },
          '--webhook-url http://10.0.0.1:8443: not an https URL (e.g. https://10.0.0.1:8443)',
        ],
        [{ idsPort: 0 }, '--ids-port 0: not a port (1-65535)'],
        [{ idsPort: 1.5 }, '--ids-port 1.5: not a port (1-65535)'],
        [{ agentHealthPort: 70000 }, '--agent-health-port 70000: not a port (1-65535)'],
        [{ idsPort: 9444 }, "--ids-port 9444: the agent's health port is 9444 too; choose another"],
        [
          { idsPort: 9500, agentHealthPort: 9500 },
          "--ids-port 9500: the agent's health port is 9500 too; choose another",
        ],
        [
          { clusterProfiles: 'Fleet_NS' },
          '--cluster-profiles "Fleet_NS": not a namespace name (a lower-case DNS label, e.g. fleet)',
        ],
      ] as [InstallFlags, string][]) {
        const o = await complete(flags);
        assert.throws(() => validateInstall(o), { name: 'UserError', message }, JSON.stringify(flags));
      }
    });
  });

  describe('run: the plan (--dry-run=client)', () => {
    it('every object once, in install order: namespace, CRDs, the ClusterConfig, the rest, the webhook, its configurations, the agent', async () => {
      const objects = yamlObjects(await planned({}));
      const kinds = objects.map((o) => o.kind);
      assert.equal(kinds[0], 'Namespace');
      const crds = kinds.flatMap((k, i) => (k === 'CustomResourceDefinition' ? [i] : []));
      assert.deepEqual(
        crds,
        crds.map((_, i) => i + 1),
        'the CRDs right after the namespace',
      );
      const clusterConfig = objects.findIndex(is('ClusterConfig', CLUSTER_CONFIG_NAME));
      assert.equal(clusterConfig, crds.length + 1, 'the ClusterConfig once its CRD is there');
      const webhook = objects.findIndex(is('Deployment', 'liqo-webhook'));
      const configurations = objects.flatMap((o, i) => (o.kind.endsWith('WebhookConfiguration') ? [i] : []));
      const agent = objects.findIndex(is('DaemonSet'));
      assert.equal(configurations.length, 2);
      assert.ok(
        configurations.every((i) => i > webhook && i < agent),
        'registered only after the webhook',
      );
      assert.equal(agent, objects.length - 1, 'the agent last');
      for (const [i, o] of objects.entries()) {
        if (i > clusterConfig && i < webhook) {
          assert.ok(
            !isWorkload(o) && !o.kind.endsWith('WebhookConfiguration'),
            `${o.kind} among the base objects`,
          );
        }
      }
      // the manifest as embedded, plus the ClusterConfig install creates
      assert.equal(objects.length, release.length + 1);
      const clusterConfigObject = objects[clusterConfig] as ManifestObject & {
        spec: { discoveryConfig: Record<string, unknown> };
      };
      assert.equal(clusterConfigObject.spec.discoveryConfig.enableDiscovery, true);
    });

    it('the flags reach the objects: image and pull policy on both programs, the agent ports and nodes', async () => {
      const objects = yamlObjects(
        await planned({
          settings: {
            image: IMAGE,
            imagePullPolicy: 'Never',
            idsPort: 19443,
            agentHealthPort: 19444,
            agentNodeSelector: { 'liqo.io/lan': 'true' },
          },
        }),
      );
      const containers = objects.filter(isWorkload).flatMap((w) => podTemplate(w).spec?.containers ?? []);
      assert.equal(containers.length, 2);
      for (const c of containers) {
        assert.equal(c.image, IMAGE);
        assert.equal(c.imagePullPolicy, 'Never');
      }
      const agent = objects.find(is('DaemonSet'));
      assert.ok(agent && isWorkload(agent));
      const spec = podTemplate(agent).spec;
      assert.deepEqual(spec?.nodeSelector, { 'liqo.io/lan': 'true' });
      const args = spec?.containers[0]?.args ?? [];
      assert.ok(args.includes('--ids-port=19443'), args.join(' '));
      assert.ok(args.includes('--health-port=19444'), args.join(' '));
    });

    it('--without-agent: none of the agent objects', async () => {
      const objects = yamlObjects(await planned({ settings: { image: IMAGE, withoutAgent: true } }));
      assert.equal(objects.filter(is('DaemonSet')).length, 0);
      assert.equal(
        objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/name'] === 'liqo-discovery-agent')
          .length,
        0,
      );
      assert.ok(objects.find(is('Deployment', 'liqo-webhook')));
    });

    it('--webhook-url with --ca-file: no in-cluster webhook; the configurations point at the URL with the CA', async () => {
      const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
      const objects = yamlObjects(
        await planned({
          settings: { image: IMAGE, webhookUrl: 'https://10.0.0.1:8443/', caBundle: pem },
        }),
      );
      assert.equal(
        objects.filter(
          (o) =>
            o.metadata.name === 'liqo-webhook' && /^(Deployment|Service|PodDisruptionBudget)$/.test(o.kind),
        ).length,
        0,
      );
      const hooks = objects
        .filter((o): o is WebhookConfigurationObject => o.kind.endsWith('WebhookConfiguration'))
        .flatMap((o) => o.webhooks ?? []);
      assert.ok(hooks.length > 0);
      for (const h of hooks) {
        assert.match(h.clientConfig.url ?? '', /^https:\/\/10\.0\.0\.1:8443\/(mutate|validate)/);
        assert.equal(h.clientConfig.caBundle, Buffer.from(pem).toString('base64'));
      }
    });

    it('--cluster-profiles: the agent flag and its Role in that namespace', async () => {
      const objects = yamlObjects(
        await planned({ settings: { image: IMAGE, clusterProfilesNamespace: 'fleet' } }),
      );
      const agent = objects.find(is('DaemonSet'));
      assert.ok(agent && isWorkload(agent));
      assert.ok(podTemplate(agent).spec?.containers[0]?.args?.includes('--cluster-profiles=fleet'));
      assert.ok(objects.some((o) => o.kind === 'Role' && o.metadata.namespace === 'fleet'));
    });

    it('-o json: the same objects as one List', async () => {
      const yaml = yamlObjects(await planned({ output: 'yaml' }));
      const list = JSON.parse(await planned({ output: 'json' })) as { kind: string; items: ManifestObject[] };
      assert.equal(list.kind, 'List');
      assert.deepEqual(list.items, yaml);
    });

    it('does not change the manifest it was given', async () => {
      const before = JSON.stringify(release);
      await planned({ settings: { image: IMAGE, withoutAgent: true, webhookUrl: 'https://x.example' } });
      assert.equal(JSON.stringify(release), before);
    });
  });

  describe('run: against a cluster', () => {
    it('any other mode asks the factory for the cluster first; without a kubeconfig nothing is printed', async () => {
      const c = captureIO();
      await assert.rejects(runInstall(options(), { io: c.io, clients: noKubeconfigClients() }), {
        name: 'UserError',
        message: /^no kubeconfig/,
      });
      assert.equal(c.stdout(), '');
    });
  });
});
