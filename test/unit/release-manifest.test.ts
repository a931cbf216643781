// The release manifest (scripts/release-manifest.mjs → dist/liqo-discovery.yaml, embedded in the
// plugin): the same objects as `kubectl kustomize manifests/` (the real kubectl), one image
// name for both programs equal to LIQO_DISCOVERY_IMAGE, the names install relies on, and an
// agent that runs at most once per node and takes no NodePort.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { LIQO_DISCOVERY_IMAGE } from '../../shared/api/constants.js';
import {
  AGENT_DAEMONSET,
  WEBHOOK_CONFIGURATION,
  WEBHOOK_DEPLOYMENT,
  WEBHOOK_TLS_SECRET,
  isWorkload,
  podTemplate,
  type ManifestObject,
} from '../../plugin/install/objects.js';
import { parseManifest } from '../../plugin/install/release.js';
import { REPO_ROOT } from '../../scripts/bundles.mjs';
import { renderReleaseManifest } from '../../scripts/release-manifest.mjs';
import { KUBECTL } from '../harness/kubectl.js';

const canonical = (o: unknown): string =>
  JSON.stringify(o, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );

describe('release manifest', () => {
  let text: string;
  let objects: ManifestObject[];
  let version: string;
  before(async () => {
    version = (JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
    text = await renderReleaseManifest(REPO_ROOT, version);
    objects = await parseManifest(text);
  });

  it('holds exactly the objects `kubectl kustomize manifests/` renders', async () => {
    const { stdout } = await promisify(execFile)(KUBECTL, ['kustomize', join(REPO_ROOT, 'manifests')], {
      maxBuffer: 16 << 20,
    });
    const kustomized = parseAllDocuments(stdout).map((d) => canonical(d.toJS()));
    assert.deepEqual(objects.map(canonical).sort(), kustomized.sort());
    assert.equal(objects.length, 26);
  });

  it('starts with the namespace and keeps each file’s comments', () => {
    assert.equal(objects[0]?.kind, 'Namespace');
    assert.match(text, /^# liqo-discovery \d+\.\d+\.\d+:/);
    assert.match(text, /# The discovery agent, one pod per chosen node at most: a DaemonSet/);
  });

  it('names one image, LIQO_DISCOVERY_IMAGE, tagged with the package version', () => {
    assert.ok(LIQO_DISCOVERY_IMAGE.endsWith(`:${version}`), LIQO_DISCOVERY_IMAGE);
    const images = objects
      .filter(isWorkload)
      .flatMap((w) => podTemplate(w).spec?.containers ?? [])
      .map((c) => c.image);
    assert.equal(images.length, 2);
    assert.deepEqual(new Set(images), new Set([LIQO_DISCOVERY_IMAGE]));
  });

  it('has the names install waits on and reads', () => {
    const webhook = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === WEBHOOK_DEPLOYMENT);
    assert.ok(webhook && isWorkload(webhook));
    const args = podTemplate(webhook).spec?.containers[0]?.args ?? [];
    assert.ok(args.includes(`--tls-secret-name=${WEBHOOK_TLS_SECRET}`), String(args));
    assert.ok(args.includes(`--webhook-configuration-name=${WEBHOOK_CONFIGURATION}`), String(args));
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
      const config = objects.find((o) => o.kind === kind) as
        | (ManifestObject & { webhooks: { failurePolicy: string; clientConfig: { caBundle?: string } }[] })
        | undefined;
      assert.equal(config?.metadata.name, WEBHOOK_CONFIGURATION);
      // no caBundle in the manifest: install sets it from the webhook's CA Secret
      assert.ok(config.webhooks.every((w) => w.clientConfig.caBundle === undefined));
    }
    assert.ok(objects.some((o) => o.kind === 'DaemonSet' && o.metadata.name === AGENT_DAEMONSET));
  });

  it('runs the host-network agent as a DaemonSet (one per node) and takes no NodePort', () => {
    const agent = objects.find((o) => o.metadata.name === AGENT_DAEMONSET && isWorkload(o));
    assert.equal(agent?.kind, 'DaemonSet');
    assert.ok(agent && isWorkload(agent));
    const spec = podTemplate(agent).spec!;
    assert.equal(spec.hostNetwork, true);
    assert.deepEqual(spec.nodeSelector, { 'kubernetes.io/os': 'linux' });
    const container = spec.containers[0]!;
    const idsPort = container.ports?.find((p) => p.name === 'ids')?.containerPort;
    assert.ok(container.args?.includes(`--ids-port=${idsPort}`), String(container.args));
    assert.ok(!container.args?.some((a) => a.startsWith('--auth-port')), 'advertises its own port');
    assert.equal(
      (agent as { spec: { updateStrategy: { rollingUpdate: { maxSurge: number } } } }).spec.updateStrategy
        .rollingUpdate.maxSurge,
      0,
    );
    for (const service of objects.filter((o) => o.kind === 'Service')) {
      const s = service as ManifestObject & { spec: { type?: string; ports: { nodePort?: number }[] } };
      assert.notEqual(s.spec.type, 'NodePort', service.metadata.name);
      assert.ok(
        s.spec.ports.every((p) => p.nodePort === undefined),
        service.metadata.name,
      );
    }
  });
});
