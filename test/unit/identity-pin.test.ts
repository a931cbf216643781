// Identity pinning's decision (shared/discovery/identity-pin.ts): old pin + new /ids answer →
// pin, keep or changed, and the one-line message a person reads.
import assert from 'node:assert/strict';
import type {
  ChangedIdentity,
  ForeignCluster,
  ObservedIdentity,
  PinnedIdentity,
} from '../../shared/api/types.js';
import {
  changeMessage,
  changeReason,
  judgeIdentity,
  sameObservation,
} from '../../shared/discovery/identity-pin.js';

const FP_A = 'AA:BB:CC:DD';
const FP_B = '11:22:33:44';
const pinned: PinnedIdentity = {
  clusterID: 'alpha',
  certificateFingerprint: FP_A,
  authUrl: 'https://10.0.0.5:30740',
  pinnedAt: '2024-01-01T00:00:00.000Z',
};
const answer = (over: Partial<ObservedIdentity> = {}): ObservedIdentity => ({
  clusterID: 'alpha',
  certificateFingerprint: FP_A,
  authUrl: 'https://10.0.0.5:30740',
  ...over,
});

describe('identity pinning decision', () => {
  it('pins the first answer, with the time of the answer', () => {
    const now = new Date('2024-05-06T07:08:09.000Z');
    assert.deepEqual(judgeIdentity(undefined, answer(), now), {
      action: 'pin',
      pin: { ...answer(), pinnedAt: '2024-05-06T07:08:09.000Z' },
    });
  });

  it('keeps the pin when the same id and certificate answer, however the URL and fingerprint are spelled', () => {
    assert.deepEqual(judgeIdentity(pinned, answer()), { action: 'keep', urlMoved: false });
    assert.deepEqual(
      judgeIdentity(
        pinned,
        answer({ authUrl: 'https://10.0.0.5:30740/', certificateFingerprint: 'aabbccdd' }),
      ),
      { action: 'keep', urlMoved: false },
    );
  });

  it('keeps the pin for the same certificate at another URL (a new address of the same key holder), saying the URL moved', () => {
    assert.deepEqual(judgeIdentity(pinned, answer({ authUrl: 'https://alpha.example.com:443' })), {
      action: 'keep',
      urlMoved: true,
    });
  });

  it('reports a new certificate for the pinned id as changed', () => {
    const d = judgeIdentity(pinned, answer({ certificateFingerprint: FP_B }));
    assert.equal(d.action, 'changed');
    assert.ok(d.action === 'changed');
    assert.deepEqual(d.what, ['certificateFingerprint']);
    assert.equal(changeReason(d.what), 'CertificateChanged');
    assert.equal(d.pinned, pinned);
  });

  it('reports the pinned id advertised from another URL with another certificate as changed, naming the URL', () => {
    const d = judgeIdentity(
      pinned,
      answer({ certificateFingerprint: FP_B, authUrl: 'https://10.0.0.66:30740' }),
    );
    assert.ok(d.action === 'changed');
    assert.deepEqual(d.what, ['certificateFingerprint', 'authUrl']);
  });

  it('reports another cluster id at the pinned URL as changed, even with the pinned certificate', () => {
    const d = judgeIdentity(pinned, answer({ clusterID: 'beta' }));
    assert.ok(d.action === 'changed');
    assert.deepEqual(d.what, ['clusterID']);
    assert.equal(changeReason(d.what), 'ClusterIDChanged');
    const both = judgeIdentity(pinned, answer({ clusterID: 'beta', certificateFingerprint: FP_B }));
    assert.ok(both.action === 'changed');
    assert.deepEqual(both.what, ['clusterID', 'certificateFingerprint']);
  });

  it('says old and new in one line, with the command that accepts the new identity', () => {
    const observed = answer({ clusterID: 'beta', certificateFingerprint: FP_B });
    const message = changeMessage('alpha', pinned, observed);
    assert.ok(!message.includes('\n'));
    for (const part of ['cluster beta', FP_B, 'cluster alpha', FP_A, pinned.pinnedAt, pinned.authUrl]) {
      assert.ok(message.includes(part), `${part} in: ${message}`);
    }
    assert.match(message, /kubectl liqo join alpha --accept-identity$/);
  });

  it('knows an observation already recorded (no second Event) from a new one', () => {
    const observed = answer({ certificateFingerprint: FP_B });
    const recorded: ChangedIdentity = { ...observed, seenAt: '2024-01-02T00:00:00.000Z' };
    assert.equal(sameObservation(recorded, observed), true);
    assert.equal(sameObservation(recorded, answer({ certificateFingerprint: 'FF:FF' })), false);
    assert.equal(sameObservation(undefined, observed), false);
  });
});

describe('list READY/REASON with IdentityChanged', () => {
  it('shows False IdentityChanged ahead of IdentityResolved while the change waits for a person', async () => {
    const { foreignClusterReadiness } = await import('../../plugin/output/status-summary.js');
    const fc = (status: 'True' | 'False') =>
      ({
        apiVersion: 'discovery.liqo.io/v1alpha1',
        kind: 'ForeignCluster',
        metadata: { name: 'alpha' },
        spec: { authUrl: 'https://10.0.0.5:30740' },
        status: {
          conditions: [
            { type: 'IdentityResolved', status: 'True', reason: 'Untrusted' },
            { type: 'IdentityChanged', status, reason: 'CertificateChanged', message: 'old and\nnew' },
          ],
        },
      }) as ForeignCluster;
    assert.deepEqual(foreignClusterReadiness(fc('True')), {
      ready: 'False',
      reason: 'IdentityChanged',
      message: 'old and new',
    });
    assert.deepEqual(foreignClusterReadiness(fc('False')), { ready: 'True', reason: 'Untrusted' });
  });
});
