// `kubectl liqo join --dry-run=client` judges an authUrl as the webhook would, through the real
// kubectl against a real API server and webhook: the webhook publishes its
// --allow-loopback-auth-url on its ValidatingWebhookConfiguration, the plugin reads it, and the
// client-side answer matches --dry-run=server with the flag on (the sandbox) and off (a real
// cluster). The peer is a real HTTPS /ids server on 127.0.0.1, so its authUrl is loopback.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ANNOTATION_ALLOW_LOOPBACK_AUTH_URL } from '../../shared/api/constants.js';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import type { CommandResult } from '../harness/kubectl.js';
import { startLiqoEnvironment, type LiqoEnvironment } from '../harness/liqo-environment.js';
import { WEBHOOK_CONFIGURATION_NAME } from '../harness/webhook-configurations.js';
import { startIdsServer, testKeyPem, type IdsServer } from '../helpers/https-ids-server.js';
import { expectOneLineError, installPluginOnPath, type PluginOnPath } from './plugin-helpers.js';

describe('kubectl liqo join --dry-run=client vs =server (e2e, real API server and webhook)', function () {
  this.timeout(180_000);
  let env: LiqoEnvironment;
  let plugin: PluginOnPath;
  let peer: IdsServer;
  const peerId = randomUUID();
  const liqo = (args: string[]) =>
    plugin.run(args, { env: { KUBECONFIG: env.controlPlane.adminKubeconfig, NO_COLOR: '1' } });
  const published = async () =>
    (
      await env.controlPlane.kubectl([
        'get',
        `validatingwebhookconfiguration/${WEBHOOK_CONFIGURATION_NAME}`,
        '-o',
        `jsonpath={.metadata.annotations.${ANNOTATION_ALLOW_LOOPBACK_AUTH_URL.replace(/\./g, '\\.')}}`,
      ])
    ).stdout;
  const storedNames = async () =>
    (await env.controlPlane.kubectl(['get', 'foreignclusters', '-o', 'name'])).stdout.trim();
  /** The field error both refusals end with ("spec.authUrl: host ... (accepted: ...)"). */
  const fieldError = (line: string) => line.slice(line.indexOf('spec.authUrl:')).replace(/ \(see .*$/, '');
  const warnings = (r: CommandResult) => r.stderr.split('\n').filter((l) => l.startsWith('Warning: '));

  before(async () => {
    [env, plugin] = await Promise.all([
      startLiqoEnvironment({ webhook: { allowLoopbackAuthUrl: false } }),
      installPluginOnPath(),
    ]);
    peer = await startIdsServer({
      ...createServingCertificate({ commonName: 'peer', hosts: ['127.0.0.1'], keyPem: await testKeyPem() }),
      identity: { clusterId: peerId, clusterName: 'peer-one' },
    });
  });
  after(async () => {
    await peer?.close();
    await env?.stop();
    plugin?.remove();
  });

  it('webhook without --allow-loopback-auth-url: both refuse the loopback authUrl with the same reason', async () => {
    assert.equal(await published(), 'false');
    const client = expectOneLineError(
      await liqo(['join', peer.url, '--dry-run=client']),
      /^error: ForeignCluster ".*" would be refused: spec\.authUrl: host "127\.0\.0\.1" is a loopback/,
    );
    const server = expectOneLineError(
      await liqo(['join', peer.url, '--dry-run=server']),
      /admission webhook .* denied the request: .*spec\.authUrl: host "127\.0\.0\.1" is a loopback/,
    );
    assert.equal(fieldError(client), fieldError(server));
    assert.equal(await storedNames(), '');
  });

  it('webhook with --allow-loopback-auth-url (the sandbox): both accept it, with the same warning', async () => {
    await env.startWebhook({ allowLoopbackAuthUrl: true });
    try {
      assert.equal(await published(), 'true');
      const client = await liqo(['join', peer.url, '--dry-run=client']);
      const server = await liqo(['join', peer.url, '--dry-run=server']);
      assert.equal(client.code, 0, client.stderr);
      assert.equal(server.code, 0, server.stderr);
      assert.equal(client.stdout, `foreigncluster.discovery.liqo.io/${peerId} created (dry run)\n`);
      assert.equal(server.stdout, `foreigncluster.discovery.liqo.io/${peerId} created (server dry run)\n`);
      const loopbackWarnings = (r: CommandResult) => warnings(r).filter((w) => /loopback/.test(w));
      assert.equal(loopbackWarnings(server).length, 1, server.stderr);
      assert.deepEqual(loopbackWarnings(client), loopbackWarnings(server));
      assert.equal(await storedNames(), '');
    } finally {
      await env.startWebhook({ allowLoopbackAuthUrl: false });
    }
    // restarted without the flag, the webhook takes its note back
    assert.equal(await published(), 'false');
    expectOneLineError(await liqo(['join', peer.url, '--dry-run=client']), /would be refused: spec\.authUrl/);
  });
});
