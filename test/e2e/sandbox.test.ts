// `npm run sandbox` as a newcomer uses it: start it, take the KUBECONFIG line it prints, paste
// guide commands in a shell, press Ctrl-C, and find everything stopped and removed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { shellWith } from '../harness/kubectl.js';
import { httpGet } from '../harness/network.js';
import { REPO_ROOT } from '../harness/liqo-environment.js';

const SANDBOX = join(REPO_ROOT, 'scripts/sandbox.mjs');

/** Resolves with the sandbox's stdout once `pattern` shows up in it. */
function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} after ${timeoutMs} ms; stderr: ${err}`)),
      timeoutMs,
    );
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sandbox exited (${code}) before printing ${pattern}: ${err}`));
    });
  });
}

describe('e2e: npm run sandbox', function () {
  let sandbox: ChildProcess | undefined;

  after(() => {
    if (sandbox?.exitCode === null) sandbox.kill('SIGKILL'); // its children die with it (pdeathsig)
  });

  it('prints an export KUBECONFIG line that the guide works against, and cleans up on Ctrl-C', async function () {
    this.timeout(180_000);
    sandbox = spawn(process.execPath, [SANDBOX], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = await waitForOutput(sandbox, /Press Ctrl-C/, 150_000);
    const kubeconfig = /^export KUBECONFIG=(\S+)$/m.exec(out)?.[1];
    const server = /kube-apiserver (https:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    assert.ok(kubeconfig && server, `no KUBECONFIG or server in:\n${out}`);
    assert.ok(existsSync(kubeconfig));

    // the guide's ForeignCluster (join left out) and its LAN-discovery patch, pasted in a shell
    const fc = await shellWith(
      kubeconfig,
      `cat <<'EOF' | kubectl apply -f -
apiVersion: discovery.liqo.io/v1alpha1
kind: ForeignCluster
metadata:
  name: my-cluster
spec:
  authUrl: "https://192.168.1.20:30740"
EOF
kubectl get foreignclusters my-cluster -o jsonpath='{.spec.join}'`,
    );
    assert.equal(fc.code, 0, fc.stderr);
    assert.match(fc.stdout, /my-cluster created\nfalse$/);
    const patch = await shellWith(
      kubeconfig,
      `kubectl patch clusterconfigs liqo-configuration \\
--patch '{"spec":{"discoveryConfig":{"enableDiscovery": false, "enableAdvertisement": false}}}' \\
--type 'merge'`,
    );
    assert.equal(patch.code, 0, patch.stderr);
    const id = await shellWith(
      kubeconfig,
      'kubectl get configmap -n liqo cluster-id -o jsonpath={.data.cluster-id}',
    );
    assert.match(id.stdout, /^[0-9a-f-]{36}$/);

    // Ctrl-C: a clean exit, the API server gone, the temporary directory removed
    const exited = new Promise<number | null>((resolve) => sandbox?.on('exit', resolve));
    sandbox.kill('SIGINT');
    assert.equal(await exited, 0);
    await assert.rejects(httpGet(`${server}/readyz`, { rejectUnauthorized: false }), /ECONNREFUSED/);
    assert.equal(existsSync(dirname(kubeconfig)), false);
  });
});
