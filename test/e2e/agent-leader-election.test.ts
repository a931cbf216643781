// Leader election with a paused leader: two agent processes (the bundle `npm run build` makes,
// built fresh from the source) in one namespace of a real kube-apiserver + etcd. The leader is
// frozen with SIGSTOP (as a long GC pause, a throttled container or a suspended VM would), the
// standby takes over, the old leader is resumed with SIGCONT. From the agents' own JSON logs
// (each write is logged at debug level before it is sent):
//  - the standby acquires only a full lease duration after the old leader's last renewal;
//  - the resumed leader says it stepped down before it sends anything, and sends no write after;
//  - the two never wrote in overlapping spans.
// Writes come steadily from a SearchDomain re-resolved every second (its DNS server is a closed
// port, so each pass writes an error into its status).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlPlane } from '../harness/control-plane.js';
import { buildProgramBundle, REPO_ROOT } from '../harness/liqo-environment.js';
import { freePort, httpGet, waitForHttpOk } from '../harness/network.js';
import { removeOnExit, startProcess, type ManagedProcess } from '../harness/processes.js';
import { eventually, startLiqoControlPlane } from './agent-cluster-fixture.js';

const LEASE_SECONDS = 6; // renew deadline 4 s, retry period 2 s, request timeout 2 s

interface LogLine {
  time: string;
  msg: string;
  verb?: string;
  sentAt?: string;
}

describe('leader election: a paused leader never writes alongside the new one', function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  let bundle: string;
  const agents: Array<{ proc: ManagedProcess; healthPort: number }> = [];

  before(async function () {
    this.timeout(240_000);
    cp = await startLiqoControlPlane();
    mkdirSync(join(REPO_ROOT, 'node_modules/.cache'), { recursive: true });
    const bundleDir = mkdtempSync(join(REPO_ROOT, 'node_modules/.cache/liqo-agent-'));
    removeOnExit(bundleDir);
    bundle = await buildProgramBundle('agent', bundleDir);
  });

  after(async function () {
    this.timeout(60_000);
    if (this.currentTest?.state !== 'passed' && process.env['LIQO_TEST_DUMP_LOGS'])
      for (const a of agents) process.stderr.write(readFileSync(a.proc.logFile, 'utf8'));
    for (const a of agents) {
      try {
        process.kill(a.proc.pid, 'SIGCONT');
      } catch {
        // already gone
      }
    }
    await Promise.allSettled(agents.map((a) => a.proc.stop()));
    await cp?.stop();
  });

  async function startAgent(identity: string, dnsPort: number) {
    const healthPort = await freePort();
    const proc = startProcess(
      identity,
      process.execPath,
      [
        bundle,
        `--kubeconfig=${cp.adminKubeconfig}`,
        '--namespace=liqo',
        '--ids-port=0',
        '--ids-bind-address=127.0.0.1',
        `--health-port=${healthPort}`,
        '--health-bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        '--no-mdns',
        `--identity=${identity}`,
        `--lease-duration=${LEASE_SECONDS}`,
        '--searchdomain-interval=1',
        `--dns-server=127.0.0.1:${dnsPort}`,
        '--log-level=debug',
      ],
      { logFile: join(cp.dir, `${identity}.log`) },
    );
    await waitForHttpOk(`http://127.0.0.1:${healthPort}/readyz`, {
      timeoutMs: 60_000,
      gaveUp: () => (proc.isRunning() ? undefined : `${identity} exited:\n${proc.tail()}`),
    });
    const agent = { proc, healthPort };
    agents.push(agent);
    return agent;
  }

  const isLeader = async (a: { healthPort: number }) =>
    /^liqo_agent_is_leader 1$/m.test((await httpGet(`http://127.0.0.1:${a.healthPort}/metrics`)).body);
  const logOf = (a: { proc: ManagedProcess }): LogLine[] =>
    readFileSync(a.proc.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
  const at = (l: LogLine) => Date.parse(l.time);
  const writes = (lines: LogLine[]) => lines.filter((l) => l.msg === 'write');

  it('the standby acquires only after the lease expired; the resumed leader steps down before any write', async () => {
    const dnsPort = await freePort(); // nothing listens there
    const sd = await cp.kubectl(['apply', '-f', '-'], {
      input:
        'apiVersion: discovery.liqo.io/v1alpha1\nkind: SearchDomain\nmetadata:\n  name: paused.test\nspec:\n  domain: paused.test\n',
    });
    assert.equal(sd.code, 0, sd.stderr);

    const a = await startAgent('agent-a', dnsPort);
    await eventually('a leads', async () => ((await isLeader(a)) ? true : undefined));
    const b = await startAgent('agent-b', dnsPort);
    await eventually('a writes', async () => (writes(logOf(a)).length >= 2 ? true : undefined));
    assert.equal(await isLeader(b), false, 'b is a standby');
    assert.equal(writes(logOf(b)).length, 0, 'a standby writes nothing');

    process.kill(a.proc.pid, 'SIGSTOP');
    const pausedAt = Date.now();
    await eventually('b takes over', async () => ((await isLeader(b)) ? true : undefined), 60_000);
    await eventually('b writes', async () => (writes(logOf(b)).length >= 2 ? true : undefined));
    // Read the clock before the resume: a stopped process logs nothing, and a resumed one may log
    // (its overdue timers fire at once, on the other core) before this process reads the clock.
    const resumedAt = Date.now();
    process.kill(a.proc.pid, 'SIGCONT');
    await eventually('a says it stepped down', async () =>
      logOf(a).some((l) => at(l) >= resumedAt && l.msg.startsWith('not leading')) ? true : undefined,
    );
    // a few more passes of b, during which a must stay silent
    const bWritesNow = writes(logOf(b)).length;
    await eventually('b writes on', async () =>
      writes(logOf(b)).length >= bWritesNow + 3 ? true : undefined,
    );

    const logA = logOf(a);
    const logB = logOf(b);
    // the standby took the Lease a full lease duration after a's last renewal was sent
    const lastRenewalOfA = logA
      .filter((l) => l.msg === 'renewed the lease' && at(l) <= pausedAt)
      .map((l) => Date.parse(l.sentAt ?? ''))
      .pop();
    assert.ok(lastRenewalOfA !== undefined, 'a renewed before it was paused');
    const acquiredByB = logB.find((l) => l.msg === 'acquired the lease');
    assert.ok(acquiredByB, 'b logged its acquisition');
    assert.ok(
      at(acquiredByB) >= lastRenewalOfA + LEASE_SECONDS * 1000,
      `b acquired at ${acquiredByB.time}, a lease duration after a's last renewal (${new Date(lastRenewalOfA).toISOString()})`,
    );

    // after it resumed, a stepped down before anything else it did, and wrote nothing since
    const afterResume = logA.filter((l) => at(l) >= resumedAt);
    const steppedDown = afterResume.findIndex((l) => l.msg.startsWith('not leading'));
    assert.ok(steppedDown >= 0);
    assert.deepEqual(writes(afterResume), [], 'no write from the resumed old leader');
    assert.ok(
      afterResume.slice(0, steppedDown).every((l) => l.msg !== 'write'),
      'stepped down before any write',
    );
    // a wrote only while its last renewal was fresh, and the spans of writes do not overlap
    const aWrites = writes(logA);
    const bWrites = writes(logB);
    assert.ok(aWrites.length > 0 && bWrites.length > 0);
    assert.ok(at(aWrites.at(-1)!) < at(bWrites[0]!), 'all of a’s writes came before b’s first');
    // Not a speed bound: the agent asks its renew deadline synchronously just before logging each
    // write (withGuardedWrites), so load cannot move a 'write' line past it — only a write made
    // without a fresh renewal (the bug this catches) can be there.
    assert.ok(
      at(aWrites.at(-1)!) < lastRenewalOfA + (LEASE_SECONDS * 1000 * 2) / 3,
      'within the renew deadline',
    );
    assert.equal(await isLeader(a), false);
    assert.equal(await isLeader(b), true);
  });
});
