// The name the agent serves on /ids when the ClusterConfig sets none: Liqo's installer form
// ("LiqoCluster" + 4 digits), derived from the cluster id so that it is stable.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { generatedClusterName, servedClusterName } from '../../agent/cluster-name.js';

describe('agent cluster name', () => {
  const id = '0558de48-097b-4b7d-ba04-6bd2a0f9d24f';

  it('is "LiqoCluster" and four digits, as Liqo\'s installer made it', () => {
    for (let i = 0; i < 200; i++) assert.match(generatedClusterName(randomUUID()), /^LiqoCluster\d{4}$/);
  });

  it('is the same for the same cluster id (every restart, every replica)', () => {
    assert.equal(generatedClusterName(id), generatedClusterName(`${id}`));
    // pinned: changing the derivation would rename every cluster on upgrade
    assert.equal(generatedClusterName(id), 'LiqoCluster6183');
  });

  it('differs between clusters: 1,000 random ids give well over 900 names', () => {
    const names = new Set(Array.from({ length: 1000 }, () => generatedClusterName(randomUUID())));
    // ~952 expected for 1,000 draws from 10,000 values; a constant or narrow range fails
    assert.ok(names.size > 900, `${names.size} distinct names`);
  });

  it('keeps leading zeros (four digits always)', () => {
    const small = Array.from({ length: 5000 }, (_, i) => generatedClusterName(`cluster-${i}`)).find((n) =>
      n.startsWith('LiqoCluster0'),
    );
    assert.ok(small, 'some id maps below 1000');
    assert.equal(small.length, 'LiqoCluster'.length + 4);
  });

  it('serves the ClusterConfig name when set, the generated one when unset or blank', () => {
    assert.equal(servedClusterName('my-cluster', id), 'my-cluster');
    assert.equal(servedClusterName(undefined, id), generatedClusterName(id));
    assert.equal(servedClusterName('', id), generatedClusterName(id));
    assert.equal(servedClusterName('  ', id), generatedClusterName(id));
  });
});
