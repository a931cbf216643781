// kubectl liqo unjoin, one step at a time: complete and validate from flag objects, run against
// the in-memory LiqoResources (test/helpers/memory-liqo-resources.ts; the same command runs
// against a real kube-apiserver in test/e2e/plugin.test.ts).
import assert from 'node:assert/strict';
import { complete, run, validate, type UnjoinOptions } from '../../plugin/commands/unjoin.js';
import { captureIO } from '../../plugin/io.js';
import {
  foreignClusterFixture,
  memoryClients,
  noKubeconfigClients,
} from '../helpers/memory-liqo-resources.js';

const options = (o: Partial<UnjoinOptions> = {}): UnjoinOptions => ({
  target: 'peer-a',
  delete: false,
  dryRun: 'none',
  output: 'table',
  ...o,
});

async function unjoin(o: Partial<UnjoinOptions>, clients = memoryClients()) {
  const c = captureIO();
  await run(options(o), { io: c.io, clients });
  return { stdout: c.stdout(), stderr: c.stderr(), resources: clients.resources };
}

function seeded(...fcs: Parameters<typeof foreignClusterFixture>[]) {
  const clients = memoryClients();
  clients.resources.foreignClusters.seed(...fcs.map((args) => foreignClusterFixture(...args)));
  return clients;
}

describe('plugin unjoin (unit)', () => {
  describe('complete', () => {
    it('fills the defaults: patch join: false, no dry run, table output', () => {
      assert.deepEqual(complete({ target: 'peer-a' }), options());
    });

    it('keeps --delete, --dry-run and -o as given', () => {
      assert.deepEqual(
        complete({ target: 'x', delete: true, dryRun: 'server', output: 'json', verbose: 2 }),
        options({ target: 'x', delete: true, dryRun: 'server', output: 'json' }),
      );
    });
  });

  describe('validate', () => {
    it('accepts a name or cluster id', () => {
      assert.doesNotThrow(() => validate(options({ target: 'cluster-b' })));
    });

    it('refuses an empty target, saying what to give', () => {
      assert.throws(() => validate(options({ target: ' ' })), {
        name: 'UserError',
        message: 'unjoin needs a ForeignCluster name or cluster id (see "kubectl liqo list")',
      });
    });
  });

  describe('run', () => {
    it('patches join: false and says "unjoined"', async () => {
      const r = await unjoin({}, seeded(['peer-a']));
      assert.equal(r.stdout, 'foreigncluster.discovery.liqo.io/peer-a unjoined\n');
      assert.equal(r.resources.foreignClusters.stored('peer-a')?.spec.join, false);
      assert.deepEqual(
        r.resources.writes().map((w) => [w.verb, w.name, w.body]),
        [['patch', 'peer-a', { spec: { join: false } }]],
      );
    });

    it('finds the ForeignCluster by its cluster id when no object has that name', async () => {
      const r = await unjoin({ target: 'id-b' }, seeded(['peer-b', { clusterId: 'id-b' }]));
      assert.equal(r.stdout, 'foreigncluster.discovery.liqo.io/peer-b unjoined\n');
      assert.equal(r.resources.foreignClusters.stored('peer-b')?.spec.join, false);
    });

    it('writes nothing when join is already false ("unchanged")', async () => {
      const r = await unjoin({}, seeded(['peer-a', { join: false }]));
      assert.equal(r.stdout, 'foreigncluster.discovery.liqo.io/peer-a unchanged\n');
      assert.deepEqual(r.resources.writes(), []);
    });

    it('--delete removes the object', async () => {
      const r = await unjoin({ delete: true }, seeded(['peer-a']));
      assert.equal(r.stdout, 'foreigncluster.discovery.liqo.io/peer-a deleted\n');
      assert.equal(r.resources.foreignClusters.stored('peer-a'), undefined);
    });

    it('--dry-run=client sends no write and shows the object as it would be', async () => {
      const r = await unjoin({ dryRun: 'client', output: 'json' }, seeded(['peer-a']));
      assert.equal((JSON.parse(r.stdout) as { spec: { join: boolean } }).spec.join, false);
      assert.deepEqual(
        r.resources.requests.filter((q) => q.verb !== 'get' && q.verb !== 'list'),
        [],
      );
      assert.equal(r.resources.foreignClusters.stored('peer-a')?.spec.join, true);
    });

    it('--dry-run=server sends the write as a dry run and stores nothing', async () => {
      const r = await unjoin({ dryRun: 'server', delete: true }, seeded(['peer-a']));
      assert.equal(r.stdout, 'foreigncluster.discovery.liqo.io/peer-a deleted (server dry run)\n');
      assert.deepEqual(
        r.resources.requests.filter((q) => q.verb === 'delete').map((q) => q.dryRun),
        [true],
      );
      assert.ok(r.resources.foreignClusters.stored('peer-a'));
    });

    it('-o name prints only the resource name', async () => {
      const r = await unjoin({ output: 'name' }, seeded(['peer-a']));
      assert.equal(r.stdout, 'foreigncluster.discovery.liqo.io/peer-a\n');
    });

    it('an unknown target is one line pointing at "kubectl liqo list"', async () => {
      await assert.rejects(unjoin({ target: 'nobody' }, seeded(['peer-a'])), {
        name: 'UserError',
        message: 'no ForeignCluster named or with cluster id "nobody" (see "kubectl liqo list")',
      });
    });

    it('without a kubeconfig: the factory says so', async () => {
      const c = captureIO();
      await assert.rejects(run(options(), { io: c.io, clients: noKubeconfigClients() }), {
        message: /^no kubeconfig: set KUBECONFIG/,
      });
    });
  });
});
