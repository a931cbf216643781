// agent/leader-only-writes.ts: the leader's kube access asks the elector before every write of
// every custom resource, and reads go through untouched. The clients are the in-memory
// LiqoResources of the unit layer (test/helpers/memory-liqo-resources.ts); the elector's real
// refusal in a running agent is tested in test/e2e/agent-leader-election.test.ts.
import assert from 'node:assert/strict';
import type { AgentKube } from '../../agent/kube-access.js';
import { NotLeadingError } from '../../agent/leader-election.js';
import { describeWrite, withGuardedWrites } from '../../agent/leader-only-writes.js';
import { createLogger } from '../../agent/logger.js';
import type { ResourceClient } from '../../shared/kube/liqo-resources.js';
import { MemoryLiqoResources } from '../helpers/memory-liqo-resources.js';

function guarded(leading: { now: boolean }) {
  const memory = new MemoryLiqoResources();
  const asked: string[] = [];
  const kube = withGuardedWrites(
    { liqo: memory } as unknown as AgentKube,
    (what) => {
      asked.push(what);
      if (!leading.now) throw new NotLeadingError(what);
    },
    createLogger('silent'),
  );
  return { memory, asked, liqo: kube.liqo };
}

const sd = (name: string) => ({
  apiVersion: 'discovery.liqo.io/v1alpha1',
  kind: 'SearchDomain',
  metadata: { name },
  spec: { domain: name, autojoin: false },
});

describe('leader-only writes', () => {
  it('names each write by verb, kind and object', () => {
    assert.deepEqual(describeWrite('patch', 'ForeignCluster', ['peer', {}]), {
      what: 'patch ForeignCluster peer',
      name: 'peer',
    });
    assert.deepEqual(describeWrite('create', 'SearchDomain', [sd('a.test')]), {
      what: 'create SearchDomain a.test',
      name: 'a.test',
    });
  });

  it('while leading: writes are sent after asking, reads as before', async () => {
    const { memory, asked, liqo } = guarded({ now: true });
    await liqo.searchDomains.create(sd('a.test') as never);
    assert.deepEqual(asked, ['create SearchDomain a.test']);
    assert.ok(await memory.searchDomains.get('a.test'));
    assert.equal((await liqo.searchDomains.get('a.test'))?.metadata.name, 'a.test');
    assert.equal((await liqo.searchDomains.list()).length, 1);
    assert.equal(asked.length, 1, 'reads ask nothing');
  });

  it('not leading: every write of every resource is refused and nothing is sent', async () => {
    const { memory, asked, liqo } = guarded({ now: false });
    const clients = Object.entries(memory).filter(
      (e): e is [string, ResourceClient<unknown>] => typeof (e[1] as { kind?: unknown })?.kind === 'string',
    );
    assert.deepEqual(
      clients.map(([key]) => key),
      ['foreignClusters', 'searchDomains', 'clusterConfigs', 'dnsRegistrations'],
    );
    for (const [key, client] of clients) {
      const mine = (liqo as unknown as Record<string, ResourceClient<unknown>>)[key]!;
      await assert.rejects(mine.patch('x', {}), NotLeadingError, `${key}.patch`);
      await assert.rejects(mine.delete('x'), NotLeadingError, `${key}.delete`);
      assert.match(asked.at(-1) ?? '', new RegExp(`^delete ${client.kind} x$`));
    }
    assert.deepEqual(memory.writes(), []);
  });
});
