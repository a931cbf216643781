// The typed transforms install applies to the release manifest, and the order it applies in.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import {
  isWorkload,
  podTemplate,
  type ManifestObject,
  type WebhookConfigurationObject,
} from '../../plugin/install/objects.js';
import { parseManifest } from '../../plugin/install/release.js';
import {
  applyOrder,
  configure,
  imageProblem,
  parseNodeSelector,
  planInstall,
} from '../../plugin/install/transforms.js';
import { REPO_ROOT } from '../../scripts/bundles.mjs';
import { renderReleaseManifest } from '../../scripts/release-manifest.mjs';

const IMAGE = 'registry.example:5000/team/liqo-discovery:dev';

function containers(objects: ManifestObject[]) {
  return objects.filter(isWorkload).flatMap((w) => podTemplate(w).spec?.containers ?? []);
}
function agent(objects: ManifestObject[]) {
  const a = objects.find((o) => o.kind === 'DaemonSet');
  assert.ok(a && isWorkload(a));
  return podTemplate(a);
}
function webhookConfigurations(objects: ManifestObject[]) {
  return objects.filter((o) => o.kind.endsWith('WebhookConfiguration')) as WebhookConfigurationObject[];
}

describe('install transforms', () => {
  let release: ManifestObject[];
  let pristine: string;
  before(async () => {
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    release = await parseManifest(await renderReleaseManifest(REPO_ROOT, version));
    pristine = JSON.stringify(release);
  });
  afterEach(() => assert.equal(JSON.stringify(release), pristine, 'a transform changed its input'));

  it('--image and --image-pull-policy set every container of both programs', () => {
    const out = configure(release, { image: IMAGE, imagePullPolicy: 'Never' });
    const all = containers(out);
    assert.equal(all.length, 2);
    for (const c of all) {
      assert.equal(c.image, IMAGE);
      assert.equal(c.imagePullPolicy, 'Never');
    }
    // without a policy the manifest's stays
    assert.ok(
      containers(configure(release, { image: IMAGE })).every((c) => c.imagePullPolicy === 'IfNotPresent'),
    );
  });

  it('--ids-port, --agent-health-port and --agent-node-selector change the agent only', () => {
    const out = configure(release, {
      image: IMAGE,
      idsPort: 31000,
      agentHealthPort: 31001,
      agentNodeSelector: { 'liqo.io/lan': 'true' },
    });
    const t = agent(out);
    const c = t.spec!.containers[0]!;
    assert.ok(
      c.args!.includes('--ids-port=31000') && c.args!.includes('--health-port=31001'),
      String(c.args),
    );
    assert.deepEqual(
      c.ports!.map((p) => [p.name, p.containerPort]),
      [
        ['ids', 31000],
        ['health', 31001],
      ],
    );
    assert.equal(t.metadata?.annotations?.['prometheus.io/port'], '31001');
    assert.deepEqual(t.spec!.nodeSelector, { 'liqo.io/lan': 'true' });
    const onlyImage = configure(release, { image: IMAGE });
    const webhookOf = (objects: ManifestObject[]) => objects.find((o) => o.kind === 'Deployment');
    assert.deepEqual(webhookOf(out), webhookOf(onlyImage));
  });

  it('--without-agent leaves out every object of the agent and nothing else', () => {
    const out = configure(release, { image: IMAGE, withoutAgent: true });
    assert.ok(!out.some((o) => o.metadata.name.startsWith('liqo-discovery-agent')));
    assert.equal(out.length, release.length - 11); // SA, 4 roles, 4 bindings (Events, TSIG Secret), Service, DaemonSet
  });

  it('--webhook-url drops the in-cluster webhook and points both configurations at the url', () => {
    const out = configure(release, { image: IMAGE, webhookUrl: 'https://10.0.0.1:8443/', caBundle: 'PEM' });
    assert.ok(!out.some((o) => ['Deployment', 'PodDisruptionBudget'].includes(o.kind)));
    assert.ok(!out.some((o) => o.kind === 'Service' && o.metadata.name === 'liqo-webhook'));
    const hooks = webhookConfigurations(out).flatMap((c) => c.webhooks ?? []);
    assert.deepEqual(
      hooks.map((h) => h.clientConfig),
      [
        { url: 'https://10.0.0.1:8443/mutate', caBundle: Buffer.from('PEM').toString('base64') },
        { url: 'https://10.0.0.1:8443/validate', caBundle: Buffer.from('PEM').toString('base64') },
      ],
    );
  });

  it('plans CRDs first, the webhook configurations after the webhook Deployment, the agent last', () => {
    const plan = planInstall(configure(release, { image: IMAGE }));
    assert.deepEqual(
      plan.namespaces.map((o) => o.metadata.name),
      ['liqo'],
    );
    assert.equal(plan.crds.length, 4);
    assert.deepEqual(
      plan.webhook.map((o) => `${o.kind}/${o.metadata.name}`),
      ['Deployment/liqo-webhook'],
    );
    assert.deepEqual(
      plan.webhookConfigurations.map((o) => o.kind),
      ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'],
    );
    assert.deepEqual(
      plan.agent.map((o) => `${o.kind}/${o.metadata.name}`),
      ['DaemonSet/liqo-discovery-agent'],
    );
    const created: ManifestObject = { apiVersion: 'x/v1', kind: 'ClusterConfig', metadata: { name: 'c' } };
    const order = applyOrder(plan, [created]).map((o) => o.kind);
    assert.equal(order.length, release.length + 1);
    const first = (kind: string) => order.indexOf(kind);
    const last = (kind: string) => order.lastIndexOf(kind);
    assert.ok(first('Namespace') === 0 && last('CustomResourceDefinition') < first('ClusterConfig'));
    assert.ok(last('ClusterConfig') < first('ServiceAccount'));
    assert.ok(first('Deployment') > last('RoleBinding') && first('Deployment') > last('Service'));
    assert.ok(first('MutatingWebhookConfiguration') > first('Deployment'));
    assert.ok(first('DaemonSet') > last('ValidatingWebhookConfiguration'));
  });

  it('checks --image and --agent-node-selector, naming the flag', () => {
    for (const good of [
      'liqo-discovery',
      'ghcr.io/liqo-discovery/liqo-discovery:0.1.0',
      'localhost:5000/a/b_c:v1.2-rc.1',
      `x/y@sha256:${'a'.repeat(64)}`,
    ]) {
      assert.equal(imageProblem(good), undefined, good);
    }
    for (const bad of ['', 'Upper', 'a b', 'x:', 'x@sha256:short']) {
      assert.match(imageProblem(bad) ?? '', /^--image ".*" is not an image reference/, bad);
    }
    assert.deepEqual(parseNodeSelector('kubernetes.io/os=linux, liqo.io/lan=true'), {
      'kubernetes.io/os': 'linux',
      'liqo.io/lan': 'true',
    });
    assert.throws(() => parseNodeSelector('lan'), /--agent-node-selector "lan": "lan" is not key=value/);
  });
});
