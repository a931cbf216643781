// One "cluster" of the two-cluster e2e test, run by that test under `ip netns exec <ns>`:
// the harness's Liqo environment on the namespace's loopback (etcd, kube-apiserver, CRDs, the
// admission webhook, namespace liqo, cluster-id, ClusterConfig), optionally BIND with a zone,
// and N discovery agents (real processes).
// It prints one JSON line describing itself, then runs until SIGTERM or its stdin closes.
// Not a test itself (mocha runs *.test.ts only).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, type ManagedProcess } from '../harness/processes.js';
import { startBind, type RunningBind } from '../helpers/bind.js';
import { startLiqoEnvironment } from '../harness/liqo-environment.js';

export interface MemberSpec {
  name: string;
  /** This namespace's LAN address (the agents advertise it). */
  address: string;
  interfaceName: string;
  agents: number;
  idsPortBase: number;
  healthPortBase: number;
  discoveryConfig: Record<string, unknown>;
  /** zone name → zone text, served by BIND inside this namespace. */
  zones?: Record<string, string>;
  agentArgs?: string[];
  /** A bundled agent (.cjs) to run instead of the TypeScript source under tsx (benchmarks). */
  agentBundle?: string;
}

export interface MemberInfo {
  name: string;
  kubeconfig: string;
  dir: string;
  dnsServer?: string;
  agents: Array<{ pid: number; identity: string; idsPort: number; healthPort: number; logFile: string }>;
}

const AGENT_MAIN = join(import.meta.dirname, '../../agent/main.ts');

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as MemberSpec;
  const env = await startLiqoEnvironment({ build: false });
  const cp = env.controlPlane;
  let bind: RunningBind | undefined;
  const agents: ManagedProcess[] = [];
  const shutdown = async () => {
    await Promise.allSettled(agents.map((a) => a.stop(8000)));
    await bind?.stop();
    await env.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.stdin.on('end', () => void shutdown());
  process.stdin.resume();

  const cc = await cp.kubectl([
    'patch',
    'clusterconfigs',
    'liqo-configuration',
    '--type=merge',
    '--patch',
    JSON.stringify({ spec: { discoveryConfig: spec.discoveryConfig } }),
  ]);
  if (cc.code !== 0) throw new Error(`ClusterConfig: ${cc.stderr}`);
  if (spec.zones) bind = await startBind({ zones: spec.zones, ttl: 30 });

  const info: MemberInfo = { name: spec.name, kubeconfig: cp.adminKubeconfig, dir: cp.dir, agents: [] };
  if (bind) info.dnsServer = bind.server;
  for (let i = 0; i < spec.agents; i++) {
    const identity = `${spec.name}-agent-${i}`;
    const idsPort = spec.idsPortBase + i;
    const healthPort = spec.healthPortBase + i;
    const logFile = join(cp.dir, `${identity}.log`);
    const args = [
      ...(spec.agentBundle ? [spec.agentBundle] : ['--import', 'tsx', AGENT_MAIN]),
      `--kubeconfig=${cp.adminKubeconfig}`,
      '--namespace=liqo',
      `--ids-port=${idsPort}`,
      `--health-port=${healthPort}`,
      `--interface=${spec.interfaceName}`,
      `--advertise-address=${spec.address}`,
      `--identity=${identity}`,
      `--hostname=${spec.name}`,
      ...(bind ? [`--dns-server=${bind.server}`] : []),
      ...(spec.agentArgs ?? []),
    ];
    agents.push(startProcess(identity, process.execPath, args, { logFile }));
    info.agents.push({ pid: agents[i]!.pid, identity, idsPort, healthPort, logFile });
  }
  writeFileSync(join(cp.dir, 'member.json'), JSON.stringify(info));
  process.stdout.write(`${JSON.stringify(info)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`member failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
