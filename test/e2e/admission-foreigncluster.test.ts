// ForeignClusters through the real kube-apiserver, the CRD schema and the real webhook, with
// the real kubectl: the guide's YAML, refused auth URLs, one object per cluster id, clusterID
// immutability and server-side dry runs.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  LABEL_CLUSTER_ID,
  LABEL_DISCOVERY_TYPE,
  PLURAL_FOREIGN_CLUSTERS,
} from '../../shared/api/constants.js';
import type { ForeignCluster } from '../../shared/api/types.js';
import type { LiqoEnvironment } from '../harness/liqo-environment.js';
import { apply, getObject, liqoEnvironment, resetLiqoObjects } from './setup.js';

/** The guide's example with a real address in place of <ADDRESS>:<PORT> (its NodePort example). */
const ADDRESS_PORT = '192.168.1.10:30740';
const guideForeignCluster = (withJoinLine: boolean) =>
  [
    'apiVersion: discovery.liqo.io/v1alpha1',
    'kind: ForeignCluster',
    'metadata:',
    '  name: my-cluster',
    'spec:',
    ...(withJoinLine ? ['  join: true # optional (defaults to false)'] : []),
    `  authUrl: "https://${ADDRESS_PORT}"`,
    '',
  ].join('\n');

function foreignCluster(name: string, authUrl: string, specExtra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'discovery.liqo.io/v1alpha1',
    kind: 'ForeignCluster',
    metadata: { name },
    spec: { authUrl, ...specExtra },
  });
}

describe('e2e: ForeignCluster admission (kubectl -> kube-apiserver -> webhook)', function () {
  let env: LiqoEnvironment;
  const getFc = (name: string) => getObject<ForeignCluster>(env, PLURAL_FOREIGN_CLUSTERS, name);

  before(async function () {
    this.timeout(180_000);
    env = await liqoEnvironment();
  });
  beforeEach(async () => resetLiqoObjects(env));

  it("accepts the guide's ForeignCluster and keeps the join it gives", async () => {
    const r = await apply(env, guideForeignCluster(true));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /foreigncluster.discovery.liqo.io\/my-cluster created/);
    const fc = await getFc('my-cluster');
    assert.ok(fc);
    // only the defaults are added; what the user wrote is kept as written
    assert.deepEqual(fc.spec, {
      authUrl: `https://${ADDRESS_PORT}`,
      join: true,
      discoveryType: 'Manual',
      trustMode: 'Unknown',
    });
    assert.equal(fc.metadata.labels?.[LABEL_DISCOVERY_TYPE], 'Manual');
  });

  it('defaults join to false when the optional line is left out', async () => {
    const r = await apply(env, guideForeignCluster(false));
    assert.equal(r.code, 0, r.stderr);
    const fc = await getFc('my-cluster');
    assert.equal(fc?.spec.join, false);
    assert.equal(fc?.spec.authUrl, `https://${ADDRESS_PORT}`);
  });

  it("sets the labels from the spec and leaves the user's other fields, labels and annotations alone", async () => {
    const clusterID = randomUUID();
    const input = JSON.stringify({
      apiVersion: 'discovery.liqo.io/v1alpha1',
      kind: 'ForeignCluster',
      metadata: { name: 'peer', labels: { team: 'blue' }, annotations: { note: 'kept as is' } },
      spec: {
        authUrl: 'https://peer.example.com:443',
        join: false,
        clusterIdentity: { clusterID, clusterName: 'Peer One' },
        namespace: 'liqo-remote',
        discoveryType: 'WAN',
        trustMode: 'Trusted',
      },
    });
    const r = await apply(env, input);
    assert.equal(r.code, 0, r.stderr);
    const fc = await getFc('peer');
    assert.ok(fc);
    assert.deepEqual(fc.spec, {
      authUrl: 'https://peer.example.com:443',
      join: false,
      clusterIdentity: { clusterID, clusterName: 'Peer One' },
      namespace: 'liqo-remote',
      discoveryType: 'WAN',
      trustMode: 'Trusted',
    });
    assert.equal(fc.metadata.labels?.[LABEL_CLUSTER_ID], clusterID);
    assert.equal(fc.metadata.labels?.[LABEL_DISCOVERY_TYPE], 'WAN');
    assert.equal(fc.metadata.labels?.team, 'blue');
    assert.equal(fc.metadata.annotations?.note, 'kept as is');
  });

  const refusedAuthUrls: Array<[string, string]> = [
    ['', 'empty'],
    [`http://${ADDRESS_PORT}`, 'not https'],
    ['https://169.254.169.254', 'the cloud metadata address (link-local)'],
    ['https://[::1]:443', 'IPv6 loopback'],
    ['https://host:99999', 'a port above 65535'],
    [`https://admin:secret@${ADDRESS_PORT}`, 'user info'],
    [`https://${ADDRESS_PORT}?token=x`, 'a query'],
  ];
  for (const [authUrl, why] of refusedAuthUrls) {
    it(`refuses authUrl ${JSON.stringify(authUrl)} (${why}) naming spec.authUrl and what is accepted`, async () => {
      const r = await apply(env, foreignCluster('refused', authUrl));
      assert.notEqual(r.code, 0, `kubectl apply accepted ${authUrl}: ${r.stdout}`);
      assert.match(r.stderr, /spec\.authUrl/);
      // either the webhook's "(accepted: ...)" or the CRD rule's "https://<host>[:<port>]" / example
      assert.match(r.stderr, /accepted|https:\/\/<host>|e\.g\. https:\/\//);
      assert.equal(await getFc('refused'), undefined);
    });
  }

  it('refuses a second ForeignCluster for the same cluster id, naming the first', async () => {
    const clusterID = randomUUID();
    const first = await apply(
      env,
      foreignCluster('first', `https://${ADDRESS_PORT}`, { clusterIdentity: { clusterID } }),
    );
    assert.equal(first.code, 0, first.stderr);
    const second = await apply(
      env,
      foreignCluster('second', 'https://192.168.1.11:30740', { clusterIdentity: { clusterID } }),
    );
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, /spec\.clusterIdentity\.clusterID/);
    assert.match(second.stderr, /"first"/);
    assert.equal(await getFc('second'), undefined);
  });

  it('refuses changing a clusterID once set', async () => {
    const clusterID = randomUUID();
    const created = await apply(
      env,
      foreignCluster('fixed', `https://${ADDRESS_PORT}`, { clusterIdentity: { clusterID } }),
    );
    assert.equal(created.code, 0, created.stderr);
    const patch = JSON.stringify({ spec: { clusterIdentity: { clusterID: randomUUID() } } });
    const r = await env.controlPlane.kubectl([
      'patch',
      'foreigncluster',
      'fixed',
      '--type',
      'merge',
      '--patch',
      patch,
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.clusterIdentity\.clusterID/);
    assert.equal((await getFc('fixed'))?.spec.clusterIdentity?.clusterID, clusterID);
  });

  it('--dry-run=server runs the webhook (defaults shown, bad input refused) and stores nothing', async () => {
    const dry = await apply(env, guideForeignCluster(false), ['--dry-run=server', '-o', 'json']);
    assert.equal(dry.code, 0, dry.stderr);
    const returned = JSON.parse(dry.stdout) as ForeignCluster;
    assert.equal(returned.spec.join, false);
    assert.equal(returned.metadata.labels?.[LABEL_DISCOVERY_TYPE], 'Manual');
    assert.equal(await getFc('my-cluster'), undefined);

    const refused = await apply(env, foreignCluster('dry-refused', 'https://[::1]:443'), [
      '--dry-run=server',
    ]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /admission webhook .* denied the request/);
    assert.match(refused.stderr, /spec\.authUrl/);

    // an update under dry run leaves the stored object as it was
    assert.equal((await apply(env, guideForeignCluster(true))).code, 0);
    const before = await getFc('my-cluster');
    const dryUpdate = await apply(env, guideForeignCluster(false), ['--dry-run=server']);
    assert.equal(dryUpdate.code, 0, dryUpdate.stderr);
    const after = await getFc('my-cluster');
    assert.equal(after?.spec.join, true);
    assert.equal(after?.metadata.resourceVersion, before?.metadata.resourceVersion);
  });
});
