// Shared set-up for the agent's e2e tests that need no webhook: a real control plane with our
// CRDs (manifests/crds) and the `liqo` namespace, the agent's RBAC bound to a test user, and a
// polling helper.
import { join } from 'node:path';
import type { AgentOptions } from '../../agent/agent.js';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';

const CRD_DIR = join(import.meta.dirname, '../../manifests/crds');

export async function installLiqoBasics(cp: ControlPlane): Promise<void> {
  const crds = await cp.kubectl(['apply', '--server-side', '-k', CRD_DIR]);
  if (crds.code !== 0) throw new Error(`kubectl apply -k ${CRD_DIR}: ${crds.stderr}`);
  const ns = await cp.kubectl(['create', 'namespace', 'liqo']);
  if (ns.code !== 0 && !/AlreadyExists/.test(ns.stderr)) throw new Error(ns.stderr);
  const wait = await cp.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  if (wait.code !== 0) throw new Error(`CRDs not established: ${wait.stderr}`);
}

const AGENT_RBAC = join(import.meta.dirname, '../../manifests/agent/rbac.yaml');

/**
 * Applies the agent's RBAC manifest and binds all of it to `user` (its ClusterRole and every
 * Role it defines, wherever that lives), as the install binds it to the ServiceAccount, so an
 * in-process agent runs with exactly the rights it has in a cluster. Returns that user's
 * kubeconfig.
 */
export async function bindAgentRbac(cp: ControlPlane, user: string): Promise<string> {
  const run = async (args: string[]): Promise<string> => {
    const r = await cp.kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await run(['apply', '-f', AGENT_RBAC]);
  await run(['create', 'clusterrolebinding', user, '--clusterrole=liqo-discovery-agent', `--user=${user}`]);
  const roles = await run([
    'get',
    'roles',
    '-A',
    '-l',
    'app.kubernetes.io/name=liqo-discovery-agent',
    '-o',
    'json',
  ]);
  type Role = { metadata: { name: string; namespace: string } };
  for (const { metadata } of (JSON.parse(roles) as { items: Role[] }).items) {
    const { name, namespace } = metadata;
    await run([
      '-n',
      namespace,
      'create',
      'rolebinding',
      `${user}-${name}`,
      `--role=${name}`,
      `--user=${user}`,
    ]);
  }
  return cp.createUserKubeconfig(user);
}

export async function startLiqoControlPlane(): Promise<ControlPlane> {
  const cp = await startControlPlane({ build: false });
  try {
    await installLiqoBasics(cp);
  } catch (err) {
    await cp.stop();
    throw err;
  }
  return cp;
}

/**
 * kubectl against the control plane `cp()` returns (read when called, so it may be started in
 * a before hook), and `json` for a `-o json` read that must succeed.
 */
export function kubectlOn(cp: () => ControlPlane) {
  const kubectl = (args: string[], input?: string) =>
    cp().kubectl(args, input === undefined ? {} : { input });
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await kubectl([...args, '-o', 'json']);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} -o json: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  return { kubectl, json };
}

/** Polls until `check` returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
}

/**
 * The in-process agent of the e2e tests: everything on 127.0.0.1 with free ports, no mDNS,
 * short intervals and a 6 s Lease; each test names what it is about (identity, kubeconfig, DNS
 * server, whether peers on loopback may be fetched) and may override the rest.
 */
export function loopbackAgentOptions(
  opts: Pick<AgentOptions, 'kubeConfig' | 'identity' | 'dnsServers' | 'log'> & Partial<AgentOptions>,
): AgentOptions {
  return {
    namespace: 'liqo',
    idsPort: 0,
    idsBindAddress: '127.0.0.1',
    healthPort: 0,
    healthBindAddress: '127.0.0.1',
    interfaces: [],
    advertiseAddresses: ['127.0.0.1'],
    searchDomainIntervalMs: 2000,
    gcIntervalMs: 1000,
    leaseName: 'liqo-discovery-agent',
    leaseDurationSeconds: 6,
    idsTimeoutMs: 1500,
    idsConcurrency: 4,
    mdns: undefined,
    ...opts,
  };
}
