// Shared set-up for the admission e2e tests: one Liqo environment (kube-apiserver + etcd, CRDs,
// the real webhook by url) started on first use and stopped by a root `after` hook, so each
// file does not pay the start-up again; helpers to reset objects between tests. Loaded first
// by `npm run test:e2e` (and imported by the files that use it): its root hooks apply to the
// whole layer.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLUSTER_CONFIG_NAME } from '../../shared/api/constants.js';
import { removeScratchDirs } from '../helpers/scratch-dir.js';
import { ensureBinaries, MissingBinariesError } from '../harness/binaries.js';
import { mustSucceed, type CommandResult } from '../harness/kubectl.js';
import {
  defaultClusterConfig,
  startLiqoEnvironment,
  type LiqoEnvironment,
  type WebhookOptions,
} from '../harness/liqo-environment.js';

// Every temporary file of this layer (ours, kubectl's, BIND's, the sandbox's) goes under one
// folder of its own, so the root `after` hook sees exactly what the tests left behind, whatever
// else runs on the machine.
const E2E_TMP = mkdtempSync(join(tmpdir(), 'liqo-e2e-'));
process.env.TMPDIR = E2E_TMP;

let shared: Promise<LiqoEnvironment> | undefined;

/** The e2e webhook refuses loopback auth URLs, as in a real cluster. */
export const E2E_WEBHOOK: WebhookOptions = { allowLoopbackAuthUrl: false };

before(async function () {
  // Building kube-apiserver (only when neither KUBEBUILDER_ASSETS nor the cache has it) takes minutes.
  this.timeout(45 * 60_000);
  try {
    await ensureBinaries({ build: true, log: (line) => process.stderr.write(`e2e: ${line}\n`) });
  } catch (err) {
    // One line saying how to get the binaries; mocha prints `stack`, so make it that line.
    if (err instanceof MissingBinariesError) err.stack = `${err.name}: ${err.message}`;
    throw err;
  }
});

afterEach(removeScratchDirs);

after(async function () {
  this.timeout(60_000);
  const env = await shared?.catch(() => undefined);
  shared = undefined;
  await env?.stop();
  // tsx keeps its compile cache there (tsx-<uid>) for the TypeScript programs the tests start
  const left = readdirSync(E2E_TMP).filter((name) => !/^tsx-\d+$/.test(name));
  rmSync(E2E_TMP, { recursive: true, force: true });
  if (left.length > 0) throw new Error(`the e2e tests left temporary files behind: ${left.join(', ')}`);
});

/** The shared environment, started on first call (call it from a `before` hook). */
export function liqoEnvironment(): Promise<LiqoEnvironment> {
  shared ??= startLiqoEnvironment({ webhook: E2E_WEBHOOK });
  return shared;
}

/** Deletes every ForeignCluster and SearchDomain and puts the default ClusterConfig back. */
export async function resetLiqoObjects(env: LiqoEnvironment): Promise<void> {
  const kubectl = env.controlPlane.kubectl;
  const [deleted, config] = await Promise.all([
    kubectl(['delete', 'foreignclusters,searchdomains', '--all', '--wait=true']),
    // server-side apply with force takes every default field back from whoever patched it
    kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=e2e-reset', '-f', '-'], {
      input: defaultClusterConfig(),
    }),
  ]);
  mustSucceed('deleting ForeignClusters and SearchDomains', deleted);
  mustSucceed(`resetting ClusterConfig ${CLUSTER_CONFIG_NAME}`, config);
}

/** The object as JSON (kubectl get -o json), or undefined when it does not exist. */
export async function getObject<T = Record<string, unknown>>(
  env: LiqoEnvironment,
  resource: string,
  name: string,
): Promise<T | undefined> {
  const r = await env.controlPlane.kubectl(['get', resource, name, '-o', 'json', '--ignore-not-found']);
  mustSucceed(`kubectl get ${resource} ${name}`, r);
  return r.stdout.trim() ? (JSON.parse(r.stdout) as T) : undefined;
}

/** `kubectl apply -f -` with `yaml` on stdin. */
export function apply(env: LiqoEnvironment, yaml: string, extraArgs: string[] = []): Promise<CommandResult> {
  return env.controlPlane.kubectl(['apply', ...extraArgs, '-f', '-'], { input: yaml });
}
