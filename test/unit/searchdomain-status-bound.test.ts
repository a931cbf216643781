// SearchDomain.status stays bounded: at most MAX_SEARCH_DOMAIN_STATUS_CLUSTERS entries (those
// that worked first, in a stable order), the rest counted, long errors cut.
import assert from 'node:assert/strict';
import {
  MAX_SEARCH_DOMAIN_STATUS_CLUSTERS,
  MAX_SEARCH_DOMAIN_STATUS_ERROR,
} from '../../shared/api/schemas.js';
import type { SearchDomainFoundCluster } from '../../shared/api/types.js';
import { boundedEntries } from '../../agent/searchdomain-discovery.js';

const ok = (i: number): SearchDomainFoundCluster => ({
  clusterId: `cluster-${String(i).padStart(5, '0')}`,
  authUrl: `https://c${i}.example:443`,
  foreignCluster: `cluster-${i}`,
});
const failed = (i: number): SearchDomainFoundCluster => ({
  authUrl: `https://f${i}.example:443`,
  error: `f${i}: connection refused`,
});

describe('SearchDomain.status bound', () => {
  it('lists everything, with no count, when under the bound', () => {
    const entries = [failed(1), ok(2), ok(1)];
    const out = boundedEntries(entries);
    assert.deepEqual(out, { clusters: [ok(1), ok(2), failed(1)] });
  });

  it(`lists ${MAX_SEARCH_DOMAIN_STATUS_CLUSTERS} and counts the rest; clusters that worked come before errors`, () => {
    const entries = [
      ...Array.from({ length: 700 }, (_, i) => failed(i)),
      ...Array.from({ length: 800 }, (_, i) => ok(i)),
    ];
    const out = boundedEntries(entries.reverse());
    assert.equal(out.clusters?.length, MAX_SEARCH_DOMAIN_STATUS_CLUSTERS);
    assert.equal(out.clustersOmitted, 500);
    assert.ok(out.clusters?.slice(0, 800).every((c) => c.clusterId && !c.error));
    assert.ok(out.clusters?.slice(800).every((c) => c.error));
    // the same answer in another order gives the same status (no churn between passes)
    assert.deepEqual(boundedEntries([...entries].sort(() => 0.5 - Math.random())), out);
  });

  it('cuts an overlong error', () => {
    const long = { authUrl: 'https://x.example:1', error: 'e'.repeat(10_000) };
    const [entry] = boundedEntries([long]).clusters ?? [];
    assert.equal(entry?.error?.length, MAX_SEARCH_DOMAIN_STATUS_ERROR);
    assert.ok(entry?.error?.endsWith('...'));
  });
});
