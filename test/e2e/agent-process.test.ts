// The agent as a real process (the bundle `npm run build` makes, built fresh from the source)
// against a real kube-apiserver + etcd, checked with the real kubectl:
//  - a Manual ForeignCluster whose authUrl is corrected is tried at once, not when the pending
//    retry of the old URL comes (the retry is made an hour long here, so waiting for it would
//    time the test out), and the old URL's error gives way to the new result;
//  - GET /ids serves the ClusterConfig's clusterName, follows edits, and otherwise a generated
//    "LiqoClusterNNNN" that survives a restart; a peer filled from such an /ids shows it.
// A second agent (cluster "B": namespace liqo-b, its own cluster id) runs as a standby — its
// Lease is held by someone else — so it only serves /ids, as a peer cluster would.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ForeignCluster } from '../../shared/api/types.js';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import { generatedClusterName } from '../../agent/cluster-name.js';
import type { ControlPlane } from '../harness/control-plane.js';
import { buildProgramBundle, REPO_ROOT } from '../harness/liqo-environment.js';
import { freePort, httpGet, waitForHttpOk } from '../harness/network.js';
import { removeOnExit, startProcess, type ManagedProcess } from '../harness/processes.js';
import { GUIDE_IDENTITY, startIdsServer, testKeyPem, type IdsServer } from '../helpers/https-ids-server.js';
import { eventually, kubectlOn, startLiqoControlPlane } from './agent-cluster-fixture.js';

const HOUR_SECONDS = 3600;

interface AgentProcess {
  proc: ManagedProcess;
  idsPort: number;
  healthPort: number;
  namespace: string;
}

interface IdentityCondition {
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

describe('the agent process: spec edits are tried at once; /ids serves a cluster name', function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let bundle: string;
  let agentA: AgentProcess;
  let agentB: AgentProcess;
  let good: IdsServer;
  let hangs: IdsServer;

  const { kubectl, json } = kubectlOn(() => cp);
  const fc = (name: string) => json<ForeignCluster>(['get', 'foreignclusters', name]);
  const identityCondition = async (name: string) =>
    (await fc(name)).status?.conditions?.find((c) => c.type === 'IdentityResolved') as
      IdentityCondition | undefined;
  const createManual = async (name: string, authUrl: string) => {
    const r = await kubectl(
      ['apply', '-f', '-'],
      `apiVersion: discovery.liqo.io/v1alpha1\nkind: ForeignCluster\nmetadata:\n  name: ${name}\nspec:\n  authUrl: "${authUrl}"\n`,
    );
    assert.equal(r.code, 0, r.stderr);
  };
  const setAuthUrl = async (name: string, authUrl: string) => {
    const r = await kubectl([
      'patch',
      'foreignclusters',
      name,
      '--type',
      'merge',
      '--patch',
      JSON.stringify({ spec: { authUrl } }),
    ]);
    assert.equal(r.code, 0, r.stderr);
  };
  const clusterIdOf = async (namespace: string) =>
    (await json<{ data: Record<string, string> }>(['-n', namespace, 'get', 'configmap', 'cluster-id'])).data[
      'cluster-id'
    ]!;
  const idsOf = async (agent: AgentProcess) => {
    const r = await httpGet(`https://127.0.0.1:${agent.idsPort}/ids`, { rejectUnauthorized: false });
    assert.equal(r.status, 200, r.body);
    return JSON.parse(r.body) as { clusterId: string; clusterName?: string };
  };
  /** The agent's JSON log lines saying when it will retry a ForeignCluster. */
  const retriesLoggedNow = (agent: AgentProcess, name: string) =>
    readFileSync(agent.proc.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map(
        (l) =>
          JSON.parse(l) as { msg?: string; foreignCluster?: string; generation?: number; retryInMs?: number },
      )
      .filter((l) => l.msg === 'identity not filled; will retry' && l.foreignCluster === name);
  /** Those lines once there are at least `count` (the log may trail the status by a moment). */
  const retriesLogged = (agent: AgentProcess, name: string, count: number) =>
    eventually(`${count} retries of ${name} logged`, async () => {
      const lines = retriesLoggedNow(agent, name);
      return lines.length >= count ? lines : undefined;
    });

  async function startAgentProcess(
    namespace: string,
    identity: string,
    extraArgs: string[] = [],
    ports?: { idsPort: number; healthPort: number },
  ): Promise<AgentProcess> {
    const idsPort = ports?.idsPort ?? (await freePort());
    const healthPort = ports?.healthPort ?? (await freePort());
    const proc = startProcess(
      identity,
      process.execPath,
      [
        bundle,
        `--kubeconfig=${cp.adminKubeconfig}`,
        `--namespace=${namespace}`,
        `--ids-port=${idsPort}`,
        '--ids-bind-address=127.0.0.1',
        `--health-port=${healthPort}`,
        '--health-bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        '--no-mdns',
        '--allow-loopback', // the peers here listen on 127.0.0.1
        `--identity=${identity}`,
        '--log-level=debug',
        ...extraArgs,
      ],
      { logFile: join(cp.dir, `${identity}.log`) },
    );
    await waitForHttpOk(`http://127.0.0.1:${healthPort}/readyz`, {
      timeoutMs: 60_000,
      gaveUp: () => (proc.isRunning() ? undefined : `${identity} exited:\n${proc.tail()}`),
    });
    return { proc, idsPort, healthPort, namespace };
  }

  const leads = (agent: AgentProcess) =>
    eventually(
      `${agent.proc.name} leads`,
      async () => {
        const m = await httpGet(`http://127.0.0.1:${agent.healthPort}/metrics`);
        return /liqo_agent_is_leader 1/.test(m.body) ? true : undefined;
      },
      30_000,
    );

  before(async function () {
    this.timeout(240_000);
    cp = await startLiqoControlPlane();
    // inside node_modules/ so the bundle's external `import('@kubernetes/client-node')` resolves
    mkdirSync(join(REPO_ROOT, 'node_modules/.cache'), { recursive: true });
    const bundleDir = mkdtempSync(join(REPO_ROOT, 'node_modules/.cache/liqo-agent-'));
    removeOnExit(bundleDir);
    bundle = await buildProgramBundle('agent', bundleDir);

    const keyPem = await testKeyPem();
    const cert = createServingCertificate({ commonName: 'peer', hosts: ['127.0.0.1'], keyPem });
    good = await startIdsServer({ ...cert, identity: GUIDE_IDENTITY });
    hangs = await startIdsServer({ ...cert, handler: () => {} });

    // cluster A: retries an hour apart (doubling up to four), so only an edit can bring one sooner
    agentA = await startAgentProcess('liqo', 'agent-a', [
      `--identity-retry-min=${HOUR_SECONDS}`,
      `--identity-retry-max=${4 * HOUR_SECONDS}`,
      '--ids-timeout=2000',
    ]);
    await leads(agentA);

    // cluster B: a standby replica (its Lease is held elsewhere for an hour), so it only serves /ids
    assert.equal((await kubectl(['create', 'namespace', 'liqo-b'])).code, 0);
    const lease = await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'liqo-discovery-agent', namespace: 'liqo-b' },
        spec: {
          holderIdentity: 'another-replica',
          leaseDurationSeconds: HOUR_SECONDS,
          renewTime: new Date().toISOString().replace('Z', '000Z'),
        },
      }),
    );
    assert.equal(lease.code, 0, lease.stderr);
    agentB = await startAgentProcess('liqo-b', 'agent-b');
  });

  after(async function () {
    this.timeout(60_000);
    await Promise.allSettled([agentA?.proc.stop(), agentB?.proc.stop()]);
    await Promise.allSettled([good?.close(), hangs?.close()]);
    await cp?.stop();
  });

  describe('a corrected authUrl', () => {
    it('is tried at once: the identity is filled and the old error gone while the old retry is an hour away', async () => {
      const closedPort = await freePort();
      await createManual('fixed-later', `https://127.0.0.1:${closedPort}`);
      const failed = await eventually('the closed port’s error', async () => {
        const c = await identityCondition('fixed-later');
        return c?.status === 'False' ? c : undefined;
      });
      assert.equal(failed.reason, 'REFUSED');
      assert.match(failed.message ?? '', new RegExp(`127\\.0\\.0\\.1:${closedPort}.*refused`));
      const nextTry = Date.parse(/next try at (\S+),/.exec(failed.message ?? '')?.[1] ?? '');
      assert.ok(Number.isFinite(nextTry), `the message names the next try: ${failed.message}`);
      assert.deepEqual(
        (await retriesLogged(agentA, 'fixed-later', 1)).map((l) => l.retryInMs),
        [HOUR_SECONDS * 1000],
        'one failure so far, retried in an hour',
      );

      await setAuthUrl('fixed-later', good.url);
      const filled = await eventually('the identity from the corrected authUrl', async () => {
        const f = await fc('fixed-later');
        return f.spec.clusterIdentity?.clusterID ? f : undefined;
      });
      // ordering, not a duration: the fill came while the old URL's retry was still pending
      assert.ok(Date.now() < nextTry, 'filled before the old back-off fired');
      assert.deepEqual(filled.spec.clusterIdentity, {
        clusterID: GUIDE_IDENTITY.clusterId,
        clusterName: GUIDE_IDENTITY.clusterName,
      });
      const resolved = await eventually('condition True', async () => {
        const c = await identityCondition('fixed-later');
        return c?.status === 'True' ? c : undefined;
      });
      assert.match(resolved.message ?? '', new RegExp(good.url.replace(/[.]/g, '\\.')));
      assert.doesNotMatch(resolved.message ?? '', /refused/);
      assert.equal(resolved.observedGeneration, (await fc('fixed-later')).metadata.generation);
      assert.deepEqual(
        retriesLoggedNow(agentA, 'fixed-later').map((l) => l.retryInMs),
        [HOUR_SECONDS * 1000],
        'no retry of the old URL ran',
      );
      const table = await kubectl(['get', 'foreignclusters', 'fixed-later']);
      assert.match(table.stdout, new RegExp(`\\b${GUIDE_IDENTITY.clusterName}\\b`));
    });

    it('a new URL that fails too replaces the old message, and its back-off starts again from the short end', async () => {
      const [first, second] = [await freePort(), await freePort()];
      await createManual('wrong-twice', `https://127.0.0.1:${first}`);
      await eventually('first error', async () => {
        const c = await identityCondition('wrong-twice');
        return c?.message?.includes(`:${first}`) ? c : undefined;
      });
      const gen1 = (await fc('wrong-twice')).metadata.generation;
      await setAuthUrl('wrong-twice', `https://127.0.0.1:${second}`);
      const gen2 = (await fc('wrong-twice')).metadata.generation;
      assert.notEqual(gen2, gen1);
      const c = await eventually('second error', async () => {
        const cond = await identityCondition('wrong-twice');
        return cond?.message?.includes(`:${second}`) ? cond : undefined;
      });
      assert.equal(c.status, 'False');
      assert.doesNotMatch(c.message ?? '', new RegExp(`:${first}\\b`));
      assert.equal(c.observedGeneration, gen2);
      // the same spec failing twice would wait two hours; a new spec waits one again
      assert.deepEqual(
        (await retriesLogged(agentA, 'wrong-twice', 2)).map((l) => [l.generation, l.retryInMs]),
        [
          [gen1, HOUR_SECONDS * 1000],
          [gen2, HOUR_SECONDS * 1000],
        ],
      );
    });

    it('an edit made while the old URL is still being asked is tried right after that attempt', async () => {
      const before = hangs.requests;
      await createManual('edited-in-flight', hangs.url);
      await eventually('the hanging /ids is being asked', async () =>
        hangs.requests > before ? true : undefined,
      );
      await setAuthUrl('edited-in-flight', good.url);
      const filled = await eventually('the identity from the new authUrl', async () => {
        const f = await fc('edited-in-flight');
        return f.spec.clusterIdentity?.clusterID ? f : undefined;
      });
      assert.equal(filled.spec.clusterIdentity?.clusterID, GUIDE_IDENTITY.clusterId);
      const c = await eventually('condition True', async () => {
        const cond = await identityCondition('edited-in-flight');
        return cond?.status === 'True' ? cond : undefined;
      });
      assert.doesNotMatch(c.message ?? '', new RegExp(`:${hangs.port}\\b`));
    });
  });

  describe('the cluster name on /ids', () => {
    it('is a generated LiqoClusterNNNN while the ClusterConfig sets none, the same after a restart', async () => {
      const idA = await clusterIdOf('liqo');
      const expected = generatedClusterName(idA);
      assert.match(expected, /^LiqoCluster\d{4}$/);
      assert.deepEqual(await idsOf(agentA), {
        clusterId: idA,
        clusterName: expected,
        guestNamespace: 'liqo',
        protocolVersion: 1,
      });
      await agentA.proc.stop();
      agentA = await startAgentProcess(
        'liqo',
        'agent-a',
        [`--identity-retry-min=${HOUR_SECONDS}`, `--identity-retry-max=${4 * HOUR_SECONDS}`],
        { idsPort: agentA.idsPort, healthPort: agentA.healthPort },
      );
      assert.equal((await idsOf(agentA)).clusterName, expected, 'same name after a restart');
      const idB = await clusterIdOf('liqo-b');
      assert.notEqual(idB, idA);
      assert.equal((await idsOf(agentB)).clusterName, generatedClusterName(idB));
    });

    it("reaches the peer: a ForeignCluster filled from cluster B's /ids shows B's generated name", async () => {
      await leads(agentA);
      await createManual('cluster-b', `https://127.0.0.1:${agentB.idsPort}`);
      const nameB = generatedClusterName(await clusterIdOf('liqo-b'));
      const filled = await eventually('filled from B', async () => {
        const f = await fc('cluster-b');
        return f.spec.clusterIdentity?.clusterID ? f : undefined;
      });
      assert.equal(filled.spec.clusterIdentity?.clusterName, nameB);
      const table = await kubectl(['get', 'foreignclusters', 'cluster-b']);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, new RegExp(`\\b${nameB}\\b`));
    });

    it('serves the ClusterConfig clusterName, follows its edits, and goes back to the generated one when unset', async () => {
      const apply = await kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'config.liqo.io/v1alpha1',
          kind: 'ClusterConfig',
          metadata: { name: 'liqo-configuration' },
          spec: { discoveryConfig: { clusterName: 'LiqoCluster0692' } },
        }),
      );
      assert.equal(apply.code, 0, apply.stderr);
      const served = (want: string | undefined) => async () =>
        (await idsOf(agentA)).clusterName === want ? true : undefined;
      await eventually('the configured name', served('LiqoCluster0692'), 15_000);
      const rename = await kubectl([
        'patch',
        'clusterconfigs',
        'liqo-configuration',
        '--type=merge',
        '--patch',
        '{"spec":{"discoveryConfig":{"clusterName":"edited-name"}}}',
      ]);
      assert.equal(rename.code, 0, rename.stderr);
      await eventually('the edited name', served('edited-name'), 15_000);
      const unset = await kubectl([
        'patch',
        'clusterconfigs',
        'liqo-configuration',
        '--type=merge',
        '--patch',
        '{"spec":{"discoveryConfig":{"clusterName":null}}}',
      ]);
      assert.equal(unset.code, 0, unset.stderr);
      await eventually(
        'the generated name again',
        served(generatedClusterName(await clusterIdOf('liqo'))),
        15_000,
      );
    });
  });
});
