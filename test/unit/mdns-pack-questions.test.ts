// packQuestions: the browser's follow-up questions (up to 256 instances' SRV/TXT or A/AAAA) are
// sent as several queries, each small enough for one unfragmented datagram (RFC 6762 §17).
import assert from 'node:assert/strict';
import dnsPacket, { type Question } from 'dns-packet';
import fc from 'fast-check';
import { packQuestions } from '../../shared/lookup/mdns/names.js';

const MAX = 1400;

describe('packQuestions', () => {
  it('keeps every encoded query within the limit, in order, losing none', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            name: fc.stringMatching(/^[a-z0-9-]{1,63}\.(_liqo\._tcp\.)?local$/),
            type: fc.constantFrom('SRV' as const, 'TXT' as const, 'A' as const, 'AAAA' as const),
          }),
          { maxLength: 512 },
        ),
        (asked) => {
          const questions: Question[] = asked.map((q) => ({ ...q, class: 'IN' }));
          const groups = packQuestions(questions, MAX);
          assert.deepEqual(groups.flat(), questions);
          for (const group of groups) {
            assert.ok(group.length > 0);
            const bytes = dnsPacket.encode({ type: 'query', id: 0, flags: 0, questions: group }).length;
            assert.ok(bytes <= MAX, `${bytes}-byte query`);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('sends 256 instances’ SRV and TXT questions as several queries, not one of ~13 KB', () => {
    const questions: Question[] = [];
    for (let i = 0; i < 256; i++) {
      const name = `3f2a9c1e-0000-4000-8000-${String(i).padStart(12, '0')}._liqo._tcp.local`;
      questions.push({ name, type: 'SRV', class: 'IN' }, { name, type: 'TXT', class: 'IN' });
    }
    const whole = dnsPacket.encode({ type: 'query', id: 0, flags: 0, questions }).length;
    assert.ok(whole > 10_000);
    const groups = packQuestions(questions, MAX);
    assert.ok(groups.length >= Math.ceil(whole / MAX));
  });
});
