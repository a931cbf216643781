// plugin/main.ts's part of the command shape: it runs complete → validate → run with the IO and
// the ClientFactory it is given, and turns a refusal from any step into `error: <line>`, exit 1.
import assert from 'node:assert/strict';
import { main } from '../../plugin/main.js';
import { captureIO } from '../../plugin/io.js';
import { foreignClusterFixture, memoryClients } from '../helpers/memory-liqo-resources.js';

async function cli(args: string[], clients = memoryClients()) {
  const c = captureIO();
  const code = await main(args, c.io, clients);
  return { code, stdout: c.stdout(), stderr: c.stderr(), clients };
}

describe('plugin main (unit): complete → validate → run with an injected ClientFactory', () => {
  it('runs the command against the factory it was given', async () => {
    const clients = memoryClients();
    clients.resources.foreignClusters.seed(foreignClusterFixture('peer-a'));
    const r = await cli(['unjoin', 'peer-a', '--dry-run=server'], clients);
    assert.deepEqual(
      [r.code, r.stdout, r.stderr],
      [0, 'foreigncluster.discovery.liqo.io/peer-a unjoined (server dry run)\n', ''],
    );
    assert.equal(clients.connections, 1);
  });

  it('a refusal from validate is one error line, exit 1, and no client is asked for', async () => {
    const r = await cli(['unjoin', '']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      'error: unjoin needs a ForeignCluster name or cluster id (see "kubectl liqo list")\n',
    );
    assert.equal(r.clients.connections, 0);
  });

  it('__complete offers the ForeignCluster names from the injected factory', async () => {
    const clients = memoryClients();
    clients.resources.foreignClusters.seed(foreignClusterFixture('peer-a'), foreignClusterFixture('other'));
    const r = await cli(['__complete', 'unjoin', 'pe'], clients);
    assert.equal(r.stdout, 'peer-a\n:4\n');
  });
});
