// The SIG-Multicluster APIs with their real CRDs (test/harness/sig-multicluster-crds.mjs: the
// ClusterProfile CRD of sigs.k8s.io/cluster-inventory-api v0.1.3, the ClusterProperty CRD of
// kubernetes-sigs/about-api, pinned by sha256), a real API server with our webhook, the whole
// agent in this process as a user holding exactly the RBAC of manifests/agent (plus the
// ClusterProfile Role that `kubectl liqo install --cluster-profiles` renders), and the plugin
// run through the real kubectl:
//  - without the ClusterProperty CRD the agent reads nothing and fails on nothing, and
//    install --publish-cluster-property says in one line what to install;
//  - with it, ClusterProperty cluster.clusterset.k8s.io is the id /ids serves when the
//    cluster-id ConfigMap is absent; when both exist and differ, the ConfigMap's is served and
//    condition ClusterIdConsistent, an Event and `kubectl liqo discovery status` say so;
//  - install --publish-cluster-property writes the property once and never overwrites it;
//  - ClusterProfiles follow ForeignClusters: created, updated with their conditions, deleted
//    (this control plane runs no garbage collector, so the deletion is the agent's own).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { startAgent, type AgentOptions, type RunningAgent } from '../../agent/agent.js';
import { createLogger } from '../../agent/logger.js';
import { loadKubeConfig } from '../../shared/kube/config.js';
import { connectLiqo } from '../../shared/kube/liqo-resources.js';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import { ensureSigMulticlusterCrds } from '../harness/sig-multicluster-crds.mjs';
import { startLiqoEnvironment, type LiqoEnvironment } from '../harness/liqo-environment.js';
import { startIdsServer, testKeyPem, type IdsServer } from '../helpers/https-ids-server.js';
import { eventually, loopbackAgentOptions } from './agent-cluster-fixture.js';
import { installPluginOnPath, type PluginOnPath } from './plugin-helpers.js';

const log = createLogger(process.env['AGENT_TEST_LOG'] ?? 'silent');
const AGENT_USER = 'liqo-agent-sig-multicluster';
const FLEET = 'fleet';
const PROPERTY = 'cluster.clusterset.k8s.io';
/** upstream's own kustomize patch (config/crd/patches/annotation_for_clusterproperties.yaml) */
const API_APPROVED = 'https://github.com/kubernetes/enhancements/pull/3084';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}
interface Profile {
  metadata: {
    name: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string }[];
  };
  spec: { displayName?: string; clusterManager: { name: string } };
  status?: { conditions?: Condition[]; properties?: { name: string; value: string }[] };
}

function getIds(port: number): Promise<{ clusterId: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/ids', rejectUnauthorized: false, timeout: 5000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(body) as { clusterId: string });
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('SIG-Multicluster: About API ClusterProperty and ClusterProfiles (real CRDs)', function () {
  this.timeout(120_000);
  let env: LiqoEnvironment;
  let plugin: PluginOnPath;
  let agent: RunningAgent | undefined;
  let peer: IdsServer;
  let agentKubeconfig: string;
  let crdFiles: { clusterProfiles: string; clusterProperties: string };

  const kubectl = (args: string[], input?: string) =>
    env.controlPlane.kubectl(args, input === undefined ? {} : { input });
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(await ok([...args, '-o', 'json'])) as T;
  const liqo = (args: string[]) =>
    plugin.run(args, { env: { KUBECONFIG: env.controlPlane.adminKubeconfig, NO_COLOR: '1' } });
  // --force: the environment's CRDs were applied by kubectl, not by kubectl liqo
  const installWithPublish = () =>
    liqo([
      'install',
      '--webhook-url',
      env.webhookUrl,
      '--without-agent',
      '--force',
      '--publish-cluster-property',
    ]);
  const setConfigMap = async (id: string | undefined) => {
    await ok(['-n', 'liqo', 'delete', 'configmap', 'cluster-id', '--ignore-not-found']);
    if (id !== undefined)
      await ok(['-n', 'liqo', 'create', 'configmap', 'cluster-id', `--from-literal=cluster-id=${id}`]);
  };
  const clusterIdCondition = async () => {
    const cc = await json<{ status?: { conditions?: Condition[] } }>([
      'get',
      'clusterconfig',
      'liqo-configuration',
    ]);
    return cc.status?.conditions?.find((c) => c.type === 'ClusterIdConsistent');
  };
  const start = async (extra: Partial<AgentOptions> = {}) => {
    agent = await startAgent(
      loopbackAgentOptions({
        kubeConfig: await loadKubeConfig({ kubeconfig: agentKubeconfig }),
        identity: `sig-multicluster-${randomUUID().slice(0, 8)}`,
        dnsServers: [],
        allowLoopback: true,
        clusterIdCheckIntervalMs: 500,
        log,
        ...extra,
      }),
    );
    const running = agent;
    await eventually('leads', async () => (running.isLeader() ? true : undefined));
    return running;
  };
  const stopAgent = async () => {
    await agent?.stop();
    agent = undefined;
  };

  before(async function () {
    this.timeout(240_000);
    crdFiles = ensureSigMulticlusterCrds();
    [env, plugin] = await Promise.all([
      startLiqoEnvironment({ webhook: { allowLoopbackAuthUrl: true } }),
      installPluginOnPath(),
    ]);
    await ok(['create', 'namespace', FLEET]);
    // the agent's RBAC as install renders it with --cluster-profiles, bound to a test user
    const rendered = await liqo(['install', '--dry-run=client', '-o', 'json', '--cluster-profiles', FLEET]);
    assert.equal(rendered.code, 0, rendered.stderr);
    type Obj = { kind: string; metadata: { name: string; namespace?: string } };
    const objects = (JSON.parse(rendered.stdout) as { items: Obj[] }).items;
    const roles = objects.filter(
      (o) =>
        (o.kind === 'ClusterRole' || o.kind === 'Role') && o.metadata.name.startsWith('liqo-discovery-agent'),
    );
    assert.ok(
      roles.some((r) => r.kind === 'Role' && r.metadata.namespace === FLEET),
      'no Role in the fleet namespace',
    );
    await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: roles }));
    for (const r of roles) {
      if (r.kind === 'ClusterRole')
        await ok([
          'create',
          'clusterrolebinding',
          `${AGENT_USER}-${r.metadata.name}`,
          `--clusterrole=${r.metadata.name}`,
          `--user=${AGENT_USER}`,
        ]);
      else
        await ok([
          '-n',
          r.metadata.namespace!,
          'create',
          'rolebinding',
          `${AGENT_USER}-${r.metadata.name}`,
          `--role=${r.metadata.name}`,
          `--user=${AGENT_USER}`,
        ]);
    }
    agentKubeconfig = env.controlPlane.createUserKubeconfig(AGENT_USER);
    const cert = createServingCertificate({
      commonName: 'peer',
      hosts: ['127.0.0.1'],
      keyPem: await testKeyPem(),
    });
    peer = await startIdsServer({
      ...cert,
      identity: { clusterId: 'peer-cluster-0001', clusterName: 'peer-one' },
    });
  });

  after(async function () {
    this.timeout(60_000);
    await stopAgent();
    await peer?.close();
    await env?.stop();
    plugin?.remove();
  });

  it('without the ClusterProperty CRD: the agent reads nothing and fails on nothing; --publish-cluster-property says what to install', async () => {
    await setConfigMap(undefined);
    const running = await start();
    // the usual random id, written to the ConfigMap
    assert.match(running.clusterId, /^[0-9a-f-]{36}$/);
    const cm = await json<{ data: Record<string, string> }>(['-n', 'liqo', 'get', 'configmap', 'cluster-id']);
    assert.equal(cm.data['cluster-id'], running.clusterId);
    assert.equal((await getIds(running.idsPort)).clusterId, running.clusterId);
    await stopAgent();
    assert.equal(await clusterIdCondition(), undefined);

    const r = await installWithPublish();
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => /ClusterProperty/.test(l));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0]!,
      /^warning: --publish-cluster-property: ClusterProperty not written: install the ClusterProperty CRD of https:\/\/github\.com\/kubernetes-sigs\/about-api/,
    );
    const status = await liqo(['discovery', 'status']);
    assert.equal(status.code, 0, status.stderr);
    assert.doesNotMatch(status.stdout, /cluster id/);
  });

  it('with the CRD: ClusterProperty cluster.clusterset.k8s.io is the id /ids serves while the ConfigMap is absent', async () => {
    const crd = parse(readFileSync(crdFiles.clusterProperties, 'utf8')) as {
      metadata: { annotations?: Record<string, string> };
    };
    crd.metadata.annotations = { ...crd.metadata.annotations, 'api-approved.kubernetes.io': API_APPROVED };
    await ok(['apply', '--server-side', '-f', '-'], JSON.stringify(crd));
    await ok(['apply', '--server-side', '-f', crdFiles.clusterProfiles]);
    await ok([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/clusterproperties.about.k8s.io',
      'crd/clusterprofiles.multicluster.x-k8s.io',
    ]);

    const propertyId = randomUUID();
    await ok(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'about.k8s.io/v1beta1',
        kind: 'ClusterProperty',
        metadata: { name: PROPERTY },
        spec: { value: propertyId },
      }),
    );
    await setConfigMap(undefined);
    const running = await start();
    assert.equal(running.clusterId, propertyId);
    assert.equal((await getIds(running.idsPort)).clusterId, propertyId);
    // the ConfigMap is not made up: the property stays the one source
    const cm = await kubectl(['-n', 'liqo', 'get', 'configmap', 'cluster-id']);
    assert.notEqual(cm.code, 0);
    assert.match(cm.stderr, /NotFound/);
    const condition = await eventually('condition ClusterIdConsistent', clusterIdCondition);
    assert.equal(condition.status, 'True');
    assert.equal(condition.reason, 'FromClusterProperty');
    const status = await liqo(['discovery', 'status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(
      status.stdout,
      new RegExp(
        `^cluster id: ${propertyId} \\(from ClusterProperty ${PROPERTY}; no ConfigMap liqo/cluster-id\\)$`,
        'm',
      ),
    );
    // the plugin's own id (join's "this is your own cluster", discover's own-cluster filter)
    // follows the agent's rule
    const resources = await connectLiqo({ kubeconfig: env.controlPlane.adminKubeconfig });
    assert.equal(await resources.readOwnClusterId(), propertyId);
    assert.equal(await resources.readClusterIdConfigMap(), undefined);
    await stopAgent();
  });

  it("ConfigMap and ClusterProperty differ: /ids serves the ConfigMap's; condition False, a Warning Event and discovery status say so", async () => {
    const property = await json<{ spec: { value: string }; metadata: { uid: string } }>([
      'get',
      'clusterproperty',
      PROPERTY,
    ]);
    const configMapId = randomUUID();
    await setConfigMap(configMapId);
    const running = await start();
    assert.equal(running.clusterId, configMapId);
    assert.equal((await getIds(running.idsPort)).clusterId, configMapId);
    const condition = await eventually('condition ClusterIdConsistent False', async () => {
      const c = await clusterIdCondition();
      return c?.status === 'False' ? c : undefined;
    });
    assert.equal(condition.reason, 'ClusterPropertyDiffers');
    const expected = `ConfigMap liqo/cluster-id says ${configMapId} but ClusterProperty ${PROPERTY} says ${property.spec.value}`;
    assert.ok(condition.message?.startsWith(expected), condition.message);
    const event = await eventually('Event ClusterIdMismatch', async () => {
      const events = await json<{
        items: { reason: string; type: string; message: string; involvedObject: { uid?: string } }[];
      }>([
        'get',
        'events',
        '-A',
        '--field-selector',
        `involvedObject.kind=ClusterProperty,involvedObject.name=${PROPERTY}`,
      ]);
      return events.items.find((e) => e.reason === 'ClusterIdMismatch');
    });
    assert.equal(event.type, 'Warning');
    assert.equal(event.involvedObject.uid, property.metadata.uid);
    assert.ok(event.message.startsWith(expected), event.message);

    const table = await liqo(['discovery', 'status']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`^cluster id mismatch: ${expected}`, 'm'));
    const asJson = await liqo(['discovery', 'status', '-o', 'json']);
    assert.equal(asJson.code, 0, asJson.stderr);
    const report = (JSON.parse(asJson.stdout) as { clusterId: Record<string, unknown> }).clusterId;
    assert.equal(report['configMap'], configMapId);
    assert.equal(report['clusterProperty'], property.spec.value);
    assert.equal(report['source'], 'ConfigMap');
    assert.match(String(report['mismatch']), new RegExp(`^${expected}`));

    // made equal: the condition turns True
    await ok([
      'patch',
      'clusterproperty',
      PROPERTY,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { value: configMapId } }),
    ]);
    const agreed = await eventually('condition ClusterIdConsistent True', async () => {
      const c = await clusterIdCondition();
      return c?.status === 'True' ? c : undefined;
    });
    assert.equal(agreed.reason, 'Agree');
    await stopAgent();
  });

  it('install --publish-cluster-property writes the property from the cluster id once, and never overwrites it', async () => {
    await ok(['delete', 'clusterproperty', PROPERTY]);
    const ours = randomUUID();
    await setConfigMap(ours);
    const first = await installWithPublish();
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      new RegExp(`^clusterproperty\\.about\\.k8s\\.io/${PROPERTY} created \\(${ours}\\)$`, 'm'),
    );
    type Property = {
      spec: { value: string };
      metadata: { resourceVersion: string; managedFields?: { manager: string }[] };
    };
    const written = await json<Property>(['get', 'clusterproperty', PROPERTY, '--show-managed-fields']);
    assert.equal(written.spec.value, ours);
    assert.ok(written.metadata.managedFields?.some((m) => m.manager === 'kubectl-liqo'));

    const again = await installWithPublish();
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stdout,
      new RegExp(`^clusterproperty\\.about\\.k8s\\.io/${PROPERTY} unchanged \\(already ${ours}\\)$`, 'm'),
    );

    const other = randomUUID();
    await setConfigMap(other);
    const differs = await installWithPublish();
    assert.equal(differs.code, 0, differs.stderr);
    assert.match(
      differs.stderr,
      new RegExp(
        `^warning: --publish-cluster-property: clusterproperty\\.about\\.k8s\\.io/${PROPERTY} says ${ours}, not this cluster's id ${other} .*never overwritten\\)$`,
        'm',
      ),
    );
    const after = await json<Property>(['get', 'clusterproperty', PROPERTY]);
    assert.equal(after.spec.value, ours);
    assert.equal(after.metadata.resourceVersion, written.metadata.resourceVersion);
  });

  it('--cluster-profiles: one ClusterProfile per ForeignCluster, updated with its conditions, deleted with it', async () => {
    await ok(
      ['-n', FLEET, 'apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'multicluster.x-k8s.io/v1alpha1',
        kind: 'ClusterProfile',
        metadata: { name: 'someone-elses', namespace: FLEET, labels: { 'x-k8s.io/cluster-manager': 'ocm' } },
        spec: { clusterManager: { name: 'ocm' } },
      }),
    );
    await start({ clusterProfilesNamespace: FLEET, clusterProfilesIntervalMs: 300 });
    await ok(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'discovery.liqo.io/v1alpha1',
        kind: 'ForeignCluster',
        metadata: { name: 'peer-one' },
        spec: { authUrl: peer.url },
      }),
    );
    const fc = await json<{ metadata: { uid: string } }>(['get', 'foreigncluster', 'peer-one']);
    const profile = () => json<Profile>(['-n', FLEET, 'get', 'clusterprofile', 'peer-one']);

    // the identity filler asks the peer's /ids: the profile gets its id and a healthy control plane
    const resolved = await eventually('profile with the peer id and ControlPlaneHealthy True', async () => {
      const p = await profile().catch(() => undefined);
      const healthy = p?.status?.conditions?.find((c) => c.type === 'ControlPlaneHealthy');
      const id = p?.status?.properties?.find((x) => x.name === PROPERTY);
      return healthy?.status === 'True' && id ? p : undefined;
    });
    assert.equal(resolved.metadata.labels?.['x-k8s.io/cluster-manager'], 'liqo-discovery');
    assert.equal(resolved.spec.clusterManager.name, 'liqo-discovery');
    assert.equal(resolved.spec.displayName, 'peer-one');
    assert.deepEqual(
      resolved.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid]),
      [['ForeignCluster', 'peer-one', fc.metadata.uid]],
    );
    const properties = Object.fromEntries((resolved.status?.properties ?? []).map((x) => [x.name, x.value]));
    assert.equal(properties[PROPERTY], 'peer-cluster-0001');
    assert.equal(properties['discovery.liqo.io/auth-url'], peer.url);
    assert.equal(properties['discovery.liqo.io/discovery-type'], 'Manual');
    const joined = resolved.status?.conditions?.find((c) => c.type === 'Joined');
    assert.equal(joined?.status, 'False');

    // a peering comes up: Joined follows
    await ok([
      'patch',
      'foreigncluster',
      'peer-one',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { outgoing: { joined: true } } }),
    ]);
    const nowJoined = await eventually('Joined True', async () => {
      const c = (await profile()).status?.conditions?.find((x) => x.type === 'Joined');
      return c?.status === 'True' ? c : undefined;
    });
    assert.equal(nowJoined.reason, 'Outgoing');

    // the ForeignCluster goes: so does its profile (no garbage collector runs here); the other
    // cluster manager's profile stays
    await ok(['delete', 'foreigncluster', 'peer-one']);
    await eventually('profile deleted', async () => {
      const r = await kubectl(['-n', FLEET, 'get', 'clusterprofile', 'peer-one']);
      return r.code !== 0 && /NotFound/.test(r.stderr) ? true : undefined;
    });
    const names = await ok(['-n', FLEET, 'get', 'clusterprofiles', '-o', 'name']);
    assert.equal(names.trim(), 'clusterprofile.multicluster.x-k8s.io/someone-elses');
    await stopAgent();
  });
});
