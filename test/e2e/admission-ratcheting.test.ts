// UPDATE ratcheting through the real kube-apiserver, the real webhook and the real kubectl. A
// ForeignCluster that today's rules refuse (a link-local authUrl, a clusterID from before the
// cluster-id rule) is stored while the webhook is stopped under failurePolicy Ignore; with the
// webhook back, what people and controllers do to such an object (label, finalizer, an edit of
// another field, `kubectl apply`) passes, and its bad field can be fixed but not swapped for
// another bad value. Also: `kubectl liqo join` refuses a peer whose /ids announces an unusable
// cluster id before anything is written.
import assert from 'node:assert/strict';
import { LABEL_CLUSTER_ID, PLURAL_FOREIGN_CLUSTERS } from '../../shared/api/constants.js';
import type { ForeignCluster } from '../../shared/api/types.js';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import type { LiqoEnvironment } from '../harness/liqo-environment.js';
import { startIdsServer, testKeyPem, type IdsServer } from '../helpers/https-ids-server.js';
import { expectOneLineError, installPluginOnPath, type PluginOnPath } from './plugin-helpers.js';
import { apply, E2E_WEBHOOK, getObject, liqoEnvironment, resetLiqoObjects } from './setup.js';

const NAME = 'legacy';
const BAD_URL = 'https://169.254.169.254:443';
const OLD_STYLE_ID = 'Legacy_Cluster';

const legacy = (name = NAME, labels: Record<string, string> = {}) =>
  JSON.stringify({
    apiVersion: 'discovery.liqo.io/v1alpha1',
    kind: 'ForeignCluster',
    metadata: { name, labels },
    spec: { authUrl: BAD_URL, clusterIdentity: { clusterID: OLD_STYLE_ID } },
  });

describe('e2e: UPDATE ratcheting (kubectl -> kube-apiserver -> webhook)', function () {
  this.timeout(180_000);
  let env: LiqoEnvironment;
  const getFc = () => getObject<ForeignCluster>(env, PLURAL_FOREIGN_CLUSTERS, NAME);
  const kubectl = (args: string[]) => env.controlPlane.kubectl(args);
  const mergePatch = (patch: unknown) =>
    kubectl(['patch', PLURAL_FOREIGN_CLUSTERS, NAME, '--type=merge', '-p', JSON.stringify(patch)]);

  before(async function () {
    this.timeout(240_000);
    env = await liqoEnvironment();
    await resetLiqoObjects(env);
    // stored as an older webhook (or none) let it in
    await env.stopWebhook();
    try {
      await env.setFailurePolicy('Ignore');
      const stored = await apply(env, legacy());
      assert.equal(stored.code, 0, stored.stderr);
    } finally {
      await env.setFailurePolicy('Fail');
      await env.startWebhook(E2E_WEBHOOK);
    }
  });
  after(async function () {
    this.timeout(60_000);
    // never leave a finalizer behind: the next file's reset deletes every ForeignCluster
    await kubectl([
      'patch',
      PLURAL_FOREIGN_CLUSTERS,
      NAME,
      '--type=merge',
      '-p',
      '{"metadata":{"finalizers":null}}',
    ]);
    await resetLiqoObjects(env);
  });

  it("is refused by today's rules (the webhook is back and judging)", async () => {
    const r = await apply(env, legacy('legacy-copy'), ['--dry-run=server']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /denied the request/);
    assert.match(r.stderr, /spec\.authUrl: host "169\.254\.169\.254" is a link-local address/);
    assert.match(r.stderr, /spec\.clusterIdentity\.clusterID: "Legacy_Cluster" has characters other than/);
    assert.equal(
      (await getFc())?.metadata.labels?.[LABEL_CLUSTER_ID],
      undefined,
      'stored without the webhook',
    );
  });

  it('kubectl label passes, and the webhook still syncs the cluster-id label', async () => {
    const r = await kubectl(['label', PLURAL_FOREIGN_CLUSTERS, NAME, 'team=blue']);
    assert.equal(r.code, 0, r.stderr);
    const fc = await getFc();
    assert.equal(fc?.metadata.labels?.team, 'blue');
    assert.equal(fc?.metadata.labels?.[LABEL_CLUSTER_ID], OLD_STYLE_ID);
  });

  it('a finalizer-only patch passes, and so does taking it off', async () => {
    const add = await mergePatch({ metadata: { finalizers: ['example.com/keep'] } });
    assert.equal(add.code, 0, add.stderr);
    assert.deepEqual((await getFc())?.metadata.finalizers, ['example.com/keep']);
    const remove = await mergePatch({ metadata: { finalizers: null } });
    assert.equal(remove.code, 0, remove.stderr);
    assert.equal((await getFc())?.metadata.finalizers, undefined);
  });

  it('kubectl annotate and kubectl apply of the same object with a new label pass', async () => {
    const annotate = await kubectl(['annotate', PLURAL_FOREIGN_CLUSTERS, NAME, 'note=kept']);
    assert.equal(annotate.code, 0, annotate.stderr);
    const applied = await apply(env, legacy(NAME, { team: 'blue', tier: 'gold' }));
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal((await getFc())?.metadata.labels?.tier, 'gold');
  });

  it('changing an unrelated, valid field (join) passes', async () => {
    const r = await mergePatch({ spec: { join: true } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await getFc())?.spec.join, true);
  });

  it('changing the bad authUrl to another bad one is refused, naming the field', async () => {
    const r = await mergePatch({ spec: { authUrl: 'https://169.254.170.2:443' } });
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /denied the request: ForeignCluster "legacy" is invalid: spec\.authUrl: host "169\.254\.170\.2"/,
    );
    assert.doesNotMatch(r.stderr, /clusterID/, 'the unchanged clusterID is not reported');
    assert.equal((await getFc())?.spec.authUrl, BAD_URL);
  });

  it('changing the old-style clusterID is refused (immutable, and not a cluster id today)', async () => {
    const r = await mergePatch({ spec: { clusterIdentity: { clusterID: 'Other_Cluster' } } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /clusterID/);
    assert.equal((await getFc())?.spec.clusterIdentity?.clusterID, OLD_STYLE_ID);
  });

  it('fixing the bad authUrl passes', async () => {
    const r = await mergePatch({ spec: { authUrl: 'https://192.168.1.10:30740' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await getFc())?.spec.authUrl, 'https://192.168.1.10:30740');
  });
});

describe('e2e: kubectl liqo join and a peer announcing an unusable cluster id', function () {
  this.timeout(180_000);
  let env: LiqoEnvironment;
  let plugin: PluginOnPath;
  let peer: IdsServer;

  before(async function () {
    this.timeout(240_000);
    [env, plugin] = await Promise.all([liqoEnvironment(), installPluginOnPath()]);
    await resetLiqoObjects(env);
    const cert = createServingCertificate({
      commonName: 'peer',
      hosts: ['127.0.0.1'],
      keyPem: await testKeyPem(),
    });
    peer = await startIdsServer({ ...cert, identity: { clusterId: 'Bad_Cluster', clusterName: 'bad' } });
  });
  after(async () => {
    await peer?.close();
    plugin?.remove();
  });

  it('refuses in one line naming the peer and what is accepted, and writes nothing', async () => {
    const r = await plugin.run(['join', peer.url], {
      env: { KUBECONFIG: env.controlPlane.adminKubeconfig, NO_COLOR: '1' },
    });
    const line = expectOneLineError(
      r,
      /^error: refusing to join: https:\/\/127\.0\.0\.1:\d+\/ids announces a cluster id that is not accepted: "Bad_Cluster" has characters other than lower-case letters, digits and '-' \(accepted: a lower-case UUID/,
    );
    assert.ok(line.includes(peer.url), line);
    const list = await env.controlPlane.kubectl(['get', PLURAL_FOREIGN_CLUSTERS, '-o', 'name']);
    assert.equal(list.stdout.trim(), '', 'no ForeignCluster was created');
  });
});
