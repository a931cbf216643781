// `kubectl liqo install` does not take over discovery.liqo.io CRDs another installation put in
// the cluster (Liqo itself, say): on a bare control plane (real etcd + kube-apiserver) holding a
// ForeignCluster CRD created with plain kubectl, install stops with one line naming the CRD and
// its manager before it writes anything; --force goes on. CRDs install itself applied (field
// manager kubectl-liqo) are updated as before.
import assert from 'node:assert/strict';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { installPluginOnPath, type PluginOnPath } from './plugin-helpers.js';

const FOREIGN_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: foreignclusters.discovery.liqo.io
spec:
  group: discovery.liqo.io
  scope: Cluster
  names: { plural: foreignclusters, singular: foreigncluster, kind: ForeignCluster, listKind: ForeignClusterList }
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema:
        openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true }
`;

describe('kubectl liqo install: CRDs another installation owns', function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  let plugin: PluginOnPath;
  const liqo = (args: string[]) =>
    plugin.run(args, { env: { KUBECONFIG: cp.adminKubeconfig, NO_COLOR: '1' } });
  const crdJson = async () => {
    const r = await cp.kubectl(['get', 'crd', 'foreignclusters.discovery.liqo.io', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as {
      metadata: { resourceVersion: string; managedFields: { manager: string }[] };
    };
  };

  before(async function () {
    this.timeout(240_000);
    [cp, plugin] = await Promise.all([startControlPlane(), installPluginOnPath()]);
    const r = await cp.kubectl(['create', '-f', '-'], { input: FOREIGN_CRD });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await cp?.stop();
    plugin?.remove();
  });

  it('stops with one line before writing anything, the CRD untouched', async () => {
    const before = await crdJson();
    const r = await liqo(['install', '--timeout=20s']);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0]!,
      /customresourcedefinition foreignclusters\.discovery\.liqo\.io already exists and was not installed by kubectl liqo \(managed by kubectl-create\); .*--force/,
    );
    assert.equal(r.stdout, '', 'nothing applied');
    assert.equal((await crdJson()).metadata.resourceVersion, before.metadata.resourceVersion);
    assert.notEqual((await cp.kubectl(['get', 'namespace', 'liqo'])).code, 0, 'no namespace made either');
  });

  it('the server dry run stops the same way; with --force it applies the CRDs', async () => {
    const dry = await liqo(['install', '--dry-run=server']);
    assert.equal(dry.code, 1);
    assert.match(dry.stderr, /foreignclusters\.discovery\.liqo\.io already exists .*--force/);
    const forced = await liqo(['install', '--dry-run=server', '--force']);
    assert.doesNotMatch(forced.stderr, /already exists and was not installed/);
    assert.match(
      forced.stdout,
      /customresourcedefinition\.apiextensions\.k8s\.io\/foreignclusters\.discovery\.liqo\.io serverside-applied \(server dry run\)/,
    );
  });
});
