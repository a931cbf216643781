// The uniqueness rules (shared/rules/uniqueness.ts) on their own: the object and the other
// stored objects in, the field error or none out. The webhook (webhook-crossobject.test.ts) and
// the plugin (e2e plugin.test.ts) supply the stored objects.
import assert from 'node:assert/strict';
import { rulesByKind, uniqueClusterId, uniqueDomain } from '../../shared/rules/index.js';

const fc = (name: string, clusterID?: unknown) => ({
  metadata: { name },
  spec: {
    authUrl: 'https://10.0.0.1:443',
    ...(clusterID === undefined ? {} : { clusterIdentity: { clusterID } }),
  },
});
const sd = (name: string, domain: unknown) => ({ metadata: { name }, spec: { domain } });
const named = (...objects: { metadata: { name: string } }[]) =>
  objects.map((object) => ({ name: object.metadata.name, object }));

describe('rules: uniqueness', () => {
  it('are in the one rule table: ForeignCluster by cluster id, SearchDomain by domain, nothing else', () => {
    assert.equal(rulesByKind.ForeignCluster.unique, uniqueClusterId);
    assert.equal(rulesByKind.SearchDomain.unique, uniqueDomain);
    assert.equal(rulesByKind.ClusterConfig.unique, undefined);
  });

  it('refuses a second ForeignCluster with a cluster id, naming every holder in order', () => {
    const existing = named(fc('zeta', 'id-1'), fc('alpha', 'id-1'), fc('other', 'id-2'));
    assert.deepEqual(uniqueClusterId.conflicts(fc('new', 'id-1'), 'new', existing), [
      {
        field: 'spec.clusterIdentity.clusterID',
        message: 'cluster id "id-1" is already used by ForeignCluster "alpha", ForeignCluster "zeta"',
        accepted:
          'one ForeignCluster per cluster id: edit ForeignCluster "alpha", ForeignCluster "zeta" instead',
      },
    ]);
  });

  it('an object never conflicts with itself, and one without an id (or a non-string one) with nothing', () => {
    const existing = named(fc('alpha', 'id-1'), fc('gamma'), fc('delta', ''));
    assert.deepEqual(uniqueClusterId.conflicts(fc('alpha', 'id-1'), 'alpha', existing), []);
    assert.deepEqual(uniqueClusterId.conflicts(fc('beta'), 'beta', existing), []);
    assert.deepEqual(uniqueClusterId.conflicts(fc('beta', ''), 'beta', existing), []);
    assert.deepEqual(uniqueClusterId.conflicts(fc('beta', 7), 'beta', existing), []);
    assert.deepEqual(uniqueClusterId.conflicts('not an object', undefined, existing), []);
  });

  it('an object without a name yet (generateName) conflicts with every holder', () => {
    assert.equal(uniqueClusterId.conflicts(fc('', 'id-1'), undefined, named(fc('alpha', 'id-1'))).length, 1);
  });

  it('compares domains as DNS does: case-insensitive, trailing dot ignored', () => {
    const existing = named(sd('example.com', 'example.com'));
    const [error] = uniqueDomain.conflicts(sd('other', 'EXAMPLE.com.'), 'other', existing);
    assert.equal(error?.field, 'spec.domain');
    assert.equal(error?.message, 'domain "example.com" is already searched by SearchDomain "example.com"');
    assert.deepEqual(uniqueDomain.conflicts(sd('other', 'example.org'), 'other', existing), []);
    assert.deepEqual(uniqueDomain.conflicts(sd('other', 42), 'other', existing), []);
  });
});
