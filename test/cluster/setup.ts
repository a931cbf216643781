// Shared set-up for the cluster layer (`npm run test:cluster`): one real one-node cluster
// (test/harness/node) started on first use and stopped by the root `after` hook, which also
// checks that it left nothing behind. Loaded first by the layer's mocha command.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureNodeBinaries, MissingBinariesError } from '../harness/binaries.js';
import { mustSucceed, type CommandResult } from '../harness/kubectl.js';
import { startRealCluster, type RealCluster } from '../harness/node/real-cluster.js';

// Every temporary file of this layer (the nodes' state directories, kubectl's) goes under one
// folder of its own, so the root `after` hook sees exactly what the tests left behind.
const CLUSTER_TMP = mkdtempSync(join(tmpdir(), 'liqo-cluster-'));
process.env.TMPDIR = CLUSTER_TMP;

export const log = (line: string) => process.stderr.write(`cluster: ${line}\n`);

let shared: Promise<RealCluster> | undefined;

before(async function () {
  // Building the Kubernetes binaries (only when the cache lacks them) takes minutes.
  this.timeout(45 * 60_000);
  try {
    await ensureNodeBinaries({ build: true, log });
  } catch (err) {
    if (err instanceof MissingBinariesError) err.stack = `${err.name}: ${err.message}`;
    throw err;
  }
});

after(async function () {
  this.timeout(120_000);
  const cluster = await shared?.catch(() => undefined);
  shared = undefined;
  if (cluster) {
    await cluster.stop();
    assert.deepEqual(cluster.leftovers(), [], 'the shared cluster left something behind');
  }
  const left = readdirSync(CLUSTER_TMP).filter((name) => !/^tsx-\d+$/.test(name));
  rmSync(CLUSTER_TMP, { recursive: true, force: true });
  if (left.length > 0) throw new Error(`the cluster tests left temporary files behind: ${left.join(', ')}`);
});

/** A node name no other run on this machine uses (it names the network namespace). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** The shared cluster, started on first call (call it from a `before` hook with a long timeout). */
export function sharedCluster(): Promise<RealCluster> {
  shared ??= startRealCluster({ name: uniqueName('t'), log });
  return shared;
}

/** `kubectl apply -f -` of objects given as JavaScript values (JSON is what kubectl reads). */
export async function applyObjects(cluster: RealCluster, ...objects: object[]): Promise<CommandResult> {
  const list = { apiVersion: 'v1', kind: 'List', items: objects };
  return mustSucceed(
    'kubectl apply',
    await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(list) }),
  );
}

/** kubectl get … -o json, parsed. */
export async function getJson<T>(cluster: RealCluster, args: string[]): Promise<T> {
  const r = mustSucceed(
    `kubectl get ${args.join(' ')}`,
    await cluster.kubectl(['get', ...args, '-o', 'json']),
  );
  return JSON.parse(r.stdout) as T;
}

/** Polls `probe` until it returns a value (not undefined); rejects with the last state seen. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 120_000,
  describeState: () => Promise<string> = async () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${what}: not seen within ${timeoutMs / 1000} s ${await describeState()}`);
}

/** A Deployment of `replicas` pods running `image` (already imported, so never pulled). */
export function deployment(
  namespace: string,
  name: string,
  image: string,
  opts: { replicas?: number; serviceAccountName?: string } = {},
): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: opts.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          ...(opts.serviceAccountName ? { serviceAccountName: opts.serviceAccountName } : {}),
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'main', image, imagePullPolicy: 'Never', ports: [{ containerPort: 80 }] }],
        },
      },
    },
  };
}

export interface PodJson {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { nodeName?: string; serviceAccountName?: string };
  status: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: {
      name: string;
      ready: boolean;
      restartCount: number;
      containerID?: string;
      state?: { running?: object };
      lastState?: { terminated?: { exitCode: number; reason?: string } };
    }[];
  };
}

/** The pods of Deployment `app` in `namespace`. */
export async function podsOf(cluster: RealCluster, namespace: string, app: string): Promise<PodJson[]> {
  return (await getJson<{ items: PodJson[] }>(cluster, ['pods', '-n', namespace, '-l', `app=${app}`])).items;
}

export async function rolloutStatus(cluster: RealCluster, namespace: string, name: string): Promise<void> {
  mustSucceed(
    `rollout of ${namespace}/${name}`,
    await cluster.kubectl(['rollout', 'status', '-n', namespace, `deployment/${name}`, '--timeout=180s'], {
      timeoutMs: 200_000,
    }),
  );
}

/**
 * What `kubectl describe` would show about the liqo pods when a test finds the product not
 * answering: each container's restarts and why it last ended, the namespace's Warning events,
 * and the last lines a restarted container wrote before it ended.
 */
export async function liqoPodsState(cluster: RealCluster, namespace = 'liqo'): Promise<string> {
  const lines: string[] = [];
  const pods = await getJson<{ items: PodJson[] }>(cluster, ['pods', '-n', namespace]).catch(
    (err: Error) => ({ items: [] as PodJson[], error: err.message }),
  );
  for (const pod of pods.items) {
    for (const c of pod.status.containerStatuses ?? []) {
      const ended = c.lastState?.terminated;
      lines.push(
        `${pod.metadata.name}/${c.name}: ${pod.status.phase ?? '?'}, ready=${c.ready}, restarts=${c.restartCount}` +
          (ended ? `, last ended: exit ${ended.exitCode} (${ended.reason ?? 'no reason'})` : ''),
      );
      if (c.restartCount > 0) {
        const previous = await cluster.kubectl([
          'logs',
          '-n',
          namespace,
          pod.metadata.name,
          '-c',
          c.name,
          '--previous',
          '--tail=5',
        ]);
        lines.push(
          `  before the restart: ${(previous.stdout || previous.stderr).trim().replace(/\n/g, '\n  ')}`,
        );
      }
    }
  }
  const events = await cluster.kubectl([
    'get',
    'events',
    '-n',
    namespace,
    '--field-selector',
    'type=Warning',
    '-o',
    'custom-columns=LAST:.lastTimestamp,COUNT:.count,OBJECT:.involvedObject.name,REASON:.reason,MESSAGE:.message',
  ]);
  lines.push(`Warning events in ${namespace}:\n${(events.stdout || events.stderr).trim()}`);
  return `${cluster.name}:\n${lines.join('\n')}`;
}
