#!/usr/bin/env node
// `npm run sandbox`: a local Liqo discovery control plane to try the guide against. Starts etcd
// and a real kube-apiserver on loopback, our webhook (self-bootstrapped TLS, registered by url),
// the CRDs, namespace `liqo`, ConfigMap `cluster-id` and ClusterConfig `liqo-configuration`;
// prints the `export KUBECONFIG=...` line and waits for Ctrl-C, then removes everything.
import { tsImport } from 'tsx/esm/api';

const HELP = `Usage: npm run sandbox [-- --help]

Starts a local control plane (etcd + kube-apiserver on 127.0.0.1) with the Liqo discovery CRDs
and admission webhook, then prints the KUBECONFIG to use from another terminal. Ctrl-C stops
everything and removes the temporary files. kube-apiserver comes from KUBEBUILDER_ASSETS, the
cache (~/.cache/liqo-discovery/), or is built once with Go.`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(HELP);
  process.exit(0);
}
if (args.length > 0) {
  console.error(`sandbox: unknown argument ${JSON.stringify(args[0])} (accepted: --help)`);
  process.exit(2);
}

const say = (line) => process.stderr.write(`sandbox: ${line}\n`);
const { startLiqoEnvironment } = await tsImport('../test/harness/liqo-environment.ts', import.meta.url);

let env;
let stopping = false;
async function stop(signal) {
  if (stopping) {
    say(`${signal} again: exiting now`); // the exit hook still kills the processes by PID
    process.exit(130);
  }
  stopping = true;
  say('stopping: webhook, kube-apiserver, etcd; removing temporary files');
  try {
    await env?.stop();
    say('stopped');
    process.exit(0);
  } catch (err) {
    say(`error while stopping: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

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
  say(`cannot start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}

// The discovery agent (issue 6) starts here once the sandbox runs it: it advertises by mDNS,
// which must never reach the machine's real network from a shared host, so it belongs inside
// a network namespace of its own.

const cp = env.controlPlane;
if (stopping) await new Promise(() => {}); // Ctrl-C came during start-up: stop() exits
say(
  `ready in ${(performance.now() / 1000).toFixed(1)} s (API server ready after ${(cp.startupMs / 1000).toFixed(1)} s)`,
);
process.stdout.write(
  [
    '',
    `Liqo discovery sandbox: kube-apiserver ${cp.server}, webhook ${env.webhookUrl}, cluster id ${env.clusterId}`,
    `Logs: ${cp.dir}/{etcd,kube-apiserver,webhook-1}.log`,
    'In another terminal:',
    '',
    `export KUBECONFIG=${cp.adminKubeconfig}`,
    '',
    'Press Ctrl-C to stop and clean up.',
    '',
  ].join('\n'),
);
// Wait for a signal; also notice if a component dies under us.
const watched = [env.webhook, ...cp.processes].filter(Boolean);
for (const p of watched) {
  p.exited.then((how) => {
    if (!stopping) {
      say(`${p.name} exited (${how}); see ${p.logFile}`);
      void stop('exit');
    }
  });
}
setInterval(() => {}, 1 << 30);
