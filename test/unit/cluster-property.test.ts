// The About API's ClusterProperty (KEP-2149): how a 404 is told apart (CRD missing or object
// missing), which id wins, the agent's condition, and what `discovery status` prints.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { clusterIdCondition, upsertCondition } from '../../agent/cluster-property.js';
import { clusterIdLines, clusterIdReport } from '../../plugin/install/cluster-property.js';
import {
  classifyNotFound,
  clusterIdAgreement,
  clusterIdOfProperty,
  clusterIdProperty,
} from '../../shared/kube/sig-multicluster.js';
import { ABOUT_API, stripVendorHeader } from '../../test/harness/sig-multicluster-crds.mjs';

describe('ClusterProperty (KEP-2149)', () => {
  it('a 404 with a NotFound Status is the object; a plain 404 page is the resource type (no CRD)', () => {
    const status = JSON.stringify({ kind: 'Status', reason: 'NotFound', code: 404 });
    assert.equal(classifyNotFound({ code: 404, body: status }), 'object');
    assert.equal(classifyNotFound({ code: 404, body: JSON.parse(status) as unknown }), 'object');
    assert.equal(classifyNotFound({ code: 404, body: '404 page not found\n' }), 'resource-type');
    assert.equal(classifyNotFound({ code: 403, body: status }), undefined);
    assert.equal(classifyNotFound(new Error('ECONNREFUSED')), undefined);
  });

  it('the id a property gives: trimmed spec.value, nothing for blank or missing', () => {
    assert.equal(clusterIdOfProperty(clusterIdProperty(' abc ')), 'abc');
    assert.equal(clusterIdOfProperty(clusterIdProperty('  ')), undefined);
    assert.equal(clusterIdOfProperty(undefined), undefined);
    assert.deepEqual(clusterIdProperty('x'), {
      apiVersion: 'about.k8s.io/v1beta1',
      kind: 'ClusterProperty',
      metadata: { name: 'cluster.clusterset.k8s.io' },
      spec: { value: 'x' },
    });
  });

  it('agreement and the ClusterIdConsistent condition', () => {
    assert.equal(clusterIdCondition(clusterIdAgreement('a', undefined), 'liqo'), undefined);
    assert.deepEqual(
      [clusterIdCondition(clusterIdAgreement(undefined, 'p'), 'liqo')].map((c) => [c?.status, c?.reason]),
      [['True', 'FromClusterProperty']],
    );
    assert.equal(clusterIdCondition(clusterIdAgreement('a', 'a'), 'liqo')?.reason, 'Agree');
    const differ = clusterIdCondition(clusterIdAgreement('a', 'b'), 'liqo');
    assert.equal(differ?.status, 'False');
    assert.equal(differ?.reason, 'ClusterPropertyDiffers');
    assert.match(
      differ?.message ?? '',
      /^ConfigMap liqo\/cluster-id says a but ClusterProperty cluster\.clusterset\.k8s\.io says b; \/ids serves the ConfigMap's/,
    );
  });

  it('upsertCondition keeps other conditions and the transition time while the status holds', () => {
    const t0 = new Date('2026-01-01T00:00:00Z');
    const t1 = new Date('2026-01-02T00:00:00Z');
    const other = { type: 'Other', status: 'True' as const };
    const c = { type: 'ClusterIdConsistent', status: 'True' as const, reason: 'Agree' };
    const first = upsertCondition([other], c.type, c, t0);
    assert.deepEqual(first, [other, { ...c, lastTransitionTime: t0.toISOString() }]);
    assert.deepEqual(upsertCondition(first, c.type, c, t1), first);
    const flipped = upsertCondition(first, c.type, { ...c, status: 'False' }, t1);
    assert.equal(flipped[1]?.lastTransitionTime, t1.toISOString());
    assert.deepEqual(upsertCondition(first, c.type, undefined, t1), [other]);
  });

  it('discovery status: nothing without a property; the source or the mismatch otherwise', () => {
    assert.deepEqual(clusterIdLines(clusterIdReport('liqo', false, 'a', undefined), 'liqo'), []);
    assert.deepEqual(clusterIdLines(clusterIdReport('liqo', true, 'a', undefined), 'liqo'), []);
    assert.deepEqual(clusterIdLines(clusterIdReport('liqo', true, 'a', 'a'), 'liqo'), [
      'cluster id: a (ConfigMap liqo/cluster-id and ClusterProperty cluster.clusterset.k8s.io agree)',
    ]);
    assert.deepEqual(clusterIdLines(clusterIdReport('liqo', true, undefined, 'p'), 'liqo'), [
      'cluster id: p (from ClusterProperty cluster.clusterset.k8s.io; no ConfigMap liqo/cluster-id)',
    ]);
    const mismatch = clusterIdReport('liqo', true, 'a', 'b');
    assert.equal(mismatch.clusterId, 'a');
    assert.equal(mismatch.source, 'ConfigMap');
    assert.match(
      clusterIdLines(mismatch, 'liqo')[0] ?? '',
      /^cluster id mismatch: ConfigMap liqo\/cluster-id says a but/,
    );
  });

  it('the vendored about-api CRD is upstream byte for byte below its header (the pinned sha256)', () => {
    const upstream = stripVendorHeader(readFileSync(ABOUT_API.vendored, 'utf8'));
    assert.equal(createHash('sha256').update(upstream).digest('hex'), ABOUT_API.sha256);
    assert.match(upstream, /^---\napiVersion: apiextensions\.k8s\.io\/v1\n/);
    assert.match(upstream, /name: clusterproperties\.about\.k8s\.io/);
    assert.match(upstream, /name: v1beta1\n/);
  });
});
