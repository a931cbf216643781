// The plugin's table printers and status summaries (plugin/output), and the object-name rule
// `search-domain add` checks before sending. Pure functions: what a user reads in a table.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ForeignCluster, SearchDomain, SearchDomainFoundCluster } from '../../shared/api/index.js';
import { objectNameProblem, suggestObjectName } from '../../shared/rules/object-name.js';
import { foreignClusterReadiness, summarizeSearchDomain } from '../../plugin/output/status-summary.js';
import { formatTable, StreamingTable } from '../../plugin/output/table.js';

/** Start column of each header word and of each cell, found by the table's three-space gaps. */
function columnStarts(line: string): number[] {
  const starts = [0];
  for (const m of line.matchAll(/ {3,}(?=\S)/g)) starts.push((m.index ?? 0) + m[0].length);
  return starts;
}

function streamed(widths: (number | undefined)[], rows: string[][]): string[] {
  const out: string[] = [];
  const table = new StreamingTable(
    widths.map((width, i) => ({ header: `H${i}`, ...(width === undefined ? {} : { width }) })),
    (s) => out.push(s),
  );
  for (const row of rows) table.row(row);
  return out.join('').split('\n').slice(0, -1);
}

describe('plugin output: tables', () => {
  it('formatTable sizes each column to its widest cell, header included, last column unpadded', () => {
    const longUrl = 'https://a-very-long-host-name.clusters.example.com:30740';
    const text = formatTable(
      ['NAME', 'AUTH-URL', 'STATUS'],
      [
        ['a', longUrl, 'new'],
        ['bb', 'https://10.0.0.1:1', 'joined'],
      ],
    );
    const lines = text.split('\n').slice(0, -1);
    assert.equal(lines.length, 3);
    const starts = lines.map(columnStarts);
    assert.deepEqual(starts[1], starts[0]);
    assert.deepEqual(starts[2], starts[0]);
    assert.equal(starts[0]?.[2], 'NAME'.length + 3 + longUrl.length + 3);
    for (const line of lines) assert.equal(line, line.trimEnd());
  });

  it('StreamingTable: a cell wider than its column widens it for that row and every later one', () => {
    const longUrl = 'https://auth.a-rather-long-cluster-name.example.com:30740';
    const lines = streamed(
      [4, 12, undefined],
      [
        ['id-1', 'https://a:1', 'new'],
        ['id-2', longUrl, 'joined'],
        ['id-3', 'https://b:2', 'new'],
        ['id-4', 'https://c:3', 'unreachable: connection refused'],
      ],
    );
    const starts = lines.map(columnStarts);
    // header and first row agree (both sized before the header was printed)
    assert.deepEqual(starts[1], starts[0]);
    // from the long URL on, every row lines up with it
    assert.equal(starts[2]?.[2], 4 + 3 + longUrl.length + 3);
    assert.deepEqual(starts[3], starts[2]);
    assert.deepEqual(starts[4], starts[2]);
  });

  it('StreamingTable, not live (a pipe): nothing until end(), then every row aligned with the header', () => {
    const longUrl = 'https://[fd00:1234:5678::abcd]:30740';
    const out: string[] = [];
    const table = new StreamingTable(
      [{ header: 'ID', width: 4 }, { header: 'AUTH-URL', width: 12 }, { header: 'STATUS' }],
      (s) => out.push(s),
      false,
    );
    table.row(['id-1', 'https://a:1', 'new']);
    table.row(['id-2', longUrl, 'joined']);
    assert.deepEqual(out, []);
    table.end();
    const lines = out.join('').split('\n').slice(0, -1);
    assert.equal(lines.length, 3);
    const starts = lines.map(columnStarts);
    assert.equal(starts[0]?.[2], 4 + 3 + longUrl.length + 3);
    assert.deepEqual(starts[1], starts[0]);
    assert.deepEqual(starts[2], starts[0]);
    table.end(); // printed once
    assert.equal(out.join('').split('\n').length - 1, 3);
  });

  it('StreamingTable: a wide first row sizes the header too', () => {
    const lines = streamed([4, 4, undefined], [['0558de48-097b-4b7d-ba04-6bd2a0f9d24f', 'x', 'new']]);
    assert.deepEqual(columnStarts(lines[0] ?? ''), columnStarts(lines[1] ?? ''));
  });

  it('StreamingTable: rows that fit keep the given widths; ANSI colour takes no room', () => {
    const lines = streamed(
      [10, 10, undefined],
      [
        ['a', '\u001b[32mnew\u001b[39m', 'x'],
        ['bb', 'ok', 'y'],
      ],
    );
    // eslint-disable-next-line no-control-regex
    const visible = lines.map((l) => l.replace(/\u001b\[[0-9;]*m/g, ''));
    assert.deepEqual(visible.map(columnStarts), [
      [0, 13, 26],
      [0, 13, 26],
      [0, 13, 26],
    ]);
  });
});

const fcWith = (conditions?: NonNullable<ForeignCluster['status']>['conditions']): ForeignCluster => ({
  apiVersion: 'discovery.liqo.io/v1alpha1',
  kind: 'ForeignCluster',
  metadata: { name: 'x' },
  spec: { authUrl: 'https://10.0.0.1:30740' },
  ...(conditions ? { status: { conditions } } : {}),
});

describe('plugin output: ForeignCluster READY and REASON', () => {
  it("is the agent's IdentityResolved condition, message on one line", () => {
    assert.deepEqual(
      foreignClusterReadiness(
        fcWith([
          { type: 'Other', status: 'True', reason: 'Ignored' },
          {
            type: 'IdentityResolved',
            status: 'False',
            reason: 'REFUSED',
            message: 'https://10.0.0.1:30740/ids: connection refused\n(is the auth service running?)',
          },
        ]),
      ),
      {
        ready: 'False',
        reason: 'REFUSED',
        message: 'https://10.0.0.1:30740/ids: connection refused (is the auth service running?)',
      },
    );
  });

  it('is empty when the agent wrote no condition (identity known from the start)', () => {
    assert.deepEqual(foreignClusterReadiness(fcWith()), {});
    assert.deepEqual(foreignClusterReadiness(fcWith([{ type: 'Other', status: 'False' }])), {});
  });
});

const sdWith = (status?: SearchDomain['status']): SearchDomain => ({
  apiVersion: 'discovery.liqo.io/v1alpha1',
  kind: 'SearchDomain',
  metadata: { name: 'clusters.test' },
  spec: { domain: 'clusters.test' },
  ...(status ? { status } : {}),
});
const ok = (id: string): SearchDomainFoundCluster => ({
  clusterId: id,
  authUrl: `https://${id}.clusters.test:443`,
  foreignCluster: id,
});
const unreachable = (name: string): SearchDomainFoundCluster => ({
  authUrl: `https://${name}.clusters.test:443`,
  error: `${name}.clusters.test: https://${name}.clusters.test:443/ids: connection refused`,
});

describe('plugin output: SearchDomain CLUSTERS and ERROR', () => {
  it('nothing before the first resolution', () => {
    assert.deepEqual(summarizeSearchDomain(sdWith()), {});
  });

  it('a domain with no records is an error, and no cluster', () => {
    const noRecords = {
      authUrl: '',
      error: 'empty.test: no PTR records at empty.test or _liqo._tcp.empty.test',
    };
    assert.deepEqual(summarizeSearchDomain(sdWith({ lastResolved: 'now', clusters: [noRecords] })), {
      found: 0,
      error: 'empty.test: no PTR records at empty.test or _liqo._tcp.empty.test',
    });
  });

  it('one of two clusters unreachable: counted, with the first error', () => {
    const summary = summarizeSearchDomain(
      sdWith({ clusters: [ok('peer-one'), unreachable('gone'), unreachable('also-gone')] }),
    );
    assert.equal(summary.found, 3);
    assert.equal(
      summary.error,
      '2 of 3 unreachable: gone.clusters.test: https://gone.clusters.test:443/ids: connection refused',
    );
  });

  it('a cluster reached but not added, a record error and a failed search are all shown', () => {
    const notAdded = {
      ...ok('peer-two'),
      foreignCluster: undefined,
      error: 'cannot write the ForeignCluster: x',
    };
    delete notAdded.foreignCluster;
    assert.equal(
      summarizeSearchDomain(sdWith({ clusters: [ok('peer-one'), notAdded] })).error,
      '1 of 2 not added: cannot write the ForeignCluster: x',
    );
    assert.equal(
      summarizeSearchDomain(
        sdWith({ clusters: [notAdded, unreachable('gone'), { authUrl: '', error: 'a: SRV a: SERVFAIL' }] }),
      ).error,
      'a: SRV a: SERVFAIL; 2 of 2 failed: cannot write the ForeignCluster: x',
    );
    assert.deepEqual(
      summarizeSearchDomain(sdWith({ clusters: [], error: 'cannot resolve x: no DNS server' })),
      {
        found: 0,
        error: 'cannot resolve x: no DNS server',
      },
    );
  });

  it('this cluster itself found in its own domain is no error', () => {
    const self = { ...ok('me'), error: 'this is the local cluster; not added' };
    delete (self as SearchDomainFoundCluster).foreignCluster;
    assert.deepEqual(summarizeSearchDomain(sdWith({ clusters: [ok('peer-one'), self] })), { found: 2 });
  });
});

describe('object names (search-domain add checks them before sending)', () => {
  it('accepts DNS-1123 subdomains and refuses the rest', () => {
    for (const good of ['example.com', 'a', 'a-b.c-d', '0.1', 'x'.repeat(253)]) {
      assert.equal(objectNameProblem(good), undefined, good);
    }
    for (const bad of [
      '',
      'Example.com',
      '_liqo._tcp.example.com',
      'a..b',
      '-a',
      'a-',
      'a b',
      'x'.repeat(254),
    ]) {
      assert.ok(objectNameProblem(bad), bad);
    }
  });

  it('suggests a valid name, or none', () => {
    assert.equal(suggestObjectName('_liqo._tcp.Example.com'), 'liqo.tcp.example.com');
    assert.equal(suggestObjectName('not_a domain'), 'not-a-domain');
    assert.equal(suggestObjectName('___'), undefined);
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const suggestion = suggestObjectName(text);
        if (suggestion !== undefined) assert.equal(objectNameProblem(suggestion), undefined, suggestion);
      }),
    );
  });
});
