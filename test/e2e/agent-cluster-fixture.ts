// Shared set-up for the agent's e2e tests: a real control plane with the Liqo CRDs and the
// `liqo` namespace. Uses manifests/crds when they exist; until they do, minimal CRDs with the
// same group, kinds and status subresource (schemaless) stand in.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';

const CRD_DIR = join(import.meta.dirname, '../../manifests/crds');

function minimalCrd(group: string, kind: string, plural: string): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Cluster',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: 'v1alpha1',
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  };
}

export function crdFiles(dir: string): string[] {
  if (existsSync(CRD_DIR)) {
    const files = readdirSync(CRD_DIR).filter((f) => /\.ya?ml$/.test(f) && !/kustomization/.test(f));
    if (files.length >= 3) return files.map((f) => join(CRD_DIR, f));
  }
  const path = join(dir, 'liqo-crds-minimal.json');
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        minimalCrd('discovery.liqo.io', 'ForeignCluster', 'foreignclusters'),
        minimalCrd('discovery.liqo.io', 'SearchDomain', 'searchdomains'),
        minimalCrd('config.liqo.io', 'ClusterConfig', 'clusterconfigs'),
      ],
    }),
  );
  return [path];
}

export async function installLiqoBasics(cp: ControlPlane): Promise<void> {
  for (const file of crdFiles(cp.dir)) {
    const r = await cp.kubectl(['apply', '-f', file]);
    if (r.code !== 0) throw new Error(`kubectl apply -f ${file}: ${r.stderr}`);
  }
  const ns = await cp.kubectl(['create', 'namespace', 'liqo']);
  if (ns.code !== 0 && !/AlreadyExists/.test(ns.stderr)) throw new Error(ns.stderr);
  const wait = await cp.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  if (wait.code !== 0) throw new Error(`CRDs not established: ${wait.stderr}`);
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
