// The real one-node cluster is one a user would recognise: the node is Ready, Deployments are
// scheduled and run, Services get endpoints that kube-proxy programs, pods get a working
// ServiceAccount token, RBAC refuses what was not granted, and a container that dies is restarted.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { writeOciArchive } from '../../scripts/image/oci-archive.mjs';
import { kubectlWith, mustSucceed, runCommand } from '../harness/kubectl.js';
import { netnsPath } from '../harness/node/namespaces.js';
import { startRealCluster, type RealCluster } from '../harness/node/real-cluster.js';
import {
  applyObjects,
  deployment,
  eventually,
  getJson,
  podsOf,
  rolloutStatus,
  sharedCluster,
} from './setup.js';

const NS = 'cluster-node';

describe('cluster: a real one-node cluster', function () {
  let cluster: RealCluster;

  before(async function () {
    this.timeout(10 * 60_000);
    cluster = await sharedCluster();
    mustSucceed('creating the namespace', await cluster.kubectl(['create', 'namespace', NS]));
  });

  it('has one node, Ready, with its InternalIP, kubelet v1.33 and containerd', async function () {
    const nodes = await getJson<{
      items: {
        metadata: { name: string };
        status: {
          conditions: { type: string; status: string }[];
          addresses: { type: string; address: string }[];
          nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string };
        };
      }[];
    }>(cluster, ['nodes']);
    assert.deepEqual(
      nodes.items.map((n) => n.metadata.name),
      [cluster.name],
    );
    const node = nodes.items[0]!;
    assert.equal(node.status.conditions.find((c) => c.type === 'Ready')?.status, 'True');
    assert.deepEqual(
      node.status.addresses.filter((a) => a.type === 'InternalIP').map((a) => a.address),
      [cluster.nodeIp],
    );
    assert.match(node.status.nodeInfo.kubeletVersion, /^v1\.33\./);
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\//);
    // what a user types
    const table = await cluster.kubectl(['get', 'nodes']);
    assert.match(table.stdout, new RegExp(`^${cluster.name}\\s+Ready\\s`, 'm'));
  });

  it('schedules a Deployment of the pause image and runs its pods on the bridge network', async function () {
    this.timeout(240_000);
    await applyObjects(cluster, deployment(NS, 'pause', cluster.pauseImage, { replicas: 2 }));
    await rolloutStatus(cluster, NS, 'pause');
    const pods = await podsOf(cluster, NS, 'pause');
    assert.equal(pods.length, 2);
    for (const pod of pods) {
      assert.equal(pod.spec.nodeName, cluster.name);
      assert.equal(pod.status.phase, 'Running');
      assert.ok(pod.status.podIP, `${pod.metadata.name} has a pod IP`);
      assert.ok(
        ipaddr.parse(pod.status.podIP).match(ipaddr.parseCIDR('10.88.0.0/24')),
        `${pod.status.podIP} is in the CNI bridge's range`,
      );
    }
    assert.notEqual(pods[0]!.status.podIP, pods[1]!.status.podIP);
  });

  it('gives a Service ready endpoints, and kube-proxy programs them in the node', async function () {
    this.timeout(240_000);
    await applyObjects(cluster, deployment(NS, 'served', cluster.pauseImage, { replicas: 2 }), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'served', namespace: NS },
      spec: { selector: { app: 'served' }, ports: [{ name: 'http', port: 80, targetPort: 80 }] },
    });
    await rolloutStatus(cluster, NS, 'served');
    const podIps = (await podsOf(cluster, NS, 'served')).map((p) => p.status.podIP!).sort();
    const endpointIps = await eventually('EndpointSlice of Service served with both pods ready', async () => {
      const slices = await getJson<{
        items: { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }[];
      }>(cluster, ['endpointslices', '-n', NS, '-l', 'kubernetes.io/service-name=served']);
      const ready = slices.items
        .flatMap((s) => s.endpoints ?? [])
        .filter((e) => e.conditions?.ready)
        .flatMap((e) => e.addresses)
        .sort();
      return ready.length === 2 ? ready : undefined;
    });
    assert.deepEqual(endpointIps, podIps);
    // kube-proxy writes the DNAT to each endpoint into the node's namespace (only there)
    const rules = await eventually('kube-proxy rules for Service served', async () => {
      const saved = await cluster.inNode(['iptables-save', '-t', 'nat']);
      return podIps.every((ip) => saved.stdout.includes(`--to-destination ${ip}:80`))
        ? saved.stdout
        : undefined;
    });
    assert.match(rules, new RegExp(`${NS}/served:http`));
    // and a ClusterIP answers through it: the `kubernetes` Service, from inside the node
    const answer = await eventually('kube-apiserver through ClusterIP 10.96.0.1', async () => {
      const r = await cluster.inNode(['curl', '-sk', '--max-time', '5', 'https://10.96.0.1/readyz']);
      return r.code === 0 && r.stdout.trim() === 'ok' ? r.stdout.trim() : undefined;
    });
    assert.equal(answer, 'ok');
  });

  it('mounts a ServiceAccount token in the pod that authenticates as that ServiceAccount', async function () {
    this.timeout(240_000);
    await applyObjects(
      cluster,
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: NS } },
      deployment(NS, 'with-token', cluster.pauseImage, { serviceAccountName: 'reader' }),
    );
    await rolloutStatus(cluster, NS, 'with-token');
    const [pod] = await podsOf(cluster, NS, 'with-token');
    const containerId = pod!.status.containerStatuses![0]!.containerID!;
    // read it as the container sees its file system
    const root = `/proc/${await cluster.containerPid(containerId)}/root`;
    const secrets = `${root}/var/run/secrets/kubernetes.io/serviceaccount`;
    const token = readFileSync(`${secrets}/token`, 'utf8');
    assert.equal(readFileSync(`${secrets}/namespace`, 'utf8'), NS);
    assert.equal(readFileSync(`${secrets}/ca.crt`, 'utf8').trim(), cluster.caPem.trim());
    const whoami = await kubectlWith(cluster.createTokenKubeconfig('reader-token', token), [
      'auth',
      'whoami',
      '-o',
      'jsonpath={.status.userInfo.username}',
    ]);
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.equal(whoami.stdout, `system:serviceaccount:${NS}:reader`);
  });

  it('enforces RBAC: a ServiceAccount without rights is forbidden, and gets only what a Role grants', async function () {
    this.timeout(120_000);
    await applyObjects(cluster, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'nobody', namespace: NS },
    });
    const token = mustSucceed(
      'kubectl create token',
      await cluster.kubectl(['create', 'token', 'nobody', '-n', NS]),
    ).stdout.trim();
    const asNobody = cluster.createTokenKubeconfig('nobody', token);
    const refused = await kubectlWith(asNobody, ['get', 'pods', '-n', NS]);
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      new RegExp(`Forbidden.*"system:serviceaccount:${NS}:nobody" cannot list resource "pods"`),
    );
    await applyObjects(
      cluster,
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'pod-reader', namespace: NS },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'nobody-reads-pods', namespace: NS },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'nobody', namespace: NS }],
      },
    );
    await eventually('the RoleBinding taking effect', async () => {
      const r = await kubectlWith(asNobody, ['get', 'pods', '-n', NS]);
      return r.code === 0 ? true : undefined;
    });
    const stillRefused = await kubectlWith(asNobody, ['get', 'secrets', '-n', NS]);
    assert.notEqual(stillRefused.code, 0);
    assert.match(stillRefused.stderr, /Forbidden.*cannot list resource "secrets"/);
  });

  it('imports an OCI archive and runs a pod from the image it names', async function () {
    this.timeout(240_000);
    const reference = 'localhost/liqo-discovery-test/imported:1';
    const archive = join(mkdtempSync(join(tmpdir(), 'image-')), 'imported.oci.tar');
    await writeOciArchive({
      out: archive,
      reference,
      layers: [{ entries: [{ path: 'sleeper', type: 'file', source: cluster.binaries.pause, mode: 0o755 }] }],
      config: { entrypoint: ['/sleeper'] },
    });
    assert.deepEqual(await cluster.importImage(archive), [reference]);
    rmSync(dirname(archive), { recursive: true });
    await applyObjects(cluster, deployment(NS, 'imported', reference));
    await rolloutStatus(cluster, NS, 'imported');
    const [pod] = await podsOf(cluster, NS, 'imported');
    assert.equal(pod?.status.phase, 'Running');
  });

  it("runs a program of a test on the node's network, stopped with the node", async function () {
    this.timeout(60_000);
    const program = cluster.startInNode('http-on-node', process.execPath, [
      '-e',
      `require('node:http').createServer((q, s) => s.end('on the node')).listen(8099, '${cluster.nodeIp}')`,
    ]);
    const answer = await eventually('the program answering on the node IP', async () => {
      const r = await cluster.inNode([
        'curl',
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `http://${cluster.nodeIp}:8099/`,
      ]);
      return r.stdout === '200' ? r.stdout : undefined;
    });
    assert.equal(answer, '200');
    // it listens in the node's namespace only (asked locally: no packet leaves for the node IP)
    const listeners = (netnsArgs: string[]) =>
      runCommand('nsenter', [...netnsArgs, '--', 'ss', '-Hltn', 'sport = :8099']).then((r) =>
        r.stdout.trim(),
      );
    assert.match(await listeners([`--net=${netnsPath(cluster.netns)}`]), /8099/);
    assert.equal(await listeners(['--net=/proc/self/ns/net']), '');
    assert.ok(program.isRunning());
  });

  it('refuses a second node of the same name in one line, and the first keeps running', async function () {
    this.timeout(120_000);
    await assert.rejects(
      startRealCluster({ name: cluster.name, build: false }),
      new RegExp(`network namespace ${cluster.netns} already exists`),
    );
    assert.ok(existsSync(netnsPath(cluster.netns)), 'the first node keeps its network namespace');
    const nodes = await cluster.kubectl(['get', 'nodes']);
    assert.match(nodes.stdout, new RegExp(`^${cluster.name}\\s+Ready\\s`, 'm'));
  });

  it('restarts a container whose process dies', async function () {
    this.timeout(240_000);
    await applyObjects(cluster, deployment(NS, 'dies', cluster.pauseImage));
    await rolloutStatus(cluster, NS, 'dies');
    const [before] = await podsOf(cluster, NS, 'dies');
    const status = before!.status.containerStatuses![0]!;
    assert.equal(status.restartCount, 0);
    // the container's main process crashes (SIGKILL from outside, as the OOM killer would)
    process.kill(await cluster.containerPid(status.containerID!), 'SIGKILL');
    const after = await eventually(
      'the container restarted and Ready again',
      async () => {
        const [pod] = await podsOf(cluster, NS, 'dies');
        const s = pod?.status.containerStatuses?.[0];
        return pod?.metadata.name === before!.metadata.name &&
          s &&
          s.restartCount >= 1 &&
          s.ready &&
          s.state?.running
          ? s
          : undefined;
      },
      120_000,
    );
    assert.equal(after.lastState?.terminated?.exitCode, 137);
    assert.notEqual(after.containerID, status.containerID);
  });
});
