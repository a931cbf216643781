// UPDATE ratcheting in the generic admission layer (KEP-4008's rule): an object stored while a
// rule was looser, or while the webhook was down, stays updatable in its metadata and in its
// valid fields; its bad field can be fixed but not swapped for another bad value; immutability
// still holds. Each update goes through mutate, then validate, as the API server runs them.
import { strict as assert } from 'node:assert';
import jsonPatch from 'fast-json-patch';
import {
  mutate,
  validate,
  type AdmissionContext,
  type AdmissionRequest,
  type AdmissionResponse,
  type CrossObjectChecks,
} from '../../webhook/admission.js';
import { CROSS_OBJECT_CHECKS_OFF } from '../../webhook/crossobject-cache.js';
import { LABEL_CLUSTER_ID } from '../../shared/api/constants.js';

type Obj = Record<string, unknown> & { metadata: Record<string, unknown>; spec?: Record<string, unknown> };

const KINDS = {
  ForeignCluster: { group: 'discovery.liqo.io', apiVersion: 'discovery.liqo.io/v1alpha1' },
  SearchDomain: { group: 'discovery.liqo.io', apiVersion: 'discovery.liqo.io/v1alpha1' },
  ClusterConfig: { group: 'config.liqo.io', apiVersion: 'config.liqo.io/v1alpha1' },
} as const;
type Kind = keyof typeof KINDS;

function object(kind: Kind, name: string, spec: Record<string, unknown>): Obj {
  return { apiVersion: KINDS[kind].apiVersion, kind, metadata: { name, uid: 'u-1' }, spec };
}

function context(crossObject: CrossObjectChecks = CROSS_OBJECT_CHECKS_OFF): AdmissionContext {
  return { allowLoopbackAuthUrl: false, crossObject };
}

function request(kind: Kind, operation: 'CREATE' | 'UPDATE', obj: Obj, old?: Obj): AdmissionRequest {
  return {
    uid: `uid-${Math.random()}`,
    kind: { group: KINDS[kind].group, version: 'v1alpha1', kind },
    name: obj.metadata.name as string,
    operation,
    object: obj,
    ...(old ? { oldObject: old } : {}),
  };
}

/** The object after the mutating webhook's patch. */
function mutated(
  kind: Kind,
  operation: 'CREATE' | 'UPDATE',
  obj: Obj,
  old: Obj | undefined,
  ctx: AdmissionContext,
): Obj {
  const response = mutate(request(kind, operation, obj, old), ctx).review.response;
  assert.equal(response.allowed, true, response.status?.message);
  if (!response.patch) return structuredClone(obj);
  const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString()) as jsonPatch.Operation[];
  return jsonPatch.applyPatch(structuredClone(obj), ops, true, false).newDocument;
}

/** What the API server gets for an UPDATE from `old` to `obj`: mutate, then validate. */
function update(
  kind: Kind,
  old: Obj,
  obj: Obj,
  ctx = context(),
): { response: AdmissionResponse; stored: Obj } {
  const stored = mutated(kind, 'UPDATE', obj, old, ctx);
  return { response: validate(request(kind, 'UPDATE', stored, old), ctx).review.response, stored };
}

function create(kind: Kind, obj: Obj, ctx = context()): AdmissionResponse {
  const defaulted = mutated(kind, 'CREATE', obj, undefined, ctx);
  return validate(request(kind, 'CREATE', defaulted), ctx).review.response;
}

/** `obj` with `edit` applied to a deep copy. */
function edited(obj: Obj, edit: (copy: Obj) => void): Obj {
  const copy = structuredClone(obj);
  edit(copy);
  return copy;
}

function assertAllowed(response: AdmissionResponse, what: string): void {
  assert.equal(response.allowed, true, `${what}: ${response.status?.message}`);
}

function assertRefused(response: AdmissionResponse, message: RegExp, what: string): void {
  assert.equal(response.allowed, false, `${what} was allowed`);
  assert.equal(response.status?.code, 422, response.status?.message);
  assert.match(response.status?.message ?? '', message, what);
}

/** The updates every stored object must take whatever is wrong with its spec. */
function metadataOnlyUpdates(kind: Kind, stored: Obj): Array<[string, Obj]> {
  return [
    [
      'a label added',
      edited(stored, (o) => (o.metadata.labels = { ...(o.metadata.labels as object), team: 'a' })),
    ],
    ['a finalizer added', edited(stored, (o) => (o.metadata.finalizers = ['example.com/cleanup']))],
    ['an annotation added', edited(stored, (o) => (o.metadata.annotations = { note: 'x' }))],
    [
      'an owner reference added',
      edited(stored, (o) => {
        o.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'u-2' }];
      }),
    ],
    ['nothing changed', structuredClone(stored)],
    [
      `a ${kind} stored as the API server hands it back`,
      edited(stored, (o) => (o.metadata.resourceVersion = '42')),
    ],
  ];
}

describe('webhook admission: UPDATE ratcheting', () => {
  describe('ForeignCluster stored with a link-local authUrl (written while the webhook was down)', () => {
    const ID = '0558de48-097b-4b7d-ba04-6bd2a0f9d24f';
    // as the mutating webhook would have left it, had it run: defaults and labels filled
    const stored = mutated(
      'ForeignCluster',
      'CREATE',
      object('ForeignCluster', 'metadata-peer', {
        authUrl: 'https://169.254.169.254:443',
        clusterIdentity: { clusterID: ID },
      }),
      undefined,
      context(),
    );

    it('is refused on CREATE (so what lets the updates through below is the ratchet)', () => {
      assertRefused(
        create('ForeignCluster', stored),
        /spec\.authUrl: host "169\.254\.169\.254" is a link-local/,
        'create',
      );
    });

    for (const [what, obj] of metadataOnlyUpdates('ForeignCluster', stored)) {
      it(`takes an update with ${what}`, () =>
        assertAllowed(update('ForeignCluster', stored, obj).response, what));
    }

    it('takes a change of another, valid field (join, namespace)', () => {
      const obj = edited(stored, (o) => Object.assign(o.spec!, { join: true, namespace: 'liqo' }));
      assertAllowed(update('ForeignCluster', stored, obj).response, 'join and namespace');
    });

    it('refuses a change of the bad authUrl to another bad one, naming the field', () => {
      const obj = edited(stored, (o) => (o.spec!.authUrl = 'https://169.254.170.2:443'));
      assertRefused(
        update('ForeignCluster', stored, obj).response,
        /spec\.authUrl: host "169\.254\.170\.2" is a link-local/,
        'bad to bad',
      );
    });

    it('takes a change of the bad authUrl to a good one', () => {
      const obj = edited(stored, (o) => (o.spec!.authUrl = 'https://192.168.1.10:443'));
      assertAllowed(update('ForeignCluster', stored, obj).response, 'bad to good');
    });

    it('still refuses changing clusterID once set (immutability is not ratcheted away)', () => {
      const obj = edited(stored, (o) => (o.spec!.clusterIdentity = { clusterID: 'another-cluster' }));
      assertRefused(
        update('ForeignCluster', stored, obj).response,
        /clusterID: cannot change once set/,
        'new id',
      );
    });

    it('still syncs the cluster-id label on a label-only update (defaulting applies)', () => {
      const obj = edited(stored, (o) => (o.metadata.labels = { team: 'a' })); // drops the label
      const { response, stored: after } = update('ForeignCluster', stored, obj);
      assertAllowed(response, 'label edit');
      assert.equal((after.metadata.labels as Record<string, string>)[LABEL_CLUSTER_ID], ID);
    });
  });

  describe('ForeignCluster stored with a non-normalised bad authUrl', () => {
    // normalising (lower-case scheme, no trailing slash) rewrites the untouched field on every
    // update: the validation must count the stored value as normalised as unchanged too
    const stored = object('ForeignCluster', 'odd', { authUrl: 'HTTPS://169.254.169.254:443/', join: false });

    it('takes a label-only update even though the mutation rewrote authUrl', () => {
      const obj = edited(stored, (o) => (o.metadata.labels = { team: 'a' }));
      const { response, stored: after } = update('ForeignCluster', stored, obj);
      assert.equal(after.spec!.authUrl, 'https://169.254.169.254:443', 'the mutation normalised it');
      assertAllowed(response, 'label edit');
    });
  });

  describe('ForeignCluster whose clusterID predates the cluster-id rule ("Cluster_A")', () => {
    const stored = mutated(
      'ForeignCluster',
      'CREATE',
      object('ForeignCluster', 'cluster-a', {
        authUrl: 'https://192.168.1.10:443',
        clusterIdentity: { clusterID: 'Cluster_A' },
      }),
      undefined,
      context(),
    );

    it('would not be created today', () => {
      assertRefused(
        create('ForeignCluster', stored),
        /clusterID: "Cluster_A" has characters other than/,
        'create',
      );
    });

    for (const [what, obj] of metadataOnlyUpdates('ForeignCluster', stored)) {
      it(`takes an update with ${what}`, () =>
        assertAllowed(update('ForeignCluster', stored, obj).response, what));
    }

    it('takes a spec change elsewhere, and keeps its label equal to the id', () => {
      const obj = edited(stored, (o) => (o.spec!.join = true));
      const { response, stored: after } = update('ForeignCluster', stored, obj);
      assertAllowed(response, 'join');
      assert.equal((after.metadata.labels as Record<string, string>)[LABEL_CLUSTER_ID], 'Cluster_A');
    });

    it('refuses a change to another id that fails the rule, for both reasons', () => {
      const obj = edited(stored, (o) => (o.spec!.clusterIdentity = { clusterID: 'Cluster_B' }));
      const { response } = update('ForeignCluster', stored, obj);
      assertRefused(response, /"Cluster_B" has characters other than/, 'bad to bad');
      assert.match(response.status?.message ?? '', /cannot change once set/);
    });
  });

  describe('SearchDomain stored with an IP address as its domain', () => {
    const stored = mutated(
      'SearchDomain',
      'CREATE',
      object('SearchDomain', 'by-ip', { domain: '192.168.1.1' }),
      undefined,
      context(),
    );

    it('is refused on CREATE', () => {
      assertRefused(
        create('SearchDomain', stored),
        /spec\.domain: "192\.168\.1\.1" is an IP address/,
        'create',
      );
    });

    for (const [what, obj] of metadataOnlyUpdates('SearchDomain', stored)) {
      it(`takes an update with ${what}`, () =>
        assertAllowed(update('SearchDomain', stored, obj).response, what));
    }

    it('takes a change of autojoin', () => {
      assertAllowed(
        update(
          'SearchDomain',
          stored,
          edited(stored, (o) => (o.spec!.autojoin = true)),
        ).response,
        'autojoin',
      );
    });

    it('refuses a change to another bad domain, and takes a good one', () => {
      const bad = edited(stored, (o) => (o.spec!.domain = '10.0.0.1'));
      assertRefused(
        update('SearchDomain', stored, bad).response,
        /spec\.domain: "10\.0\.0\.1" is an IP address/,
        'bad to bad',
      );
      const good = edited(stored, (o) => (o.spec!.domain = 'example.com'));
      assertAllowed(update('SearchDomain', stored, good).response, 'bad to good');
    });
  });

  describe('ClusterConfig stored with an out-of-range port', () => {
    const stored = mutated(
      'ClusterConfig',
      'CREATE',
      object('ClusterConfig', 'liqo-configuration', { discoveryConfig: { port: 70000 } }),
      undefined,
      context(),
    );

    it('is refused on CREATE', () => {
      assertRefused(
        create('ClusterConfig', stored),
        /spec\.discoveryConfig\.port: 70000 is out of range/,
        'create',
      );
    });

    for (const [what, obj] of metadataOnlyUpdates('ClusterConfig', stored)) {
      it(`takes an update with ${what}`, () =>
        assertAllowed(update('ClusterConfig', stored, obj).response, what));
    }

    it('takes a change of another valid field, refuses a new bad value in another', () => {
      const discoveryConfig = (o: Obj) => o.spec!.discoveryConfig as Record<string, unknown>;
      const other = edited(stored, (o) => (discoveryConfig(o).enableAdvertisement = false));
      assertAllowed(update('ClusterConfig', stored, other).response, 'enableAdvertisement');
      const badTtl = edited(stored, (o) => (discoveryConfig(o).ttl = -1));
      const { response } = update('ClusterConfig', stored, badTtl);
      assertRefused(response, /spec\.discoveryConfig\.ttl/, 'a new bad ttl');
      assert.doesNotMatch(response.status?.message ?? '', /port/, 'the unchanged port is not reported');
    });

    it('refuses the bad port changed to another bad port', () => {
      const obj = edited(stored, (o) => ((o.spec!.discoveryConfig as Record<string, unknown>).port = 0));
      assertRefused(
        update('ClusterConfig', stored, obj).response,
        /spec\.discoveryConfig\.port: 0 is out of range/,
        'bad to bad',
      );
    });
  });

  describe('cross-object rules (one ForeignCluster per cluster id)', () => {
    const ID = '9c8b7a65-4d3e-4f21-8a0b-1c2d3e4f5a02';
    const stored = mutated(
      'ForeignCluster',
      'CREATE',
      object('ForeignCluster', 'twin-b', {
        authUrl: 'https://192.168.1.11:443',
        clusterIdentity: { clusterID: ID },
      }),
      undefined,
      context(),
    );
    // both twins were stored while the webhook was down: the cache holds twin-a with the same id
    const twinA = { ...stored, metadata: { ...stored.metadata, name: 'twin-a' } };
    const checks = (state: CrossObjectChecks['state']): CrossObjectChecks => ({
      state,
      holding: (kind, key) =>
        kind === 'ForeignCluster' && key === ID ? [{ name: 'twin-a', object: twinA }] : [],
    });

    it('refuses the duplicate on CREATE', () => {
      assertRefused(
        create('ForeignCluster', stored, context(checks('ready'))),
        /already used by ForeignCluster "twin-a"/,
        'create',
      );
    });

    it('lets either twin take labels, finalizers and other spec changes', () => {
      const ctx = context(checks('ready'));
      for (const [what, obj] of metadataOnlyUpdates('ForeignCluster', stored)) {
        assertAllowed(update('ForeignCluster', stored, obj, ctx).response, what);
      }
      assertAllowed(
        update(
          'ForeignCluster',
          stored,
          edited(stored, (o) => (o.spec!.join = true)),
          ctx,
        ).response,
        'join',
      );
    });

    it('while the caches sync: metadata-only updates pass, spec changes are asked to retry', () => {
      const ctx = context(checks('syncing'));
      const label = edited(stored, (o) => (o.metadata.finalizers = ['example.com/cleanup']));
      assertAllowed(update('ForeignCluster', stored, label, ctx).response, 'finalizer while syncing');
      const spec = update(
        'ForeignCluster',
        stored,
        edited(stored, (o) => (o.spec!.join = true)),
        ctx,
      ).response;
      assert.equal(spec.allowed, false);
      assert.equal(spec.status?.code, 503);
    });
  });
});
