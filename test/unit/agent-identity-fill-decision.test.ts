// What the identity filler writes for what it observed (agent/identity-fill-decision.ts): pure
// functions of the ForeignCluster, the /ids answer and the time; no API server.
import assert from 'node:assert/strict';
import type { ForeignCluster } from '../../shared/api/types.js';
import type { IdentityResult } from '../../shared/lookup/types.js';
import {
  conditionWrite,
  identityPatch,
  judgeIdsAnswer,
  needsIdentity,
  notResolvedCondition,
  resolvedCondition,
  withCondition,
  type ObservedCondition,
} from '../../agent/identity-fill-decision.js';

const OWN = 'own-cluster';
const URL = 'https://peer.example:30443';

function fc(extra: { spec?: object; metadata?: object; status?: object } = {}): ForeignCluster {
  return {
    apiVersion: 'discovery.liqo.io/v1alpha1',
    kind: 'ForeignCluster',
    metadata: { name: 'peer', resourceVersion: '41', generation: 3, ...extra.metadata },
    spec: { authUrl: URL, ...extra.spec },
    ...(extra.status ? { status: extra.status } : {}),
  } as unknown as ForeignCluster;
}

function found(clusterId: string, extra: Partial<IdentityResult['identity']> = {}): IdentityResult {
  return {
    authUrl: URL,
    identity: { clusterId, ...extra },
    trustMode: 'Trusted',
    certificateSha256: 'AA:BB',
    certificateNotAfter: new Date('2030-01-01T00:00:00Z'),
  } as IdentityResult;
}

describe('identity fill: what needs filling', () => {
  it('an authUrl without a cluster id, not being deleted', () => {
    assert.equal(needsIdentity(fc()), true);
    assert.equal(needsIdentity(fc({ spec: { clusterIdentity: { clusterID: 'x' } } })), false);
    assert.equal(needsIdentity(fc({ spec: { authUrl: '' } })), false);
    assert.equal(needsIdentity(fc({ metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } })), false);
  });
});

describe('identity fill: judging the /ids answer', () => {
  it('an error: its code as the reason, else FetchFailed, and its first line', () => {
    const coded = Object.assign(new Error('certificate expired\nstack'), { code: 'CERT_HAS_EXPIRED' });
    assert.deepEqual(judgeIdsAnswer(URL, { error: coded }, OWN), {
      failure: { reason: 'CERT_HAS_EXPIRED', message: 'certificate expired' },
    });
    assert.deepEqual(judgeIdsAnswer(URL, { error: new Error('refused') }, OWN), {
      failure: { reason: 'FetchFailed', message: 'refused' },
    });
  });

  it('this cluster itself is refused, naming the URL and the id', () => {
    const d = judgeIdsAnswer(URL, { found: found(OWN) }, OWN);
    assert.ok('failure' in d);
    assert.equal(d.failure.reason, 'LocalCluster');
    assert.match(d.failure.message, new RegExp(`${URL} is this cluster itself \\(cluster id ${OWN}\\)`));
  });

  it('another cluster is filled', () => {
    const answer = found('peer-id');
    assert.deepEqual(judgeIdsAnswer(URL, { found: answer }, OWN), { fill: answer });
  });
});

describe('identity fill: the writes', () => {
  it('the spec patch is guarded by the resourceVersion read and labels the cluster id', () => {
    assert.deepEqual(identityPatch(fc(), found('peer-id', { clusterName: 'p', guestNamespace: 'liqo' })), {
      metadata: {
        resourceVersion: '41',
        labels: { 'discovery.liqo.io/cluster-id': 'peer-id' },
        annotations: { 'discovery.liqo.io/certificate-sha256': 'AA:BB' },
      },
      spec: {
        clusterIdentity: { clusterID: 'peer-id', clusterName: 'p' },
        namespace: 'liqo',
        trustMode: 'Trusted',
      },
    });
    const bare = identityPatch(fc(), found('peer-id')) as { spec: Record<string, unknown> };
    assert.deepEqual(bare.spec, { clusterIdentity: { clusterID: 'peer-id' }, trustMode: 'Trusted' });
  });

  it('IdentityResolved=True pins the first answer at the given time', () => {
    const now = new Date('2026-12-04T10:00:00Z');
    const r = resolvedCondition(URL, found('peer-id'), now);
    assert.deepEqual(r.condition, {
      type: 'IdentityResolved',
      status: 'True',
      reason: 'Trusted',
      message: `identity of cluster peer-id read from ${URL}/ids`,
    });
    assert.deepEqual(r.alsoStatus, {
      pinnedIdentity: {
        clusterID: 'peer-id',
        certificateFingerprint: 'AA:BB',
        authUrl: URL,
        pinnedAt: '2026-12-04T10:00:00.000Z',
      },
    });
  });

  it('IdentityResolved=False says when the next try comes', () => {
    const c = notResolvedCondition({ reason: 'FetchFailed', message: 'refused' }, '2026-12-04T10:00:05.000Z');
    assert.equal(c.status, 'False');
    assert.equal(
      c.message,
      'refused; next try at 2026-12-04T10:00:05.000Z, or at once when the spec changes',
    );
  });
});

describe('identity fill: the condition write', () => {
  const NOW = '2026-12-04T10:00:00.000Z';
  const failed: ObservedCondition = {
    type: 'IdentityResolved',
    status: 'False',
    reason: 'FetchFailed',
    message: 'm',
  };

  it('withCondition replaces ours, keeps the others, and keeps the transition time while the status holds', () => {
    const before: ObservedCondition[] = [
      { type: 'Other', status: 'True', lastTransitionTime: 'T0' },
      { ...failed, lastTransitionTime: 'T1' },
    ];
    assert.deepEqual(withCondition(before, { ...failed, message: 'again' }, NOW), [
      before[0],
      { ...failed, message: 'again', lastTransitionTime: 'T1' },
    ]);
    const flipped = withCondition(before, { ...failed, status: 'True' }, NOW);
    assert.equal(flipped[1]?.lastTransitionTime, NOW);
  });

  it('a result for an older spec writes nothing', () => {
    assert.equal(conditionWrite(fc({ metadata: { generation: 4 } }), 3, failed, {}, NOW), undefined);
  });

  it('a change of status writes the condition for that generation and an Event', () => {
    const w = conditionWrite(fc(), 3, failed, {}, NOW);
    assert.deepEqual(w?.statusPatch, {
      status: { conditions: [{ ...failed, observedGeneration: 3, lastTransitionTime: NOW }] },
    });
    assert.deepEqual(w?.event, { type: 'Warning', reason: 'IdentityNotResolved', message: 'FetchFailed: m' });
    const resolved: ObservedCondition = {
      type: 'IdentityResolved',
      status: 'True',
      reason: 'Trusted',
      message: 'ok',
    };
    const now = fc({ status: { conditions: [{ ...failed, lastTransitionTime: 'T1' }] } });
    assert.deepEqual(conditionWrite(now, 3, resolved, { pinnedIdentity: 'x' }, NOW)?.event, {
      type: 'Normal',
      reason: 'IdentityResolved',
      message: 'ok',
    });
  });

  it('the same status again: the condition is written, no second Event', () => {
    const now = fc({ status: { conditions: [{ ...failed, lastTransitionTime: 'T1' }] } });
    const w = conditionWrite(now, 3, { ...failed, message: 'later' }, {}, NOW);
    assert.ok(w);
    assert.equal(w.event, undefined);
  });
});
