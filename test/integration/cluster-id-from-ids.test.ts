// A peer's /ids answer names objects: its clusterId becomes a ForeignCluster's name, the value
// of its cluster-id label and a term of a label selector. Real HTTPS peers on loopback announce
// ids that are no DNS-1123 label; the agent's fetcher (every agent path: LAN, SearchDomain,
// identity filling) and discover's collector report each as a failed peer with one line naming
// it and saying what is accepted, while honest peers (Liqo's UUIDs, plain names) go through.
import assert from 'node:assert/strict';
import { IdentityFetcher } from '../../agent/identity-fetcher.js';
import { collectClusters } from '../../shared/discovery/collect.js';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import { startIdsServer, testKeyPem, type IdsServer } from '../helpers/https-ids-server.js';

const ACCEPTED = /\(accepted: a lower-case UUID \(as Liqo makes them\) or a DNS-1123 label: at most 63/;

const HOSTILE: Array<[string, RegExp]> = [
  ['Cluster_A', /"Cluster_A" has characters other than lower-case letters, digits and '-'/],
  ['0558DE48-097B-4B7D-BA04-6BD2A0F9D24F', /is a UUID with upper-case letters/],
  ['a,discovery.liqo.io/discovery-type', /has characters other than/], // would widen a selector
  ['x!=y', /has characters other than/],
  ['..', /has characters other than/],
  ['-leading', /starts or ends with '-'/],
  ['z'.repeat(64), /is 64 characters long; at most 63/],
  ['\u202egnp.exe', /an id of 8 characters has characters other than/], // never echoed verbatim
];
const HONEST = ['0558de48-097b-4b7d-ba04-6bd2a0f9d24f', 'cluster-a'];

describe('cluster ids announced at /ids', function () {
  this.timeout(60_000);
  const peers = new Map<string, IdsServer>();

  before(async () => {
    const cert = createServingCertificate({
      commonName: '127.0.0.1',
      hosts: ['127.0.0.1'],
      keyPem: await testKeyPem(),
    });
    for (const id of [...HOSTILE.map(([h]) => h), ...HONEST]) {
      peers.set(id, await startIdsServer({ ...cert, identity: { clusterId: id, clusterName: 'n' } }));
    }
  });
  after(async () => {
    await Promise.all([...peers.values()].map((p) => p.close()));
  });

  it("the agent's fetcher refuses each unusable id as a failed fetch, naming the peer", async () => {
    const fetcher = new IdentityFetcher({ concurrency: 4, timeoutMs: 3000, allowLoopback: true });
    for (const [id, why] of HOSTILE) {
      const url = peers.get(id)!.url;
      await assert.rejects(fetcher.fetch(url), (err: { code?: string; message: string }) => {
        assert.equal(err.code, 'INVALID_CLUSTER_ID');
        assert.ok(
          err.message.startsWith(`${url}/ids announces a cluster id that is not accepted: `),
          err.message,
        );
        assert.match(err.message, why);
        assert.match(err.message, ACCEPTED);
        assert.doesNotMatch(err.message, /[\n\r\u202e]/);
        return true;
      });
    }
    for (const id of HONEST) {
      assert.equal((await fetcher.fetch(peers.get(id)!.url)).identity.clusterId, id);
    }
  });

  it('discover lists a peer with an unusable id as failed, with the reason, and no cluster id', async () => {
    const rows = await collectClusters({
      urls: [...peers.values()].map((p) => p.url),
      identity: { timeoutMs: 3000 },
    });
    for (const [id, why] of HOSTILE) {
      const url = peers.get(id)!.url;
      const row = rows.find((r) => r.authUrl === url);
      assert.ok(row, `no row for ${url}`);
      assert.equal(row.clusterId, undefined, 'an unusable id is not shown as the cluster id');
      assert.equal(row.identity, undefined);
      assert.match(row.error ?? '', why);
      assert.match(row.error ?? '', ACCEPTED);
    }
    for (const id of HONEST) {
      const row = rows.find((r) => r.authUrl === peers.get(id)!.url);
      assert.equal(row?.clusterId, id);
      assert.equal(row?.error, undefined);
    }
  });
});
