// The pieces the ratchet and the cluster-id rule are made of: reading a FieldError's field as a
// path, comparing JSON values without recursion, and checkClusterId's verdicts and messages.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  checkClusterId,
  clusterIdProblem,
  isAcceptedClusterId,
  showClusterId,
} from '../../shared/rules/cluster-id.js';
import {
  fieldPath,
  onlyMetadataChanged,
  ratchetErrors,
  sameJson,
  valueAtPath,
} from '../../shared/rules/ratchet.js';

describe('ratchet helpers', () => {
  it('reads the fields the rules report as paths', () => {
    assert.deepEqual(fieldPath('spec.discoveryConfig.port'), ['spec', 'discoveryConfig', 'port']);
    assert.deepEqual(fieldPath('metadata.labels[discovery.liqo.io/cluster-id]'), [
      'metadata',
      'labels',
      'discovery.liqo.io/cluster-id',
    ]);
    assert.deepEqual(fieldPath('spec.list[0].name'), ['spec', 'list', '0', 'name']);
    assert.deepEqual(fieldPath('(object)'), []);
    for (const odd of ['', 'spec.', '.spec', 'spec..x', 'spec[unclosed', 'spec[a]b']) {
      assert.equal(fieldPath(odd), undefined, odd);
    }
  });

  it('finds values by path, own properties only', () => {
    const obj = { spec: { list: [{ name: 'a' }] }, metadata: { labels: { 'a.b/c': 'v' } } };
    assert.equal(valueAtPath(obj, ['spec', 'list', '0', 'name']), 'a');
    assert.equal(valueAtPath(obj, ['metadata', 'labels', 'a.b/c']), 'v');
    assert.equal(valueAtPath(obj, ['spec', 'missing', 'deeper']), undefined);
    assert.equal(valueAtPath(obj, ['spec', 'constructor']), undefined);
  });

  it('compares JSON values ignoring key order, null as absent', () => {
    assert.ok(sameJson({ a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'x' }], a: 1 }));
    assert.ok(sameJson(undefined, null));
    assert.ok(!sameJson({ a: 1 }, { a: 1, b: 2 }));
    assert.ok(!sameJson([1, 2], [2, 1]));
    assert.ok(!sameJson({ a: '1' }, { a: 1 }));
    assert.ok(!sameJson([], {}));
  });

  it('compares values nested 200 000 levels deep without overflowing', () => {
    const deep = (leaf: number) => {
      let v: unknown = leaf;
      for (let i = 0; i < 200_000; i++) v = [v];
      return v;
    };
    assert.ok(sameJson(deep(1), deep(1)));
    assert.ok(!sameJson(deep(1), deep(2)));
  });

  it('agrees with comparing key-sorted JSON texts, on random JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const same = JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
        assert.equal(sameJson(a, b), same);
        assert.ok(sameJson(a, structuredClone(a)));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps errors on changed fields and on fields it cannot read', () => {
    const old = { spec: { authUrl: 'https://169.254.169.254', port: 1 } };
    const obj = { spec: { authUrl: 'https://169.254.169.254', port: 2 } };
    const errors = [
      { field: 'spec.authUrl', message: 'link-local' },
      { field: 'spec.port', message: 'bad' },
      { field: 'spec..odd', message: 'kept' },
    ];
    assert.deepEqual(
      ratchetErrors(errors, obj, [old]).map((e) => e.field),
      ['spec.port', 'spec..odd'],
    );
  });

  it('tells a metadata-only update from one that touches anything else', () => {
    const old = { kind: 'X', metadata: { name: 'a' }, spec: { a: 1 } };
    assert.ok(onlyMetadataChanged({ ...old, metadata: { name: 'a', labels: { x: 'y' } } }, old));
    assert.ok(!onlyMetadataChanged({ ...old, spec: { a: 2 } }, old));
    assert.ok(!onlyMetadataChanged({ ...old, extra: true }, old));
    assert.ok(!onlyMetadataChanged('x', old));
  });
});

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** Kubernetes' DNS-1123 subdomain, which the API server asks of every custom object's name. */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

describe('checkClusterId', () => {
  it('accepts Liqo v0.2 ids (lower-case UUIDs) and DNS-1123 labels', () => {
    for (const id of ['0558de48-097b-4b7d-ba04-6bd2a0f9d24f', 'cluster-a', 'a', '0', 'x'.repeat(63)]) {
      assert.equal(checkClusterId(id, 'https://peer:443'), undefined, id);
    }
  });

  const refused: Array<[unknown, RegExp]> = [
    ['', /is empty/],
    ['x'.repeat(64), /is 64 characters long; at most 63/],
    ['0558DE48-097B-4B7D-BA04-6BD2A0F9D24F', /is a UUID with upper-case letters/],
    ['Cluster-A', /"Cluster-A" has upper-case letters/],
    ['-a', /starts or ends with '-'/],
    ['a-', /starts or ends with '-'/],
    ['a_b', /"a_b" has characters other than lower-case letters, digits and '-'/],
    ['a.b', /has characters other than/],
    ['a,b', /has characters other than/], // would split a label selector
    ['x!=y', /has characters other than/],
    ['a b', /has characters other than/],
    ['line\nbreak', /an id of 10 characters has characters other than/],
    [42, /must be a string, got a number/],
    [null, /must be a string, got null/],
  ];
  for (const [id, why] of refused) {
    it(`refuses ${JSON.stringify(id)}, naming the peer and what is accepted`, () => {
      const line = checkClusterId(id, 'https://peer.example:443') ?? '';
      assert.match(line, /^https:\/\/peer\.example:443 announces a cluster id that is not accepted: /);
      assert.match(line, why);
      assert.match(line, /\(accepted: a lower-case UUID \(as Liqo makes them\) or a DNS-1123 label/);
      assert.doesNotMatch(line, /[\n\r]/);
    });
  }

  it('never shows a long or non-printable id verbatim', () => {
    assert.equal(showClusterId('\u202eevil'), 'an id of 5 characters');
    assert.equal(showClusterId('y'.repeat(500)), 'an id of 500 characters');
    assert.equal(showClusterId('ok-id'), '"ok-id"');
  });

  it('accepts only ids that are also object names (they name the ForeignCluster)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uuid(), fc.string({ maxLength: 70 }), fc.stringMatching(/^[a-zA-Z0-9._-]{0,64}$/)),
        (id) => {
          const accepted = clusterIdProblem(id) === undefined;
          assert.equal(accepted, isAcceptedClusterId(id), id);
          if (accepted) assert.match(id, OBJECT_NAME, id);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
