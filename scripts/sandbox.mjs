#!/usr/bin/env node
// `npm run sandbox`: a local Liqo discovery control plane to try the guide against. Starts etcd
// and a real kube-apiserver on loopback, our webhook (self-bootstrapped TLS, registered by url),
// the CRDs, namespace `liqo`, ConfigMap `cluster-id` and ClusterConfig `liqo-configuration`;
// prints the `export KUBECONFIG=...` line and waits for Ctrl-C, then removes everything.
// The discovery agent runs too: it serves this cluster's /ids, resolves SearchDomains, fills
// Manual ForeignClusters and collects stale ones. Its mDNS part stays off unless the user names
// an interface with --lan-interface: a sandbox on a shared machine must not talk on the LAN
// uninvited.
import { tsImport } from 'tsx/esm/api';
import { join } from 'node:path';
import { errorText, stopOnSignal } from './stop-on-signal.mjs';

const HELP = `Usage: npm run sandbox [-- --lan-interface <name>] [-- --dns-server <host[:port]>]... [-- --help]

Starts a local control plane (etcd + kube-apiserver on 127.0.0.1) with the Liqo discovery CRDs
and admission webhook, then prints the KUBECONFIG to use from another terminal. Ctrl-C stops
everything and removes the temporary files. kube-apiserver comes from KUBEBUILDER_ASSETS, the
cache (~/.cache/liqo-discovery/), or is built once with Go.

The discovery agent runs beside them and serves this cluster's /ids on 127.0.0.1. LAN (mDNS)
advertising and browsing are off unless --lan-interface names the interface to use.
SearchDomains are resolved with the machine's resolver unless --dns-server names a DNS server
(repeatable; e.g. a BIND on 127.0.0.1:5353 serving the guide's zone).

A second sandbox can run beside the first (every port is picked free); if a component dies,
the logs of the run are kept and their folder is printed.`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(HELP);
  process.exit(0);
}
let lanInterface;
const dnsServers = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === '--lan-interface' && args[i + 1]) lanInterface = args[++i];
  else if (arg.startsWith('--lan-interface=')) lanInterface = arg.slice('--lan-interface='.length);
  else if (arg === '--dns-server' && args[i + 1]) dnsServers.push(args[++i]);
  else if (arg.startsWith('--dns-server=')) dnsServers.push(arg.slice('--dns-server='.length));
  else {
    console.error(
      `sandbox: unknown argument ${JSON.stringify(arg)} (accepted: --lan-interface <name>, --dns-server <host[:port]>, --help)`,
    );
    process.exit(2);
  }
}

const say = (line) => process.stderr.write(`sandbox: ${line}\n`);
const { startLiqoEnvironment } = await tsImport('../test/harness/liqo-environment.ts', import.meta.url);

let env;
let agent;
const run = stopOnSignal({
  say,
  stoppingLine: (failed) =>
    `stopping: agent, webhook, kube-apiserver, etcd; ${failed ? 'keeping the logs' : 'removing temporary files'}`,
  cleanUp: async (failed) => {
    await agent?.stop();
    await env?.stop({ keepDir: failed });
    if (failed) say(`logs kept in ${env.controlPlane.dir}/ (remove it when done)`);
  },
});

try {
  say('starting etcd, kube-apiserver and the webhook...');
  env = await startLiqoEnvironment({
    tempDirPrefix: 'liqo-sandbox-',
    log: say,
    // Peers in a sandbox run on this machine, so loopback auth URLs are allowed here (the
    // webhook logs a warning saying so); a real cluster's webhook refuses them.
    webhook: { allowLoopbackAuthUrl: true },
  });
} catch (err) {
  say(`cannot start: ${errorText(err)}`);
  process.exit(1);
}

const cp = env.controlPlane;
let agentIdsUrl;
try {
  const { startProcess } = await tsImport('../test/harness/processes.ts', import.meta.url);
  const { freePort, waitForHttpOk } = await tsImport('../test/harness/network.ts', import.meta.url);
  const [idsPort, healthPort] = [await freePort(), await freePort()];
  agentIdsUrl = `https://127.0.0.1:${idsPort}`;
  agent = startProcess(
    'agent',
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, '../agent/main.ts'),
      `--kubeconfig=${cp.adminKubeconfig}`,
      '--namespace=liqo',
      `--ids-port=${idsPort}`,
      `--health-port=${healthPort}`,
      '--allow-loopback', // a sandbox's peers (other sandboxes, test servers) may be on 127.0.0.1
      ...(lanInterface ? [`--interface=${lanInterface}`] : ['--advertise-address=127.0.0.1', '--no-mdns']),
      ...dnsServers.map((server) => `--dns-server=${server}`),
    ],
    { logFile: join(cp.dir, 'agent.log') },
  );
  await waitForHttpOk(`http://127.0.0.1:${healthPort}/healthz`, {
    timeoutMs: 30_000,
    gaveUp: () => (agent.isRunning() ? undefined : `agent exited: ${agent.tail(3)}`),
  });
  say(
    `agent serving ${agentIdsUrl}/ids (mDNS ${lanInterface ? `on ${lanInterface}` : 'off'}; ` +
      `DNS ${dnsServers.length ? dnsServers.join(', ') : "the machine's resolver"})`,
  );
} catch (err) {
  // the sandbox goes on without the agent; its log is kept when the sandbox stops
  run.fail();
  say(`agent did not start: ${errorText(err)}; see ${cp.dir}/agent.log`);
  await agent?.stop();
  agent = undefined;
}

await run.notStopping();
say(
  `ready in ${(performance.now() / 1000).toFixed(1)} s (API server ready after ${(cp.startupMs / 1000).toFixed(1)} s)`,
);
process.stdout.write(
  [
    '',
    `Liqo discovery sandbox: kube-apiserver ${cp.server}, webhook ${env.webhookUrl}, cluster id ${env.clusterId}`,
    ...(agent ? [`This cluster's identity: curl --insecure ${agentIdsUrl}/ids`] : []),
    `Logs: ${cp.dir}/{etcd,kube-apiserver,webhook-1,agent}.log`,
    'In another terminal:',
    '',
    `export KUBECONFIG=${cp.adminKubeconfig}`,
    '',
    'Press Ctrl-C to stop and clean up.',
    '',
  ].join('\n'),
);
// Wait for a signal; also notice if a component dies under us.
run.watch([env.webhook, agent, ...cp.processes].filter(Boolean));
