// kubectl liqo list, one step at a time: complete and validate from flag objects, run against
// the in-memory LiqoResources (test/helpers/memory-liqo-resources.ts; the same command runs
// against a real kube-apiserver in test/e2e/plugin.test.ts and plugin-status.test.ts).
import assert from 'node:assert/strict';
import { complete, run, validate, type ListOptions } from '../../plugin/commands/list.js';
import { captureIO } from '../../plugin/io.js';
import { foreignClusterFixture, memoryClients } from '../helpers/memory-liqo-resources.js';

async function list(output: ListOptions['output'], ...names: string[]) {
  const clients = memoryClients();
  clients.resources.foreignClusters.seed(
    ...names.map((n) => foreignClusterFixture(n, { clusterId: `id-${n}` })),
  );
  const c = captureIO();
  await run({ output }, { io: c.io, clients });
  return { stdout: c.stdout(), stderr: c.stderr(), resources: clients.resources };
}

describe('plugin list (unit)', () => {
  describe('complete', () => {
    it('defaults to the table', () => {
      assert.deepEqual(complete({}), { output: 'table' });
      assert.deepEqual(complete({ output: 'wide', context: 'x' }), { output: 'wide' });
    });
  });

  describe('validate', () => {
    it('has nothing left to refuse once -o is parsed', () => {
      for (const output of ['table', 'wide', 'json', 'yaml', 'name'] as const) validate({ output });
    });
  });

  describe('run', () => {
    it('a table sorted by name, from one LIST and no writes', async () => {
      const r = await list('table', 'zeta', 'alpha');
      const lines = r.stdout.trimEnd().split('\n');
      assert.match(
        lines[0] ?? '',
        /^NAME +CLUSTER-ID +CLUSTER-NAME +AUTH-URL +DISCOVERY +JOIN +JOINED +READY +REASON$/,
      );
      assert.match(
        lines[1] ?? '',
        /^alpha +id-alpha +<none> +https:\/\/alpha\.example:443 +Manual +true +false /,
      );
      assert.match(lines[2] ?? '', /^zeta +id-zeta /);
      assert.deepEqual(
        r.resources.requests.map((q) => q.verb),
        ['list'],
      );
    });

    it('-o wide adds TRUST, NAMESPACE, TTL, AGE and MESSAGE', async () => {
      const r = await list('wide', 'alpha');
      assert.match(r.stdout.split('\n')[0] ?? '', / TRUST +NAMESPACE +TTL +AGE +MESSAGE$/);
      assert.match(r.stdout.split('\n')[1] ?? '', / Trusted +<none> +<none> +\d+s /);
    });

    it('-o name and -o json', async () => {
      assert.equal(
        (await list('name', 'b', 'a')).stdout,
        'foreigncluster.discovery.liqo.io/a\nforeigncluster.discovery.liqo.io/b\n',
      );
      const json = JSON.parse((await list('json', 'a')).stdout) as {
        kind: string;
        items: { metadata: { name: string } }[];
      };
      assert.equal(json.kind, 'List');
      assert.deepEqual(
        json.items.map((i) => i.metadata.name),
        ['a'],
      );
    });

    it('no ForeignClusters: a note on stderr and an empty stdout', async () => {
      const r = await list('table');
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, 'No ForeignClusters found.\n');
    });
  });
});
