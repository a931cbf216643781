// What a DNSRegistration's status says about one register() answer (agent/dns-registration/status.ts),
// and the default instance made from a cluster name. The answers themselves come from real BIND
// in the registration library's integration tests and in test/e2e/dns-registration.test.ts.
import assert from 'node:assert/strict';
import {
  failureReason,
  registeredCondition,
  statusAfterRegister,
  statusDisabled,
} from '../../agent/dns-registration/status.js';
import { instanceFromClusterName } from '../../agent/dns-registration/controller.js';
import { defaultAuthUrl } from '../../agent/dns-registration/index.js';

const target = {
  zone: 'liqo.example.com',
  server: '10.0.0.53:53',
  instance: 'cluster-a',
  authUrl: 'https://10.0.0.1:443',
};
const now = new Date('2026-12-04T12:00:00Z');

describe('agent DNS registration status', () => {
  it('a success: Registered True naming zone, instance and server; the records in zone-file form; a stale owner removed', () => {
    const status = statusAfterRegister(
      {
        ok: true,
        action: 'created',
        zone: 'liqo.example.com',
        records: [{ name: 'liqo.example.com', ttl: 60, type: 'PTR', data: 'cluster-a.liqo.example.com' }],
        updates: 2,
        exchanges: 3,
      },
      target,
      undefined,
      4,
      now,
    );
    assert.deepEqual(status.conditions, [
      {
        type: 'Registered',
        status: 'True',
        reason: 'Created',
        message:
          'zone liqo.example.com holds 1 records of instance cluster-a (https://10.0.0.1:443), through 10.0.0.53:53',
        lastTransitionTime: now.toISOString(),
        observedGeneration: 4,
      },
    ]);
    assert.deepEqual(status.records, ['liqo.example.com. 60 IN PTR cluster-a.liqo.example.com.']);
    assert.equal(status.owner, null);
    assert.equal(status.observedGeneration, 4);
    assert.equal(status.zone, 'liqo.example.com');
  });

  it('a refusal: Registered False with the RCODE or TSIG error as reason, the owner kept, the records left as they were', () => {
    const status = statusAfterRegister(
      {
        ok: false,
        reason: 'owned-by-other',
        message: 'owned by cluster other-id',
        zone: 'liqo.example.com',
        owner: 'other-id',
        updates: 0,
        exchanges: 1,
      },
      target,
      undefined,
      1,
      now,
    );
    assert.equal(status.conditions?.[0]?.reason, 'OwnedByOtherCluster');
    assert.equal(status.conditions?.[0]?.message, 'owned by cluster other-id');
    assert.equal(status.owner, 'other-id');
    assert.equal('records' in status, false);
    assert.equal(failureReason({ reason: 'rcode', rcode: 'REFUSED' }), 'REFUSED');
    assert.equal(failureReason({ reason: 'rcode', rcode: 'NOTAUTH' }), 'NOTAUTH');
    assert.equal(failureReason({ reason: 'tsig', tsigError: 'BADSIG' }), 'BADSIG');
    assert.equal(failureReason({ reason: 'unreachable' }), 'ServerUnreachable');
  });

  it('keeps lastTransitionTime while the status stays, moves it when it flips', () => {
    const before = [
      { type: 'Registered', status: 'True' as const, lastTransitionTime: '2026-01-01T00:00:00.000Z' },
    ];
    assert.equal(
      registeredCondition(before, 'True', 'Refreshed', 'm', 2, now).lastTransitionTime,
      '2026-01-01T00:00:00.000Z',
    );
    assert.equal(
      registeredCondition(before, 'False', 'REFUSED', 'm', 2, now).lastTransitionTime,
      now.toISOString(),
    );
    const disabled = statusDisabled(
      [...before].length ? { conditions: before } : undefined,
      3,
      'liqo.example.com',
      now,
    );
    assert.equal(disabled.conditions?.[0]?.reason, 'Disabled');
    assert.deepEqual(disabled.records, []);
  });

  it('the default instance is the cluster name as one DNS label; the default auth URL is the first advertised address', () => {
    assert.equal(instanceFromClusterName('cluster-a'), 'cluster-a');
    assert.equal(instanceFromClusterName('My Liqo_Cluster.1'), 'my-liqo-cluster-1');
    assert.equal(instanceFromClusterName('---'), 'liqo');
    assert.equal(instanceFromClusterName('a'.repeat(80)).length, 63);
    assert.equal(defaultAuthUrl(['10.0.0.1', '10.0.0.2'], 'node-1', 8443), 'https://10.0.0.1:8443');
    assert.equal(defaultAuthUrl(['fd00::1'], 'node-1', 443), 'https://[fd00::1]:443');
    assert.equal(defaultAuthUrl([], 'node-1.example.com', 30443), 'https://node-1.example.com:30443');
  });
});
