// `kubectl liqo install` / `uninstall` on a bare control plane (real etcd + kube-apiserver, no
// CRDs): the embedded manifests go in, the real webhook (running outside the cluster, as in the
// sandbox) bootstraps its TLS into the configurations install registered, and admission works.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { buildWebhookBundle } from '../harness/liqo-environment.js';
import { freePort, waitForHttpOk } from '../harness/network.js';
import { startProcess, type ManagedProcess } from '../harness/processes.js';
import { expectOneLineError, installPluginOnPath, type PluginOnPath } from './plugin-helpers.js';

describe('kubectl liqo install / uninstall (e2e)', function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  let plugin: PluginOnPath;
  let webhook: ManagedProcess | undefined;
  let webhookUrl: string;
  const liqo = (args: string[]) =>
    plugin.run(args, { env: { KUBECONFIG: cp.adminKubeconfig, NO_COLOR: '1' } });

  before(async () => {
    [cp, plugin] = await Promise.all([startControlPlane(), installPluginOnPath()]);
    webhookUrl = `https://127.0.0.1:${await freePort()}`;
  });
  after(async () => {
    await webhook?.stop();
    await cp?.stop();
    plugin?.remove();
  });

  it('--dry-run prints the YAML (CRDs, namespace, RBAC, webhook) and changes nothing', async () => {
    const r = await liqo(['install', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    const objects = parseAllDocuments(r.stdout).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string } },
    );
    const kinds = new Set(objects.map((o) => o.kind));
    for (const k of [
      'Namespace',
      'CustomResourceDefinition',
      'ClusterRole',
      'Deployment',
      'Service',
      'MutatingWebhookConfiguration',
      'ValidatingWebhookConfiguration',
    ]) {
      assert.ok(kinds.has(k), `missing ${k}`);
    }
    assert.equal(objects.filter((o) => o.kind === 'CustomResourceDefinition').length, 3);
    const crds = await cp.kubectl(['get', 'crd', '-o', 'name']);
    assert.equal(crds.stdout.trim(), '');

    const outside = await liqo([
      'install',
      '--dry-run=client',
      '--webhook-url',
      webhookUrl,
      '--without-agent',
    ]);
    const shaped = parseAllDocuments(outside.stdout).map(
      (d) => d.toJS() as { kind: string; webhooks?: { clientConfig: { url?: string } }[] },
    );
    assert.ok(!shaped.some((o) => o.kind === 'Deployment'), 'no in-cluster webhook with --webhook-url');
    const urls = shaped.flatMap((o) => o.webhooks ?? []).map((w) => w.clientConfig.url);
    assert.ok(urls.length >= 2 && urls.every((u) => u?.startsWith(`${webhookUrl}/`)), String(urls));
  });

  it('installs, is idempotent, and the webhook it registered admits and defaults our objects', async () => {
    const first = await liqo(['install', '--webhook-url', webhookUrl, '--without-agent']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      /customresourcedefinition\.apiextensions\.k8s\.io\/foreignclusters\.discovery\.liqo\.io serverside-applied/,
    );
    assert.match(
      first.stdout,
      /validatingwebhookconfiguration\.admissionregistration\.k8s\.io\/\S+ serverside-applied/,
    );
    const again = await liqo(['install', '--webhook-url', webhookUrl, '--without-agent']);
    assert.equal(again.code, 0, again.stderr);

    // the webhook, as the sandbox runs it: outside the cluster, TLS bootstrapped into the configurations
    // next to the plugin bundle, under node_modules/, where @kubernetes/client-node resolves
    const bundle = await buildWebhookBundle(dirname(plugin.bundle));
    webhook = startProcess(
      'liqo-webhook',
      process.execPath,
      [
        bundle,
        `--port=${new URL(webhookUrl).port}`,
        '--bind-address=127.0.0.1',
        `--kubeconfig=${cp.adminKubeconfig}`,
        '--bootstrap-tls',
        '--extra-san=127.0.0.1',
      ],
      { logFile: join(cp.dir, 'webhook.log') },
    );
    const started = webhook;
    await waitForHttpOk(`${webhookUrl}/readyz`, {
      tls: { rejectUnauthorized: false },
      timeoutMs: 30_000,
      gaveUp: () => (started.isRunning() ? undefined : `liqo-webhook exited: ${started.tail()}`),
    });

    // admission through the installed configuration: the webhook defaults autojoin
    let added = await liqo(['search-domain', 'add', 'example.com']);
    for (let i = 0; added.code !== 0 && i < 20; i++) {
      await new Promise((r) => setTimeout(r, 250)); // until the CA bundle injection is in effect
      added = await liqo(['search-domain', 'add', 'example.com']);
    }
    assert.equal(added.code, 0, added.stderr);
    const sd = await cp.kubectl(['get', 'searchdomains', 'example.com', '-o', 'jsonpath={.spec.autojoin}']);
    assert.equal(sd.stdout, 'false');
    expectOneLineError(
      await liqo(['search-domain', 'add', 'EXAMPLE.com.', '--name', 'dup']),
      /denied the request/,
    );
  });

  it('uninstall removes the webhook configurations and the CRDs, keeps the namespace', async () => {
    const r = await liqo(['uninstall', '--webhook-url', webhookUrl, '--without-agent']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mutatingwebhookconfiguration\.admissionregistration\.k8s\.io\/\S+ deleted/);
    const left = await cp.kubectl([
      'get',
      'crd,mutatingwebhookconfigurations,validatingwebhookconfigurations',
      '-o',
      'name',
    ]);
    assert.equal(left.stdout.trim(), '');
    assert.equal(
      (await cp.kubectl(['get', 'namespace', 'liqo', '-o', 'name'])).stdout.trim(),
      'namespace/liqo',
    );
    const twice = await liqo(['uninstall', '--webhook-url', webhookUrl, '--without-agent']);
    assert.equal(twice.code, 0, twice.stderr);
  });

  it('a full in-cluster install (webhook and agent Deployments): version reports their versions', async () => {
    const r = await liqo(['install']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /deployment\.apps\/liqo-webhook serverside-applied/);
    assert.match(r.stdout, /deployment\.apps\/liqo-discovery-agent serverside-applied/);
    const v = await liqo(['version', '-o', 'json']);
    assert.equal(v.code, 0, v.stderr);
    const report = JSON.parse(v.stdout) as { webhookVersion?: string; agentVersion?: string };
    assert.match(report.webhookVersion ?? '', /^\d+\.\d+\.\d+/);
    assert.match(report.agentVersion ?? '', /^\d+\.\d+\.\d+/);
  });
});
