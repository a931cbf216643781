// Applying an install plan to a cluster, step by step, without ever leaving a Fail-policy webhook
// that nothing answers: the webhook configurations go in only once the webhook is available
// (its Deployment rolled out, or --webhook-url answering /readyz), with the caBundle already
// set; when the webhook does not come up in time, install says why in one line from the pods'
// state and removes configurations that no replica could answer.
import type { ApiextensionsV1Api, CoreV1Api, KubernetesObjectApi, V1Pod } from '@kubernetes/client-node';
import { describeApiFailure } from '../../shared/kube/api-errors.js';
import { UserError, type DryRunMode } from '../global.js';
import type { CommandIO } from '../io.js';
import {
  describeObject,
  isWorkload,
  WEBHOOK_CONFIGURATION,
  WEBHOOK_TLS_SECRET,
  type ManifestObject,
  type WebhookConfigurationObject,
  type WorkloadObject,
} from './objects.js';
import {
  crashingContainer,
  latestWarning,
  podProblem,
  unreadyContainer,
  worstProblem,
  type PodProblem,
} from './pod-state.js';
import { rolloutState } from './rollout.js';
import { setCaBundle, type InstallPlan } from './transforms.js';

export const FIELD_MANAGER = 'kubectl-liqo';
const POLL_MS = 1000;

export interface ClusterAccess {
  objects: KubernetesObjectApi;
  core: CoreV1Api;
  /**
   * CRDs go through this API's patch, which sends its body as it is: KubernetesObjectApi
   * serializes by the client's model, whose schema type knows `xKubernetesValidations` but
   * not the wire name `x-kubernetes-validations`, and so dropped every CEL rule and list type.
   */
  crds: ApiextensionsV1Api;
  server: string;
}

export interface RunSettings {
  mode: Exclude<DryRunMode, 'client'>;
  /** Epoch ms by which every wait must be over. */
  deadline: number;
  /** The --timeout as the user wrote it, for messages. */
  timeoutText: string;
  /** --webhook-url: wait for it to answer instead of for a Deployment. */
  webhookUrl?: string;
  /** PEM from --ca-file; else the webhook's CA Secret is read. */
  caBundle?: string;
  /** --force: apply CRDs even where another installation's are (see checkCrdOwnership). */
  force?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const statusOf = (err: unknown) => (err as { code?: unknown })?.code;

export class Installer {
  constructor(
    private readonly cluster: ClusterAccess,
    private readonly io: CommandIO,
    private readonly settings: RunSettings,
  ) {}

  private progress(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }

  private get dryRun(): string | undefined {
    return this.settings.mode === 'server' ? 'All' : undefined;
  }

  private suffix(): string {
    return this.settings.mode === 'server' ? ' (server dry run)' : '';
  }

  private apiError(err: unknown, verb: string, o: Pick<ManifestObject, 'kind' | 'metadata'>) {
    return describeApiFailure(
      err,
      verb,
      {
        kind: o.kind,
        name: o.metadata.name,
        ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
      },
      { server: this.cluster.server },
    ).error;
  }

  async apply(objects: ManifestObject[]): Promise<void> {
    const k8s = await import('@kubernetes/client-node');
    for (const o of objects) {
      try {
        if (o.kind === 'CustomResourceDefinition') {
          await this.cluster.crds.patchCustomResourceDefinition(
            {
              name: o.metadata.name,
              body: o,
              fieldManager: FIELD_MANAGER,
              force: true,
              ...(this.dryRun ? { dryRun: this.dryRun } : {}),
            },
            k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
          );
        } else {
          await this.cluster.objects.patch(
            o,
            undefined,
            this.dryRun,
            FIELD_MANAGER,
            true,
            k8s.PatchStrategy.ServerSideApply,
          );
        }
      } catch (err) {
        throw this.apiError(err, 'apply', o);
      }
      this.io.stdout.write(`${describeObject(o)} serverside-applied${this.suffix()}\n`);
    }
  }

  private async read<T extends ManifestObject>(o: ManifestObject): Promise<T | undefined> {
    try {
      const header = {
        apiVersion: o.apiVersion,
        kind: o.kind,
        metadata: {
          name: o.metadata.name,
          ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
        },
      };
      return (await this.cluster.objects.read(header)) as unknown as T;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw this.apiError(err, 'get', o);
    }
  }

  private timeLeft(): number {
    return this.settings.deadline - Date.now();
  }

  async waitEstablished(crds: ManifestObject[]): Promise<void> {
    if (this.settings.mode !== 'none' || crds.length === 0) return;
    this.progress(`waiting for ${crds.length} CustomResourceDefinitions to be established`);
    for (const crd of crds) {
      for (;;) {
        const current = await this.read<
          ManifestObject & { status?: { conditions?: { type: string; status: string }[] } }
        >(crd);
        if (current?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
        if (this.timeLeft() <= 0) {
          throw new UserError(
            `${describeObject(crd)} was not established within --timeout ${this.settings.timeoutText}`,
          );
        }
        await sleep(200);
      }
    }
  }

  /** Creates the object when absent; never changes an existing one. */
  async createIfAbsent(o: ManifestObject): Promise<void> {
    if (this.settings.mode === 'server') {
      // a server dry run did not really create the CRD, so its kind may not be served yet
      const exists = await this.read(o).catch(() => undefined);
      this.io.stdout.write(
        `${describeObject(o)} ${exists ? 'unchanged (exists)' : 'created'}${this.suffix()}\n`,
      );
      return;
    }
    if (await this.read(o)) {
      this.io.stdout.write(`${describeObject(o)} unchanged (exists; install never overwrites it)\n`);
      return;
    }
    try {
      await this.cluster.objects.create(o, undefined, this.dryRun, FIELD_MANAGER);
    } catch (err) {
      if (statusOf(err) !== 409) throw this.apiError(err, 'create', o);
    }
    this.io.stdout.write(`${describeObject(o)} created${this.suffix()}\n`);
  }

  private async podsOf(w: WorkloadObject): Promise<V1Pod[]> {
    const labels = w.spec?.selector?.matchLabels ?? {};
    const labelSelector = Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const list = await this.cluster.core.listNamespacedPod({
      namespace: w.metadata.namespace ?? 'default',
      labelSelector,
    });
    return list.items;
  }

  /** The last line the container logged: in its previous run (it crashed) or in this one. */
  private async lastLogLine(pod: V1Pod, container: string, previous: boolean): Promise<string | undefined> {
    try {
      const text = await this.cluster.core.readNamespacedPodLog({
        name: pod.metadata?.name ?? '',
        namespace: pod.metadata?.namespace ?? 'default',
        container,
        tailLines: 1,
        previous,
      });
      return String(text).trim().split('\n').pop();
    } catch {
      return undefined; // no previous run, or logs unreachable: the exit code still tells something
    }
  }

  /** The newest Warning event of the pod (a failed probe...), or undefined; never throws. */
  private async podWarning(pod: string, namespace: string): Promise<string | undefined> {
    try {
      const events = await this.cluster.core.listNamespacedEvent({
        namespace,
        fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${pod}`,
      });
      return latestWarning(events.items);
    } catch {
      return undefined; // events unreadable (RBAC): the pod's own status still says something
    }
  }

  /** `givingUp`: also read the last log line of a running container that is not ready. */
  private async podProblems(w: WorkloadObject, givingUp = false): Promise<PodProblem | undefined> {
    const pods = await this.podsOf(w);
    const problems = await Promise.all(
      pods.map(async (pod) => {
        const crashing = crashingContainer(pod);
        if (crashing) return podProblem(pod, await this.lastLogLine(pod, crashing, true));
        const unready = givingUp ? unreadyContainer(pod) : undefined;
        return podProblem(pod, unready ? await this.lastLogLine(pod, unready, false) : undefined);
      }),
    );
    return worstProblem(problems);
  }

  /**
   * Waits until the workload has rolled out, printing each new state. Returns undefined when
   * it has, else the one-line reason it has not (by the deadline, or at once for a problem
   * that waiting cannot fix).
   */
  async waitRollout(w: WorkloadObject): Promise<{ reason?: string; desired: number }> {
    const name = describeObject(w);
    let lastMessage = '';
    let lastProblem = '';
    for (;;) {
      const current = await this.read<WorkloadObject>(w);
      if (!current) return { reason: `${name} is gone`, desired: 0 };
      const state = rolloutState(current);
      if (state.message !== lastMessage) this.progress((lastMessage = state.message));
      if (state.done) return { desired: state.desired };
      const problem = await this.podProblems(current);
      const problemText = problem ? `pod ${problem.pod}: ${problem.line}` : '';
      if (problemText && problemText !== lastProblem) this.progress(`  ${(lastProblem = problemText)}`);
      const outOfTime = this.timeLeft() <= 0;
      if (outOfTime || problem?.permanent) {
        const finalProblem = outOfTime ? ((await this.podProblems(current, true)) ?? problem) : problem;
        const warning =
          outOfTime && finalProblem
            ? await this.podWarning(finalProblem.pod, current.metadata.namespace ?? 'default')
            : undefined;
        const why = finalProblem
          ? `pod ${finalProblem.pod}: ${finalProblem.line}${warning ? `; last warning: ${warning}` : ''}`
          : state.message.includes('waiting for the controller')
            ? 'no controller has acted on it (is kube-controller-manager running?)'
            : 'no pod of it exists yet';
        return {
          reason: `${name} not ready ${outOfTime ? `after --timeout ${this.settings.timeoutText}` : 'and will not be'}: ${why}`,
          desired: state.desired,
        };
      }
      await sleep(Math.min(POLL_MS, Math.max(50, this.timeLeft())));
    }
  }

  /** --webhook-url: waits until <url>/readyz answers 2xx; the reason when it did not in time. */
  async waitWebhookUrl(baseUrl: string): Promise<string | undefined> {
    const url = `${baseUrl.replace(/\/+$/, '')}/readyz`;
    this.progress(`waiting for the webhook at ${url}`);
    for (;;) {
      const last = await probeHttps(url);
      if (last === 'ok') {
        this.progress(`webhook at ${url}: ready`);
        return undefined;
      }
      if (this.timeLeft() <= 0) {
        return `the webhook at ${url} did not answer within --timeout ${this.settings.timeoutText} (${last})`;
      }
      await sleep(Math.min(POLL_MS, Math.max(50, this.timeLeft())));
    }
  }

  /** The webhook's self-bootstrapped CA bundle, or undefined when its Secret has none (yet). */
  async webhookCaBundle(namespace: string): Promise<string | undefined> {
    for (;;) {
      try {
        const secret = await this.cluster.core.readNamespacedSecret({ name: WEBHOOK_TLS_SECRET, namespace });
        const b64 = secret.data?.['ca.crt'] ?? secret.data?.['tls.crt'];
        if (b64) return Buffer.from(b64, 'base64').toString('utf8');
      } catch (err) {
        if (statusOf(err) !== 404) {
          throw this.apiError(err, 'get', {
            kind: 'Secret',
            metadata: { name: WEBHOOK_TLS_SECRET, namespace },
          });
        }
      }
      if (this.timeLeft() <= 0) return undefined;
      await sleep(500);
    }
  }

  /**
   * After the webhook failed to come up: deletes our webhook configurations if they exist
   * (from an earlier install) and no replica is available to answer them. Returns what the
   * cluster is left with, for the error line.
   */
  async leaveClusterWritable(
    configurations: WebhookConfigurationObject[],
    availableReplicas: number,
  ): Promise<string> {
    const existing: WebhookConfigurationObject[] = [];
    for (const c of configurations) if (await this.read(c)) existing.push(c);
    if (existing.length === 0) return 'no webhook configuration is registered, so writes are not blocked';
    if (availableReplicas > 0) {
      return `the webhook configurations stay, answered by ${availableReplicas} available replica(s) of the previous version`;
    }
    for (const c of existing) {
      try {
        await this.cluster.objects.delete(
          { apiVersion: c.apiVersion, kind: c.kind, metadata: { name: c.metadata.name } },
          undefined,
          this.dryRun,
        );
      } catch (err) {
        if (statusOf(err) !== 404) throw this.apiError(err, 'delete', c);
      }
    }
    return `removed webhook configurations ${WEBHOOK_CONFIGURATION} (nothing could answer them), so writes are not blocked`;
  }

  /**
   * Stops, before anything is written, when one of our CRDs is already in the cluster and was
   * not applied by kubectl liqo (no `kubectl-liqo` field manager): Liqo itself, or another tool,
   * owns discovery.liqo.io there, and applying ours would replace its schema under its objects.
   */
  async checkCrdOwnership(crds: ManifestObject[]): Promise<void> {
    for (const crd of crds) {
      const existing = await this.read<
        ManifestObject & { metadata: { managedFields?: Array<{ manager?: string; subresource?: string }> } }
      >(crd);
      if (!existing) continue;
      // who wrote the definition (the API server's own status writes do not count)
      const managers = [
        ...new Set(
          (existing.metadata.managedFields ?? [])
            .filter((f) => f.subresource !== 'status')
            .map((f) => f.manager ?? '?'),
        ),
      ];
      if (managers.includes(FIELD_MANAGER)) continue;
      const by = managers.length ? managers.join(', ') : 'unknown';
      throw new UserError(
        `customresourcedefinition ${crd.metadata.name} already exists and was not installed by kubectl liqo (managed by ${by}); another Liqo installation may own it — nothing was changed; rerun with --force to replace it`,
      );
    }
  }

  /** The whole install, in the plan's order. */
  async install(plan: InstallPlan, clusterConfig: ManifestObject): Promise<void> {
    if (!this.settings.force) await this.checkCrdOwnership(plan.crds);
    await this.apply(plan.namespaces);
    await this.apply(plan.crds);
    await this.waitEstablished(plan.crds);
    await this.createIfAbsent(clusterConfig);
    const namespace = plan.webhook[0]?.metadata.namespace ?? plan.namespaces[0]?.metadata.name ?? 'liqo';
    if (this.settings.mode === 'server' && plan.namespaces[0] && !(await this.read(plan.namespaces[0]))) {
      throw new UserError(
        `--dry-run=server: namespace ${namespace} does not exist yet, so the API server cannot check the objects in it (--dry-run=client prints them)`,
      );
    }
    await this.apply(plan.base);

    // the webhook: available first, registered after
    let configurations = plan.webhookConfigurations;
    if (this.settings.mode === 'none') {
      let failure: string | undefined;
      let available = 0;
      if (plan.webhook.length) {
        await this.apply(plan.webhook);
        for (const w of plan.webhook) {
          const r = await this.waitRollout(w);
          if (r.reason) {
            failure = r.reason;
            const now = await this.read<WorkloadObject>(w);
            available = now && isWorkload(now) ? rolloutState(now).available : 0;
            break;
          }
        }
      } else if (this.settings.webhookUrl) {
        failure = await this.waitWebhookUrl(this.settings.webhookUrl);
      }
      if (failure) {
        throw new UserError(`${failure}; ${await this.leaveClusterWritable(configurations, available)}`);
      }
      const ca = this.settings.caBundle ?? (await this.webhookCaBundle(namespace));
      if (ca) configurations = setCaBundle(configurations, ca);
      else {
        this.progress(
          `warning: Secret ${namespace}/${WEBHOOK_TLS_SECRET} holds no CA yet; the webhook writes the caBundle itself within 30 s`,
        );
      }
    } else {
      await this.apply(plan.webhook);
    }
    await this.apply(configurations);

    // the agent: nothing waits on it, but install reports whether it runs
    await this.apply(plan.agent);
    if (this.settings.mode !== 'none') return;
    for (const w of plan.agent) {
      const r = await this.waitRollout(w);
      if (r.reason) throw new UserError(`${r.reason}; the webhook is installed and serving`);
      if (r.desired === 0) {
        this.progress(
          `warning: no node matches ${describeObject(w)}'s node selector, so no agent runs (see --agent-node-selector)`,
        );
      }
    }
  }
}

/** 'ok' for a 2xx answer, else a short reason (status or network error). */
async function probeHttps(url: string): Promise<string> {
  const https = await import('node:https');
  return new Promise((resolve) => {
    // readiness only: the certificate is the webhook's own, checked by the API server later
    const req = https.get(url, { rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve(code >= 200 && code < 300 ? 'ok' : `HTTP ${code}`);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}
