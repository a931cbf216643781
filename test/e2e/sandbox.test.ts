// `npm run sandbox` as a newcomer uses it: start it, take the KUBECONFIG line it prints, paste
// guide commands in a shell, press Ctrl-C, and find everything stopped and removed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { shellWith } from '../harness/kubectl.js';
import { httpGet } from '../harness/network.js';
import { REPO_ROOT } from '../harness/liqo-environment.js';
import { startBind, type RunningBind } from '../helpers/bind.js';
import { installPluginOnPath } from './plugin-helpers.js';

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

/** A started sandbox: what it printed, and its stderr as it grows. */
interface StartedSandbox {
  child: ChildProcess;
  kubeconfig: string;
  idsUrl: string;
  clusterId: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function startSandbox(args: string[]): Promise<StartedSandbox> {
  const child = spawn(process.execPath, [SANDBOX, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const out = await waitForOutput(child, /Press Ctrl-C/, 150_000);
  const kubeconfig = /^export KUBECONFIG=(\S+)$/m.exec(out)?.[1];
  const idsUrl = /curl --insecure (https:\/\/127\.0\.0\.1:\d+)\/ids/.exec(out)?.[1];
  const clusterId = /cluster id ([0-9a-f-]{36})/.exec(out)?.[1];
  assert.ok(kubeconfig && idsUrl && clusterId, `sandbox printed no KUBECONFIG, /ids URL or id:\n${out}`);
  return { child, kubeconfig, idsUrl, clusterId, stderr: () => err, exited };
}

/** The PID of the sandbox's agent: its child whose command line runs agent/main.ts. */
function agentPidOf(sandboxPid: number): number {
  const children = readFileSync(`/proc/${sandboxPid}/task/${sandboxPid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number);
  const agent = children.find((pid) =>
    readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .some((arg) => arg.endsWith('agent/main.ts')),
  );
  assert.ok(agent, `no agent among the sandbox's children ${children.join(', ')}`);
  return agent;
}

describe("e2e: two sandboxes side by side, peered through the guide's SearchDomain", function () {
  this.timeout(240_000);
  const started: StartedSandbox[] = [];
  let bind: RunningBind | undefined;

  after(async () => {
    for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await bind?.stop();
  });

  it("sandbox A, pointed at a BIND with --dns-server, finds sandbox B from the guide's records", async () => {
    const b = await startSandbox([]);
    started.push(b);
    const port = new URL(b.idsUrl).port;
    // the guide's zone, with sandbox B's /ids (on this machine) in place of 1.2.3.4:443
    bind = await startBind({
      zones: {
        'example.com': `
example.com. PTR liqo-cluster.example.com.
liqo-cluster.example.com. SRV 0 0 ${port} auth.server.example.com.
auth.server.example.com. A 127.0.0.1
`,
      },
    });
    const a = await startSandbox(['--dns-server', bind.server]);
    started.push(a);
    assert.match(a.stderr(), new RegExp(`DNS ${bind.server.replace(/\./g, '\\.')}`));
    assert.notEqual(a.clusterId, b.clusterId);

    // the guide's SearchDomain, pasted as it is (with `-f -`)
    const applied = await shellWith(
      a.kubeconfig,
      `cat << "EOF" | kubectl apply -f -
apiVersion: discovery.liqo.io/v1alpha1
kind: SearchDomain
metadata:
  name: example.com
spec:
  domain: example.com
  autojoin: true
EOF`,
    );
    assert.equal(applied.code, 0, applied.stderr);
    let found = '';
    for (let i = 0; i < 120 && found === ''; i++) {
      const r = await shellWith(
        a.kubeconfig,
        `kubectl get foreignclusters -l discovery.liqo.io/searchdomain=example.com -o jsonpath='{.items[*].spec.clusterIdentity.clusterID}'`,
      );
      found = r.stdout.trim();
      if (found === '') await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.equal(found, b.clusterId);

    // `version` in a sandbox: the webhook and agent run as processes, and say which release they are
    const plugin = await installPluginOnPath();
    try {
      const v = await plugin.run(['version'], { env: { KUBECONFIG: a.kubeconfig } });
      assert.equal(v.code, 0, v.stderr);
      assert.match(v.stdout, /^Client Version: (\d+\.\d+\.\d+)\nWebhook Version: \1\nAgent Version: \1\n$/);
    } finally {
      plugin.remove();
    }

    for (const s of [a, b]) s.child.kill('SIGINT');
    assert.deepEqual(await Promise.all([a.exited, b.exited]), [0, 0]);
  });

  it('keeps the logs of a run whose agent died, and says where they are', async () => {
    const s = await startSandbox([]);
    started.push(s);
    process.kill(agentPidOf(s.child.pid ?? 0), 'SIGKILL');
    assert.equal(await s.exited, 1);
    const kept = /logs kept in (\S+)\//.exec(s.stderr())?.[1];
    assert.ok(kept, `no "logs kept in" line in:\n${s.stderr()}`);
    assert.equal(kept, dirname(s.kubeconfig));
    assert.match(s.stderr(), /agent exited \(SIGKILL\); its log is kept: \S+agent\.log/);
    assert.ok(existsSync(join(kept, 'agent.log')) && existsSync(join(kept, 'kube-apiserver.log')));
    rmSync(kept, { recursive: true, force: true });
  });
});
