// The uniqueness rules (one ForeignCluster per cluster id, one SearchDomain per domain, in
// shared/rules/uniqueness.ts) as the validating endpoint applies them to the objects its cache
// supplies. In the program the index is fed by informers watching the API server; here the test
// feeds the same index the same add/update/delete events directly (the informer path itself
// belongs to the e2e tests against a real kube-apiserver).
import { strict as assert } from 'node:assert';
import { validate, type AdmissionRequest, type CrossObjectChecks } from '../../webhook/admission.js';
import { CrossObjectIndex } from '../../webhook/crossobject-cache.js';
import { domainKeyOf } from '../../shared/rules/index.js';

function fc(name: string, clusterID?: string) {
  return {
    apiVersion: 'discovery.liqo.io/v1alpha1',
    kind: 'ForeignCluster',
    metadata: { name },
    spec: { authUrl: 'https://10.0.0.1:443', ...(clusterID ? { clusterIdentity: { clusterID } } : {}) },
  };
}

function sd(name: string, domain: string) {
  return {
    apiVersion: 'discovery.liqo.io/v1alpha1',
    kind: 'SearchDomain',
    metadata: { name },
    spec: { domain },
  };
}

function req(
  operation: 'CREATE' | 'UPDATE',
  object: { kind: string },
  oldObject?: unknown,
): AdmissionRequest {
  return {
    uid: 'u-1',
    kind: { group: 'discovery.liqo.io', version: 'v1alpha1', kind: object.kind },
    operation,
    object,
    ...(oldObject ? { oldObject } : {}),
  };
}

describe('webhook cross-object checks', () => {
  let index: CrossObjectIndex;
  let ready: CrossObjectChecks;
  const ctx = () => ({ allowLoopbackAuthUrl: false, crossObject: ready });

  beforeEach(() => {
    index = new CrossObjectIndex();
    ready = { state: 'ready', holding: (kind, key) => index.holding(kind, key) };
    index.set('ForeignCluster', 'alpha', fc('alpha', 'id-1'));
    index.set('SearchDomain', 'example.com', sd('example.com', 'example.com'));
  });

  it('refuses a second ForeignCluster with the same cluster id, naming the first', () => {
    const { review, result } = validate(req('CREATE', fc('beta', 'id-1')), ctx());
    assert.equal(result, 'denied');
    assert.equal(review.response.status?.code, 422);
    assert.equal(
      review.response.status?.message,
      'ForeignCluster "beta" is invalid: spec.clusterIdentity.clusterID: cluster id "id-1" is already used by ForeignCluster "alpha" (accepted: one ForeignCluster per cluster id: edit ForeignCluster "alpha" instead)',
    );
  });

  it('lets an object be updated without conflicting with itself', () => {
    const { review } = validate(req('UPDATE', fc('alpha', 'id-1'), fc('alpha', 'id-1')), ctx());
    assert.equal(review.response.allowed, true);
  });

  it('follows updates and deletes of the watched objects', () => {
    index.set('ForeignCluster', 'alpha', fc('alpha', 'id-2')); // alpha now has another id
    assert.equal(validate(req('CREATE', fc('beta', 'id-1')), ctx()).review.response.allowed, true);
    assert.equal(validate(req('CREATE', fc('beta', 'id-2')), ctx()).review.response.allowed, false);
    index.remove('ForeignCluster', 'alpha');
    assert.equal(validate(req('CREATE', fc('beta', 'id-2')), ctx()).review.response.allowed, true);
  });

  it('ignores ForeignClusters without a cluster id (only authUrl given)', () => {
    index.set('ForeignCluster', 'gamma', fc('gamma'));
    assert.equal(validate(req('CREATE', fc('delta')), ctx()).review.response.allowed, true);
  });

  it('compares domains as DNS does: case-insensitive, trailing dot ignored', () => {
    assert.equal(domainKeyOf(sd('x', 'Example.COM.')), 'example.com');
    const { review } = validate(req('CREATE', sd('other', 'EXAMPLE.com.')), ctx());
    assert.equal(review.response.allowed, false);
    assert.match(
      review.response.status?.message ?? '',
      /^SearchDomain "other" is invalid: spec\.domain: domain "example\.com" is already searched by SearchDomain "example\.com" \(accepted: /,
    );
    assert.equal(validate(req('CREATE', sd('other', 'example.org')), ctx()).review.response.allowed, true);
  });

  it('reports single-object errors before looking at other objects', () => {
    const bad = { ...fc('beta', 'id-1'), spec: { authUrl: '', clusterIdentity: { clusterID: 'id-1' } } };
    const message = validate(req('CREATE', bad), ctx()).review.response.status?.message ?? '';
    assert.match(message, /spec\.authUrl/);
    assert.doesNotMatch(message, /already used/);
  });

  it('refuses with 503 while the caches have not synced, and skips the checks when off', () => {
    const syncing: CrossObjectChecks = { state: 'syncing', holding: () => [] };
    const waiting = validate(req('CREATE', fc('beta', 'id-1')), {
      allowLoopbackAuthUrl: false,
      crossObject: syncing,
    });
    assert.equal(waiting.review.response.allowed, false);
    assert.equal(waiting.review.response.status?.code, 503);
    assert.match(waiting.review.response.status?.message ?? '', /retry/);
    const off: CrossObjectChecks = { state: 'off', holding: () => assert.fail('not consulted when off') };
    const allowed = validate(req('CREATE', fc('beta', 'id-1')), {
      allowLoopbackAuthUrl: false,
      crossObject: off,
    });
    assert.equal(allowed.review.response.allowed, true);
  });
});
