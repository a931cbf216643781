// The default ClientFactory (plugin/client-factory.ts): the kubeconfig the global flags choose,
// connected once on the first liqo(). No API server is contacted here: loading a kubeconfig
// does not, and the e2e layer runs every command through this factory against a real one.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeconfigClientFactory, NO_KUBECONFIG_MESSAGE } from '../../plugin/client-factory.js';
import { captureIO } from '../../plugin/io.js';

function kubeconfigFile(server: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'client-factory-')), 'config');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${server}" } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`,
  );
  return file;
}

describe('plugin client factory (unit)', function () {
  this.timeout(30_000);
  const home = () => mkdtempSync(join(tmpdir(), 'client-factory-home-'));

  it('no kubeconfig anywhere: hasKubeconfig() is false and liqo() says what to do', async () => {
    const env = { HOME: home(), KUBECONFIG: join(home(), 'none') };
    const clients = kubeconfigClientFactory({}, captureIO({ env }).io);
    assert.equal(clients.hasKubeconfig(), false);
    await assert.rejects(clients.liqo(), { name: 'UserError', message: NO_KUBECONFIG_MESSAGE });
  });

  it('connects once: every liqo() of a run shares the connection, and -v names the server', async () => {
    const c = captureIO({ env: { HOME: home() } });
    const clients = kubeconfigClientFactory(
      { kubeconfig: kubeconfigFile('https://127.0.0.1:6443'), verbose: 1 },
      c.io,
    );
    assert.equal(clients.hasKubeconfig(), true);
    const first = await clients.liqo();
    assert.equal(await clients.liqo(), first);
    assert.equal(first.server, 'https://127.0.0.1:6443');
    assert.equal(c.stderr(), 'using API server https://127.0.0.1:6443\n');
  });

  it('a command default for the request timeout is its own connection; --request-timeout wins over it', async () => {
    const env = { HOME: home() };
    const kubeconfig = kubeconfigFile('https://127.0.0.1:6443');
    const plain = kubeconfigClientFactory({ kubeconfig }, captureIO({ env }).io);
    assert.notEqual(await plain.liqo({ defaultRequestTimeoutMs: 3000 }), await plain.liqo());
    const flagged = kubeconfigClientFactory({ kubeconfig, requestTimeout: '1s' }, captureIO({ env }).io);
    assert.equal(await flagged.liqo({ defaultRequestTimeoutMs: 3000 }), await flagged.liqo());
  });

  it('a --request-timeout that is no duration, and a kubeconfig that does not load, are one line each', async () => {
    const env = { HOME: home() };
    const kubeconfig = kubeconfigFile('https://127.0.0.1:6443');
    await assert.rejects(
      kubeconfigClientFactory({ kubeconfig, requestTimeout: 'soon' }, captureIO({ env }).io).liqo(),
      {
        name: 'UserError',
        message: '--request-timeout: invalid duration "soon" (use e.g. 500ms, 10s, 2m)',
      },
    );
    await assert.rejects(
      kubeconfigClientFactory({ kubeconfig: join(home(), 'missing') }, captureIO({ env }).io).liqo(),
      { name: 'UserError' },
    );
  });
});
