// The agent's watches (shared/kube/watch.ts watchCollection) against a real kube-apiserver:
//  - a watch whose connection drops resumes from the last resourceVersion it saw, so an object
//    deleted while it was down is reported DELETED and an edit MODIFIED, and nothing is
//    replayed (a watch re-opened without a resourceVersion, as before, only replays what exists
//    and never says what was deleted);
//  - a resourceVersion the server no longer has answers 410 Gone, and the watch lists again.
// The connection is cut by a TCP forwarder between the watch and the API server that the test
// can close (every socket) and open again.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { SearchDomain } from '../../shared/api/types.js';
import { loadKubeConfig } from '../../shared/kube/config.js';
import { connectAgentKube, type AgentKube } from '../../agent/kube-access.js';
import { watchCollection, type WatchEventType } from '../../shared/kube/watch.js';
import { createLogger } from '../../agent/logger.js';
import type { ControlPlane } from '../harness/control-plane.js';
import { eventually, startLiqoControlPlane } from './agent-cluster-fixture.js';

const PATH = '/apis/discovery.liqo.io/v1alpha1/searchdomains';

/** A TCP forwarder to `target` that can drop every connection and refuse new ones. */
async function startCuttableForwarder(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) return void client.destroy();
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('agent watches: resume from the last resourceVersion, list again on 410 Gone', function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let kube: AgentKube;
  let forwarder: Awaited<ReturnType<typeof startCuttableForwarder>>;
  const log = createLogger(process.env['AGENT_TEST_LOG'] ?? 'silent');
  const seen: Array<[WatchEventType, string]> = [];
  const apply = async (name: string, autojoin: boolean) => {
    const r = await cp.kubectl(['apply', '-f', '-'], {
      input: `apiVersion: discovery.liqo.io/v1alpha1\nkind: SearchDomain\nmetadata:\n  name: ${name}\nspec:\n  domain: ${name}\n  autojoin: ${autojoin}\n`,
    });
    assert.equal(r.code, 0, r.stderr);
  };

  before(async function () {
    this.timeout(240_000);
    cp = await startLiqoControlPlane();
    const kubeconfig = readFileSync(cp.adminKubeconfig, 'utf8');
    const server = /(https:\/\/127\.0\.0\.1:(\d+))/.exec(kubeconfig);
    assert.ok(server, 'the admin kubeconfig names the API server on 127.0.0.1');
    forwarder = await startCuttableForwarder({ host: '127.0.0.1', port: Number(server[2]) });
    const viaForwarder = join(cp.dir, 'kubeconfig-forwarded');
    writeFileSync(viaForwarder, kubeconfig.replace(server[1]!, `https://127.0.0.1:${forwarder.port}`));
    kube = await connectAgentKube(await loadKubeConfig({ kubeconfig: viaForwarder }), 'liqo', 5000);
  });

  after(async () => {
    await forwarder?.close();
    await cp?.stop();
  });

  it('a dropped watch resumes: what was deleted or edited meanwhile arrives, nothing is replayed', async () => {
    await apply('one.test', false);
    await apply('two.test', false);
    const handle = watchCollection<SearchDomain>(
      kube.kubeConfig,
      PATH,
      (type, sd) => seen.push([type, sd.metadata.name ?? '']),
      { log, restartDelayMs: 200, maxRestartDelayMs: 1000 },
    );
    try {
      await eventually('both listed', async () => (seen.length >= 2 ? true : undefined));
      assert.deepEqual([...seen].sort(), [
        ['ADDED', 'one.test'],
        ['ADDED', 'two.test'],
      ]);
      seen.length = 0;

      forwarder.cut();
      assert.equal((await cp.kubectl(['delete', 'searchdomains', 'one.test'])).code, 0);
      await apply('two.test', true);
      forwarder.restore();

      await eventually('the changes made while cut', async () => (seen.length >= 2 ? true : undefined));
      // a little longer: a replay would come right after
      await new Promise((r) => setTimeout(r, 1000));
      assert.deepEqual(seen, [
        ['DELETED', 'one.test'],
        ['MODIFIED', 'two.test'],
      ]);
    } finally {
      handle.stop();
    }
  });

  it('a resourceVersion the server no longer has (410 Gone): lists again and carries on watching', async () => {
    const events: Array<[WatchEventType, string]> = [];
    const handle = watchCollection<SearchDomain>(
      kube.kubeConfig,
      PATH,
      (type, sd) => events.push([type, sd.metadata.name ?? '']),
      { log, restartDelayMs: 200, maxRestartDelayMs: 1000, startFromResourceVersion: '1' },
    );
    try {
      await eventually('listed after 410', async () => (events.length >= 1 ? true : undefined));
      assert.deepEqual(events, [['ADDED', 'two.test']]);
      await apply('three.test', false);
      await eventually('watching again', async () => (events.length >= 2 ? true : undefined));
      assert.deepEqual(events[1], ['ADDED', 'three.test']);
    } finally {
      handle.stop();
    }
  });
});
