// The control-plane harness keeps its promises: a working admin, a limited user RBAC refuses,
// nothing left behind after stop() or a failed start, and one line when binaries are missing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ensureBinaries, MissingBinariesError } from '../harness/binaries.js';
import { startControlPlane } from '../harness/control-plane.js';
import { kubectlWith } from '../harness/kubectl.js';

/** PIDs of live processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

/** Files and directories named `prefix*` in the temporary directory or /dev/shm (etcd's data). */
const leftovers = (prefix: string) =>
  [tmpdir(), '/dev/shm']
    .filter(existsSync)
    .flatMap((dir) => readdirSync(dir).filter((name) => name.startsWith(prefix)));

describe('e2e: the control-plane harness', function () {
  it('gives an admin, a limited user that RBAC refuses, and leaves nothing behind after stop()', async function () {
    this.timeout(120_000);
    const prefix = `liqo-harness-test-${randomBytes(4).toString('hex')}-`;
    const cp = await startControlPlane({ tempDirPrefix: prefix });
    try {
      const admin = await cp.kubectl(['auth', 'can-i', '*', '*']);
      assert.equal(admin.stdout.trim(), 'yes');
      const limited = cp.createUserKubeconfig('limited-user');
      const refused = await kubectlWith(limited, ['get', 'namespaces']);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /Forbidden.*User "limited-user" cannot list resource "namespaces"/);
      const name = basename(cp.dir);
      assert.equal(
        processesMentioning(name).length,
        2,
        'etcd and kube-apiserver run with their files named after the directory',
      );
    } finally {
      await cp.stop();
    }
    assert.equal(existsSync(cp.dir), false);
    assert.deepEqual(processesMentioning(basename(cp.dir)), []);
    assert.deepEqual(leftovers(basename(cp.dir)), []);
    for (const p of cp.processes) assert.equal(p.isRunning(), false, `${p.name} still runs`);
  });

  it('cleans up after a start that fails (here: a readiness bound too short to meet)', async function () {
    this.timeout(60_000);
    const prefix = `liqo-harness-fail-${randomBytes(4).toString('hex')}-`;
    await assert.rejects(
      startControlPlane({ tempDirPrefix: prefix, readyTimeoutMs: 1 }),
      /not ready after 1 ms/,
    );
    assert.deepEqual(leftovers(prefix), []);
    assert.deepEqual(processesMentioning(prefix), []);
  });

  it('without binaries and without building, fails with one line saying how to get them', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'liqo-no-binaries-'));
    const saved = { assets: process.env.KUBEBUILDER_ASSETS, cache: process.env.XDG_CACHE_HOME };
    process.env.KUBEBUILDER_ASSETS = empty;
    process.env.XDG_CACHE_HOME = empty;
    try {
      await assert.rejects(ensureBinaries({ build: false }), (err: Error) => {
        assert.ok(err instanceof MissingBinariesError);
        assert.doesNotMatch(err.message, /\n/);
        assert.match(err.message, /kube-apiserver not found/);
        assert.match(err.message, /KUBEBUILDER_ASSETS/);
        assert.match(err.message, /Go/);
        return true;
      });
    } finally {
      for (const [key, value] of [
        ['KUBEBUILDER_ASSETS', saved.assets],
        ['XDG_CACHE_HOME', saved.cache],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
