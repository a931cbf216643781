// RFC 6762 §8.2's simultaneous-probe tie-break on its own: records compared by class, type, then
// raw rdata bytes. The RFC's own example is one that comparing the records' text gets backwards.
import assert from 'node:assert/strict';
import type { Answer } from 'dns-packet';
import { compareRecordSets } from '../../shared/lookup/mdns/advertiser-records.js';

const a = (data: string): Answer => ({ type: 'A', name: 'host.local', data });

describe('mDNS simultaneous probe tie-break (RFC 6762 §8.2)', () => {
  it("the RFC's example: 169.254.200.50 is later than 169.254.99.200 (bytes, not text)", () => {
    assert.ok(compareRecordSets([a('169.254.99.200')], [a('169.254.200.50')]) < 0);
    assert.ok(compareRecordSets([a('169.254.200.50')], [a('169.254.99.200')]) > 0);
  });

  it('compares the type by number before the data: TXT (16) is earlier than SRV (33)', () => {
    const txt: Answer = { type: 'TXT', name: 'x._liqo._tcp.local', data: [Buffer.from('zzz')] };
    const srv: Answer = {
      type: 'SRV',
      name: 'x._liqo._tcp.local',
      data: { priority: 0, weight: 0, port: 1, target: 'a.local' },
    };
    assert.ok(compareRecordSets([txt], [srv]) < 0);
  });

  it('sorts each side first, and the side that runs out first is the earlier', () => {
    const ours = [a('10.0.0.2'), a('10.0.0.1')];
    assert.equal(compareRecordSets(ours, [a('10.0.0.1'), a('10.0.0.2')]), 0);
    assert.ok(compareRecordSets([a('10.0.0.1')], [a('10.0.0.1'), a('10.0.0.2')]) < 0);
  });

  it('orders SRV data by its bytes: port 8443 (0x20fb) after port 443 (0x01bb)', () => {
    const srv = (port: number): Answer => ({
      type: 'SRV',
      name: 'x._liqo._tcp.local',
      data: { priority: 0, weight: 0, port, target: 'h.local' },
    });
    assert.ok(compareRecordSets([srv(443)], [srv(8443)]) < 0);
  });
});
