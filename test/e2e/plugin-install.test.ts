// `kubectl liqo install` / `uninstall` on a bare control plane (real etcd + kube-apiserver, no
// CRDs, no kubelet, no controllers). Without a kubelet no pod of ours ever runs, which is the
// case of an image the nodes cannot pull: install must say why and leave the cluster writable.
// Where a test needs a webhook Deployment that is available, it writes the status a kubelet and
// the Deployment/DaemonSet controllers would write (and the CA Secret the webhook pod would
// make), through the status subresource: a stand-in, said so at each place, until the
// real-node layer runs the real pods. The --webhook-url path runs the real webhook process.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DISCOVERY_CONFIG_DEFAULTS } from '../../shared/api/constants.js';
import { createCertificateAuthority } from '../../shared/tls/certificates.js';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import type { CommandResult } from '../harness/kubectl.js';
import { buildWebhookBundle } from '../harness/liqo-environment.js';
import { freePort, waitForHttpOk } from '../harness/network.js';
import { startProcess, type ManagedProcess } from '../harness/processes.js';
import { installPluginOnPath, type PluginOnPath } from './plugin-helpers.js';

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number; managedFields?: { manager: string }[] };
  [key: string]: unknown;
}

const TEST_IMAGE = 'registry.example/team/liqo-discovery:9.9.9-test';
const WEBHOOK_KINDS = 'mutatingwebhookconfigurations,validatingwebhookconfigurations';

/** `b` holds everything `a` says (the server adds defaults, metadata and status). */
function contains(a: unknown, b: unknown, path = ''): string | undefined {
  if (a === null || typeof a !== 'object')
    return a === b ? undefined : `${path}: ${JSON.stringify(b)} ≠ ${JSON.stringify(a)}`;
  if (b === null || typeof b !== 'object') return `${path}: missing`;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length)
      return `${path}: list of ${a.length} ≠ ${JSON.stringify(b)}`;
    for (let i = 0; i < a.length; i++) {
      const problem = contains(a[i], b[i], `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(a)) {
    const problem = contains(v, (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (problem) return problem;
  }
  return undefined;
}

function errorLines(r: CommandResult): string[] {
  return r.stderr.split('\n').filter((l) => l.startsWith('error: '));
}

describe('kubectl liqo install / uninstall (e2e)', function () {
  this.timeout(240_000);
  let cp: ControlPlane;
  let plugin: PluginOnPath;
  let webhook: ManagedProcess | undefined;
  let webhookUrl: string;
  const liqo = (args: string[]) =>
    plugin.run(args, { env: { KUBECONFIG: cp.adminKubeconfig, NO_COLOR: '1' } });
  const kubectlJson = async <T>(args: string[]): Promise<T> => {
    const r = await cp.kubectl([...args, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as T;
  };
  const names = async (kinds: string, namespace?: string) =>
    (await cp.kubectl([...(namespace ? ['-n', namespace] : []), 'get', kinds, '-o', 'name'])).stdout.trim();
  /** Polls until `kubectl get` finds the object as `ready` wants it (install applies it meanwhile). */
  async function waitFor(args: string[], ready: (o: K8sObject) => boolean = () => true): Promise<K8sObject> {
    for (let i = 0; ; i++) {
      const r = await cp.kubectl([...args, '-o', 'json']);
      if (r.code === 0 && ready(JSON.parse(r.stdout) as K8sObject)) return JSON.parse(r.stdout) as K8sObject;
      if (i > 300) throw new Error(`never appeared: ${args.join(' ')}: ${r.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  async function patchStatus(args: string[], status: unknown): Promise<void> {
    const r = await cp.kubectl([
      'patch',
      ...args,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status }),
    ]);
    assert.equal(r.code, 0, r.stderr);
  }

  /**
   * After a successful install: the CRDs are served with their CEL rules, the API server routes
   * admission to the webhook's pods, the service accounts the pods run as may do what the agent
   * and the webhook do (and not more than that in the places checked), and the ClusterConfig
   * holds the guide's defaults.
   */
  async function assertWhatTheUserGets(printed: K8sObject[]): Promise<void> {
    // CRDs: Established and names accepted, with every CEL rule of the manifest (the API server
    // compiles x-kubernetes-validations when it accepts a CRD, so stored = compiled)
    const celRules = (o: unknown): number =>
      o === null || typeof o !== 'object'
        ? 0
        : Object.entries(o).reduce(
            (n, [k, v]) =>
              n + (k === 'x-kubernetes-validations' && Array.isArray(v) ? v.length : 0) + celRules(v),
            0,
          );
    const crds = printed.filter((o) => o.kind === 'CustomResourceDefinition');
    assert.ok(crds.length >= 3, 'the CRDs are part of the install');
    for (const crd of crds) {
      const served = await kubectlJson<
        K8sObject & { status: { conditions: { type: string; status: string }[] } }
      >(['get', 'crd', crd.metadata.name]);
      const condition = (type: string) => served.status.conditions.find((c) => c.type === type)?.status;
      assert.deepEqual(
        [condition('Established'), condition('NamesAccepted')],
        ['True', 'True'],
        crd.metadata.name,
      );
      assert.ok(celRules(crd.spec) > 0, `${crd.metadata.name}: no CEL rule in the manifest`);
      assert.equal(celRules(served.spec), celRules(crd.spec), `${crd.metadata.name}: CEL rules served`);
    }

    // admission reaches the webhook's pods: each configuration names the Service and its port,
    // the Service selects the Deployment's pods and targets their HTTPS port
    type Service = {
      spec: { selector: Record<string, string>; ports: { port: number; targetPort: string | number }[] };
    };
    type PodTemplate = {
      spec: {
        template: {
          metadata: { labels: Record<string, string> };
          spec: {
            serviceAccountName?: string;
            containers: { ports?: { name?: string; containerPort: number }[] }[];
          };
        };
      };
    };
    const service = await kubectlJson<Service>(['-n', 'liqo', 'get', 'service', 'liqo-webhook']);
    const webhookDeployment = await kubectlJson<PodTemplate>([
      '-n',
      'liqo',
      'get',
      'deployment',
      'liqo-webhook',
    ]);
    const agentDaemonSet = await kubectlJson<PodTemplate>([
      '-n',
      'liqo',
      'get',
      'daemonset',
      'liqo-discovery-agent',
    ]);
    const podLabels = webhookDeployment.spec.template.metadata.labels;
    assert.ok(
      Object.entries(service.spec.selector).every(([k, v]) => podLabels[k] === v),
      `the Service selects ${JSON.stringify(service.spec.selector)}, the pods carry ${JSON.stringify(podLabels)}`,
    );
    const containerPorts = webhookDeployment.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
    for (const kind of ['mutatingwebhookconfiguration', 'validatingwebhookconfiguration']) {
      const c = await kubectlJson<{
        webhooks: { clientConfig: { service?: { namespace: string; name: string; port?: number } } }[];
      }>(['get', kind, 'liqo-webhook']);
      for (const w of c.webhooks) {
        const ref = w.clientConfig.service;
        assert.deepEqual([ref?.namespace, ref?.name], ['liqo', 'liqo-webhook'], kind);
        const port = service.spec.ports.find((p) => p.port === (ref?.port ?? 443));
        assert.ok(port, `${kind}: the Service has no port ${ref?.port}`);
        assert.ok(
          containerPorts.some((p) => p.name === port.targetPort || p.containerPort === port.targetPort),
          `${kind}: the Service's target port ${port.targetPort} is no port of the webhook container`,
        );
      }
    }

    // RBAC: each thing the agent and the webhook do, asked as the service account its pods run as
    const agentUser = `system:serviceaccount:liqo:${agentDaemonSet.spec.template.spec.serviceAccountName}`;
    const webhookUser = `system:serviceaccount:liqo:${webhookDeployment.spec.template.spec.serviceAccountName}`;
    assert.equal(agentUser, 'system:serviceaccount:liqo:liqo-discovery-agent');
    assert.equal(webhookUser, 'system:serviceaccount:liqo:liqo-webhook');
    // [user, verbs, resource, namespace?, subresource?, expected]
    type Ask = [string, string, string, string?, string?, ('yes' | 'no')?];
    const FC = 'foreignclusters.discovery.liqo.io';
    const SD = 'searchdomains.discovery.liqo.io';
    const asks: Ask[] = [
      // the agent: discovered ForeignClusters and their status, SearchDomains and their status,
      // DNSRegistrations (status, finalizer, their TSIG key by name), ClusterConfig read, its
      // cluster id, /ids certificate and Lease, Events on cluster objects
      [agentUser, 'get list watch create update patch delete', FC],
      [agentUser, 'get update patch', FC, undefined, 'status'],
      [agentUser, 'get list watch', SD],
      [agentUser, 'get update patch', SD, undefined, 'status'],
      [agentUser, 'get list watch update patch', 'dnsregistrations.discovery.liqo.io'],
      [agentUser, 'get update patch', 'dnsregistrations.discovery.liqo.io', undefined, 'status'],
      [agentUser, 'update', 'dnsregistrations.discovery.liqo.io', undefined, 'finalizers'],
      [agentUser, 'get list watch', 'secrets/liqo-dns-tsig', 'liqo'],
      [agentUser, 'get list watch', 'clusterconfigs.config.liqo.io'],
      [agentUser, 'create', 'configmaps', 'liqo'],
      [agentUser, 'get update', 'configmaps/cluster-id', 'liqo'],
      [agentUser, 'create', 'secrets', 'liqo'],
      [agentUser, 'get update', 'secrets/liqo-agent-ids-tls', 'liqo'],
      [agentUser, 'create', 'leases.coordination.k8s.io', 'liqo'],
      [agentUser, 'get update', 'leases.coordination.k8s.io/liqo-discovery-agent', 'liqo'],
      [agentUser, 'create get update', 'events', 'default'],
      // the webhook: its cross-object caches, its caBundle, its CA Secret
      [webhookUser, 'get list watch', FC],
      [webhookUser, 'get list watch', SD],
      [webhookUser, 'get patch', 'mutatingwebhookconfigurations.admissionregistration.k8s.io/liqo-webhook'],
      [webhookUser, 'get patch', 'validatingwebhookconfigurations.admissionregistration.k8s.io/liqo-webhook'],
      [webhookUser, 'create', 'secrets', 'liqo'],
      [webhookUser, 'get update', 'secrets/liqo-webhook-tls', 'liqo'],
      // and not more, where it would matter
      [agentUser, 'patch update', 'clusterconfigs.config.liqo.io', undefined, undefined, 'no'],
      [agentUser, 'list get', 'secrets', 'liqo', undefined, 'no'],
      [webhookUser, 'create update patch delete', FC, undefined, undefined, 'no'],
      [webhookUser, 'get', 'secrets/liqo-agent-ids-tls', 'liqo', undefined, 'no'],
      [
        webhookUser,
        'patch',
        'validatingwebhookconfigurations.admissionregistration.k8s.io/other',
        undefined,
        undefined,
        'no',
      ],
    ];
    const checks = asks.flatMap(([user, verbs, resource, namespace, subresource, expected = 'yes']) =>
      verbs.split(' ').map((verb) => async () => {
        const args = ['auth', 'can-i', verb, resource, `--as=${user}`];
        if (namespace) args.push('-n', namespace);
        if (subresource) args.push(`--subresource=${subresource}`);
        const answer = (await cp.kubectl(args)).stdout.trim();
        return answer === expected
          ? undefined
          : `${user.split(':').at(-1)} ${verb} ${resource}${subresource ? `/${subresource}` : ''}${namespace ? ` -n ${namespace}` : ''}: ${answer}, expected ${expected}`;
      }),
    );
    // four kubectl processes at a time: one each would load the machine for nothing
    const answers: (string | undefined)[] = [];
    const worker = async () => {
      for (let check = checks.shift(); check; check = checks.shift()) answers.push(await check());
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    assert.deepEqual(answers.filter(Boolean), [], 'RBAC');

    // the ClusterConfig the agent reads: the guide's defaults (the run before made it, the
    // guide's commands turned discovery off and on again; install left it alone)
    const config = await kubectlJson<{ spec: { discoveryConfig: unknown } }>([
      'get',
      'clusterconfig',
      'liqo-configuration',
    ]);
    assert.deepEqual(config.spec.discoveryConfig, DISCOVERY_CONFIG_DEFAULTS);
  }

  before(async () => {
    [cp, plugin] = await Promise.all([startControlPlane(), installPluginOnPath()]);
    webhookUrl = `https://127.0.0.1:${await freePort()}`;
  });
  after(async () => {
    await webhook?.stop();
    await cp?.stop();
    plugin?.remove();
  });

  it('--dry-run=client -o yaml prints the objects in apply order and changes nothing', async () => {
    const r = await liqo(['install', '--dry-run=client', '-o', 'yaml']);
    assert.equal(r.code, 0, r.stderr);
    const kinds = parseAllDocuments(r.stdout).map((d) => (d.toJS() as K8sObject).kind);
    assert.equal(kinds[0], 'Namespace');
    assert.equal(kinds.filter((k) => k === 'CustomResourceDefinition').length, 4);
    assert.ok(kinds.indexOf('ClusterConfig') > kinds.lastIndexOf('CustomResourceDefinition'));
    assert.ok(kinds.indexOf('MutatingWebhookConfiguration') > kinds.indexOf('Deployment'));
    assert.equal(kinds.at(-1), 'DaemonSet');
    assert.equal(await names('crd'), '');
    // a server dry run on a cluster without the namespace stops where the server cannot check
    const server = await liqo(['install', '--dry-run=server']);
    assert.equal(server.code, 1);
    assert.match(
      server.stdout,
      /customresourcedefinition\.apiextensions\.k8s\.io\/foreignclusters\.discovery\.liqo\.io serverside-applied \(server dry run\)/,
    );
    assert.deepEqual(errorLines(server), [
      'error: --dry-run=server: namespace liqo does not exist yet, so the API server cannot check the objects in it (--dry-run=client prints them)',
    ]);
    assert.equal(await names('crd'), '');

    const outside = await liqo(['install', '--dry-run', '--webhook-url', webhookUrl, '--without-agent']);
    const shaped = parseAllDocuments(outside.stdout).map(
      (d) => d.toJS() as K8sObject & { webhooks?: { clientConfig: { url?: string } }[] },
    );
    assert.ok(!shaped.some((o) => ['Deployment', 'DaemonSet'].includes(o.kind)), 'no in-cluster programs');
    const urls = shaped.flatMap((o) => o.webhooks ?? []).map((w) => w.clientConfig.url);
    assert.deepEqual(urls, [`${webhookUrl}/mutate`, `${webhookUrl}/validate`]);
  });

  it('a webhook whose image cannot be pulled: exit 1 with the pod’s reason, no webhook registered, the cluster writable, ClusterConfig with the guide’s defaults', async () => {
    const running = liqo(['install', '--timeout', '20s']);
    // Stand-in for the ReplicaSet controller and the kubelet: a pod of the webhook's Deployment
    // with the status a kubelet writes when the image is not found.
    const deployment = await waitFor(['-n', 'liqo', 'get', 'deployment', 'liqo-webhook']);
    const image = (
      deployment as unknown as { spec: { template: { spec: { containers: { image: string }[] } } } }
    ).spec.template.spec.containers[0]!.image;
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'liqo-webhook-standin',
        namespace: 'liqo',
        labels: { 'app.kubernetes.io/name': 'liqo-webhook' },
      },
      spec: {
        nodeName: 'node-1',
        serviceAccountName: 'liqo-webhook',
        automountServiceAccountToken: false,
        containers: [{ name: 'webhook', image }],
      },
    };
    const created = await cp.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    assert.equal(created.code, 0, created.stderr);
    await patchStatus(['-n', 'liqo', 'pod', 'liqo-webhook-standin'], {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'True' }],
      containerStatuses: [
        {
          name: 'webhook',
          image,
          imageID: '',
          ready: false,
          restartCount: 0,
          started: false,
          state: {
            waiting: {
              reason: 'ErrImagePull',
              message: `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found`,
            },
          },
        },
      ],
    });

    const r = await running;
    assert.equal(r.code, 1, r.stderr);
    const errors = errorLines(r);
    assert.equal(errors.length, 1, r.stderr);
    assert.match(
      errors[0]!,
      /^error: deployment\.apps\/liqo-webhook not ready after --timeout 20s: pod liqo-webhook-standin: ErrImagePull: image "ghcr\.io\/liqo-discovery\/liqo-discovery:\d+\.\d+\.\d+" not found on node node-1 \(.*\): load it into the node .*; no webhook configuration is registered, so writes are not blocked$/,
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    // progress came as it happened: the CRDs, the rollout, the pod's state
    assert.match(r.stderr, /waiting for 4 CustomResourceDefinitions to be established/);
    assert.match(r.stderr, /deployment\.apps\/liqo-webhook: waiting for the controller/);
    assert.match(r.stderr, /^ {2}pod liqo-webhook-standin: ErrImagePull/m);
    assert.doesNotMatch(r.stdout, /webhookconfiguration/);

    assert.equal(await names(WEBHOOK_KINDS), '', 'no webhook configuration left');
    const config = await kubectlJson<{ spec: { discoveryConfig: unknown } }>([
      'get',
      'clusterconfig',
      'liqo-configuration',
    ]);
    assert.deepEqual(config.spec.discoveryConfig, DISCOVERY_CONFIG_DEFAULTS);
    // the guide's first commands work right away
    for (const enabled of [false, true]) {
      const patched = await cp.kubectl([
        'patch',
        'clusterconfigs',
        'liqo-configuration',
        '--patch',
        `{"spec":{"discoveryConfig":{"enableDiscovery": ${enabled}, "enableAdvertisement": ${enabled}}}}`,
        '--type',
        'merge',
      ]);
      assert.equal(patched.code, 0, patched.stderr);
    }
    const fc = await cp.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'discovery.liqo.io/v1alpha1',
        kind: 'ForeignCluster',
        metadata: { name: 'my-cluster' },
        spec: { join: true, authUrl: 'https://192.168.1.10:30443' },
      }),
    });
    assert.equal(fc.code, 0, fc.stderr);
    assert.equal((await cp.kubectl(['delete', 'foreigncluster', 'my-cluster'])).code, 0);
    // no kubelet confirms a graceful deletion, so the stand-in pod goes by force
    const gone = await cp.kubectl([
      '-n',
      'liqo',
      'delete',
      'pod',
      'liqo-webhook-standin',
      '--grace-period=0',
      '--force',
    ]);
    assert.equal(gone.code, 0, gone.stderr);
  });

  it('once the webhook is available: registers it with the CA of its Secret; --dry-run=client -o yaml is what the API server then holds; CRDs served with their CEL rules, admission routed to the pods, RBAC for what the agent and webhook do', async () => {
    const flags = ['--image', TEST_IMAGE, '--image-pull-policy', 'Never', '--ids-port', '31443'];
    const running = liqo(['install', ...flags, '--timeout', '60s']);
    const ca = createCertificateAuthority({ commonName: 'liqo-webhook-ca-test' });
    // Stand-in for the webhook pod (its --bootstrap-tls makes this Secret) and for the
    // Deployment controller and kubelet (the status of a rolled-out Deployment).
    // (the Deployment exists from the run before: wait for this run's spec)
    const hasTestImage = (o: K8sObject) => JSON.stringify(o).includes(TEST_IMAGE);
    const deployment = await waitFor(['-n', 'liqo', 'get', 'deployment', 'liqo-webhook'], hasTestImage);
    const secret = await cp.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'liqo-webhook-tls', namespace: 'liqo' },
        type: 'kubernetes.io/tls',
        data: {
          'tls.crt': Buffer.from(ca.certPem).toString('base64'),
          'tls.key': Buffer.from(ca.keyPem).toString('base64'),
          'ca.crt': Buffer.from(ca.certPem).toString('base64'),
        },
      }),
    });
    assert.equal(secret.code, 0, secret.stderr);
    assert.equal(await names(WEBHOOK_KINDS), '', 'not registered before the webhook is available');
    await patchStatus(['-n', 'liqo', 'deployment', 'liqo-webhook'], {
      observedGeneration: deployment.metadata.generation,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }],
    });
    // ... and for the DaemonSet controller, with one node
    const agent = await waitFor(['-n', 'liqo', 'get', 'daemonset', 'liqo-discovery-agent'], hasTestImage);
    await patchStatus(['-n', 'liqo', 'daemonset', 'liqo-discovery-agent'], {
      observedGeneration: agent.metadata.generation,
      desiredNumberScheduled: 1,
      currentNumberScheduled: 1,
      updatedNumberScheduled: 1,
      numberAvailable: 1,
      numberReady: 1,
      numberMisscheduled: 0,
    });
    const r = await running;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /deployment\.apps\/liqo-webhook: rolled out \(2 of 2 replicas available\)/);
    assert.match(r.stderr, /daemonset\.apps\/liqo-discovery-agent: rolled out \(1 of 1 pods available\)/);
    assert.match(
      r.stdout,
      /clusterconfig\.config\.liqo\.io\/liqo-configuration unchanged \(exists; install never overwrites it\)/,
    );

    // the caBundle is set by install, from the Secret
    for (const kind of ['mutatingwebhookconfiguration', 'validatingwebhookconfiguration']) {
      const c = await kubectlJson<{
        webhooks: { failurePolicy: string; clientConfig: { caBundle?: string } }[];
      }>(['get', kind, 'liqo-webhook']);
      assert.deepEqual(
        c.webhooks.map((w) => [w.failurePolicy, w.clientConfig.caBundle]),
        [['Fail', Buffer.from(ca.certPem).toString('base64')]],
      );
    }

    // what a dry run prints is what install sent: every object is on the server, with every
    // field the dry run shows (the server only adds), managed by kubectl-liqo
    const dry = await liqo(['install', ...flags, '--dry-run=client', '-o', 'yaml']);
    assert.equal(dry.code, 0, dry.stderr);
    const printed = parseAllDocuments(dry.stdout).map((d) => d.toJS() as K8sObject);
    const reported = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[0]);
    assert.equal(reported.length, printed.length, r.stdout);
    for (const o of printed) {
      const ref = [o.kind, o.metadata.name, ...(o.metadata.namespace ? ['-n', o.metadata.namespace] : [])];
      const onServer = await kubectlJson<K8sObject>(['get', ...ref, '--show-managed-fields']);
      if (o.kind === 'ClusterConfig') continue; // created by the run before, then patched by the guide's commands
      assert.equal(contains(o, onServer), undefined, `${o.kind}/${o.metadata.name}`);
      assert.ok(
        onServer.metadata.managedFields?.some((m) => m.manager === 'kubectl-liqo'),
        `${o.kind}/${o.metadata.name} not applied by kubectl-liqo`,
      );
    }
    const agentOnServer = await kubectlJson<{
      spec: {
        template: { spec: { containers: { image: string; imagePullPolicy: string; args: string[] }[] } };
      };
    }>(['-n', 'liqo', 'get', 'daemonset', 'liqo-discovery-agent']);
    const container = agentOnServer.spec.template.spec.containers[0]!;
    assert.deepEqual([container.image, container.imagePullPolicy], [TEST_IMAGE, 'Never']);
    assert.ok(container.args.includes('--ids-port=31443'));

    // What the user gets, read from the objects that decide it: there is no kubelet here, so
    // no pod of ours runs; test/cluster/install.test.ts runs the real pods on a real node (Running
    // and Ready under these service accounts, admission through the Service, the guide's steps).
    await assertWhatTheUserGets(printed);

    const v = await liqo(['version', '-o', 'json']);
    assert.equal(v.code, 0, v.stderr);
    const report = JSON.parse(v.stdout) as { webhookVersion?: string; agentVersion?: string };
    assert.deepEqual([report.webhookVersion, report.agentVersion], ['9.9.9-test', '9.9.9-test']);
  });

  it('an upgrade whose webhook never comes up, with no old replica left: the registered configurations are removed', async () => {
    assert.equal(
      await names(WEBHOOK_KINDS).then((n) => n.split('\n').length),
      2,
      'registered by the run before',
    );
    // stand-in for the Deployment controller: the old replicas are gone, none of the new one is available
    await patchStatus(['-n', 'liqo', 'deployment', 'liqo-webhook'], {
      replicas: 0,
      updatedReplicas: 0,
      readyReplicas: 0,
      availableReplicas: 0,
      conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' }],
    });
    const r = await liqo(['install', '--image', `${TEST_IMAGE}-next`, '--timeout', '3s']);
    assert.equal(r.code, 1, r.stderr);
    const errors = errorLines(r);
    assert.equal(errors.length, 1, r.stderr);
    assert.match(
      errors[0]!,
      /^error: deployment\.apps\/liqo-webhook not ready after --timeout 3s: .*; removed webhook configurations liqo-webhook \(nothing could answer them\), so writes are not blocked$/,
    );
    assert.equal(await names(WEBHOOK_KINDS), '');
  });

  it('uninstall removes the webhook configurations first, then the rest; the CRDs only with --delete-crds', async () => {
    const planned = await liqo(['uninstall', '--dry-run=client']);
    assert.equal(planned.code, 0, planned.stderr);
    const lines = planned.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 2), [
      'mutatingwebhookconfiguration.admissionregistration.k8s.io/liqo-webhook deleted (dry run)',
      'validatingwebhookconfiguration.admissionregistration.k8s.io/liqo-webhook deleted (dry run)',
    ]);
    assert.match(lines[2]!, /^daemonset\.apps\/liqo-discovery-agent deleted/);
    const r = await liqo(['uninstall']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^daemonset\.apps\/liqo-discovery-agent deleted\ndeployment\.apps\/liqo-webhook deleted\n/,
    );
    assert.doesNotMatch(r.stdout, /customresourcedefinition|namespace\//);
    assert.equal(await names(WEBHOOK_KINDS), '');
    const left = await cp.kubectl([
      'get',
      'deployments,daemonsets,services,serviceaccounts,roles,rolebindings,poddisruptionbudgets,clusterroles,clusterrolebindings',
      '-A',
      '-l',
      'app.kubernetes.io/part-of=liqo',
      '-o',
      'name',
    ]);
    assert.equal(left.code, 0, left.stderr);
    assert.equal(left.stdout.trim(), '');
    assert.equal((await names('crd')).split('\n').length, 4, 'CRDs kept');
    assert.match(await names('clusterconfigs'), /liqo-configuration/);
    assert.equal(await names('namespace/liqo'), 'namespace/liqo');

    const all = await liqo(['uninstall', '--delete-crds']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(
      all.stdout,
      /customresourcedefinition\.apiextensions\.k8s\.io\/foreignclusters\.discovery\.liqo\.io deleted/,
    );
    for (let i = 0; (await names('crd')) !== '' && i < 100; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await names('crd'), '');
  });

  it('--webhook-url: not registered while nothing answers there; registered with the CA once the real webhook is up, and admission works at once', async () => {
    const early = await liqo(['install', '--webhook-url', webhookUrl, '--without-agent', '--timeout', '3s']);
    assert.equal(early.code, 1, early.stderr);
    assert.match(
      errorLines(early).join('\n'),
      new RegExp(
        `^error: the webhook at ${webhookUrl}/readyz did not answer within --timeout 3s \\(ECONNREFUSED\\); no webhook configuration is registered, so writes are not blocked$`,
      ),
    );
    assert.equal(await names(WEBHOOK_KINDS), '');

    // the real webhook, as the sandbox runs it: outside the cluster, TLS bootstrapped into the
    // liqo namespace (made by the run above, with the CRDs its caches watch)
    const bundle = await buildWebhookBundle(dirname(plugin.bundle));
    webhook = startProcess(
      'liqo-webhook',
      process.execPath,
      [
        bundle,
        `--port=${new URL(webhookUrl).port}`,
        '--bind-address=127.0.0.1',
        `--kubeconfig=${cp.adminKubeconfig}`,
        '--bootstrap-tls',
        '--extra-san=127.0.0.1',
      ],
      { logFile: join(cp.dir, 'webhook.log') },
    );
    const started = webhook;
    await waitForHttpOk(`${webhookUrl}/readyz`, {
      tls: { rejectUnauthorized: false },
      timeoutMs: 30_000,
      gaveUp: () => (started.isRunning() ? undefined : `liqo-webhook exited: ${started.tail()}`),
    });

    const r = await liqo(['install', '--webhook-url', webhookUrl, '--without-agent']);
    assert.equal(r.code, 0, r.stderr);
    const again = await liqo(['install', '--webhook-url', webhookUrl, '--without-agent']);
    assert.equal(again.code, 0, again.stderr);
    const secret = await kubectlJson<{ data: Record<string, string> }>([
      '-n',
      'liqo',
      'get',
      'secret',
      'liqo-webhook-tls',
    ]);
    const validating = await kubectlJson<{ webhooks: { clientConfig: { caBundle?: string } }[] }>([
      'get',
      'validatingwebhookconfiguration',
      'liqo-webhook',
    ]);
    assert.equal(validating.webhooks[0]!.clientConfig.caBundle, secret.data['ca.crt']);

    // The webhook started before its configurations existed, so it would write their caBundle
    // only at its next 30 s check: every admission until then works only because install
    // wrote it. No call may fail on the certificate.
    const added = await liqo(['search-domain', 'add', 'example.com']);
    assert.equal(added.code, 0, added.stderr);
    let duplicate = await liqo(['search-domain', 'add', 'EXAMPLE.com.', '--name', 'dup']);
    for (let i = 0; !/denied the request/.test(duplicate.stderr) && i < 20; i++) {
      assert.doesNotMatch(duplicate.stderr, /certificate|x509|unknown authority/);
      await new Promise((r) => setTimeout(r, 250)); // until the API server has the configuration
      duplicate = await liqo(['search-domain', 'add', 'EXAMPLE.com.', '--name', 'dup']);
    }
    assert.match(duplicate.stderr, /denied the request/);

    const removed = await liqo(['uninstall', '--delete-crds']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(await names(WEBHOOK_KINDS), '');
  });
});
