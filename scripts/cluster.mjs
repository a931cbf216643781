#!/usr/bin/env node
// `npm run cluster`: a real one-node Kubernetes cluster on this machine to try our image on, like
// `npm run sandbox` but with a kubelet and containerd, so pods really run. Everything lives in a
// network namespace of its own (test/harness/node); the API server is reachable from this
// machine on 127.0.0.1 only. Builds our image with `npm run image` when dist/image/ has none,
// imports it into the node, prints `image: <reference>` and `export KUBECONFIG=…`, and on Ctrl-C
// removes everything it made: processes (by PID), mounts, namespaces, cgroups, files.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';
import { errorText, stopOnSignal } from './stop-on-signal.mjs';

const REPO_ROOT = join(import.meta.dirname, '..');
const IMAGE_DIR = join(REPO_ROOT, 'dist', 'image');

const HELP = `Usage: npm run cluster [-- --name <name>] [-- --node-ip <address>] [-- --no-image] [-- --help]

Starts a real one-node Kubernetes 1.33 cluster (etcd, kube-apiserver, controller-manager,
scheduler, kubelet, kube-proxy, containerd) inside a network namespace of its own, imports our
image (dist/image/, built with \`npm run image\` if absent) into the node, and prints the
KUBECONFIG to use from another terminal. Pods run for real; images are never pulled, so use
imagePullPolicy: Never or IfNotPresent. Ctrl-C stops everything and removes what it made.

  --name <name>       the node's name (default liqo); it also names the network namespace
                      liqo-node-<name>, so two clusters need two names
  --node-ip <address> the node's InternalIP inside its namespace (default 10.77.0.1)
  --no-image          do not build or import our image (the node still has its pause image)

Needs root, Go (the Kubernetes binaries are built once into ~/.cache/liqo-discovery/), and
containerd, runc, containernetworking-plugins, iptables from the distribution.`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(HELP);
  process.exit(0);
}
let name = 'liqo';
let nodeIp;
let withImage = true;
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  const value = (flag) =>
    arg === flag && args[i + 1] !== undefined
      ? args[++i]
      : arg.startsWith(`${flag}=`)
        ? arg.slice(flag.length + 1)
        : undefined;
  let v;
  if ((v = value('--name')) !== undefined) name = v;
  else if ((v = value('--node-ip')) !== undefined) nodeIp = v;
  else if (arg === '--no-image') withImage = false;
  else {
    console.error(
      `cluster: unknown argument ${JSON.stringify(arg)} (accepted: --name <name>, --node-ip <address>, --no-image, --help)`,
    );
    process.exit(2);
  }
}

const say = (line) => process.stderr.write(`cluster: ${line}\n`);
if (process.getuid?.() !== 0) {
  say('needs root: it creates network and mount namespaces and runs containerd and the kubelet');
  process.exit(1);
}

/** Our image for this machine's platform in dist/image/, or undefined. */
function findImageArchive() {
  if (!existsSync(IMAGE_DIR)) return undefined;
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch];
  const archives = readdirSync(IMAGE_DIR).filter((f) => f.endsWith('.oci.tar'));
  const own = archives.find((f) => f.endsWith(`-linux-${arch}.oci.tar`)) ?? archives[0];
  return own && join(IMAGE_DIR, own);
}

/** Runs `npm run image`, its output going to stderr; resolves with its exit code. */
function buildImage() {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'image'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', process.stderr, process.stderr],
    });
    child.on('error', () => resolve(-1));
    child.on('exit', (code) => resolve(code ?? -1));
  });
}

let archive;
if (withImage) {
  archive = findImageArchive();
  if (!archive) {
    say('dist/image/ has no image: building it with `npm run image`...');
    const code = await buildImage();
    archive = findImageArchive();
    if (!archive) say(`no image yet (npm run image exited ${code}); the cluster starts without it`);
  }
}

const { startRealCluster } = await tsImport('../test/harness/node/real-cluster.ts', import.meta.url);

let cluster;
const run = stopOnSignal({
  say,
  stoppingLine: (failed) =>
    `stopping the node and removing what it made${failed ? ' (keeping the logs)' : ''}...`,
  cleanUp: async (failed) => {
    await cluster?.stop({ keepDir: failed });
    const left = cluster?.leftovers() ?? [];
    if (left.length > 0) say(`could not remove: ${left.join('; ')}`);
    if (failed && cluster) say(`logs kept in ${cluster.logDir}/ (remove ${cluster.stateDir} when done)`);
    return left.length === 0;
  },
});

try {
  say(`starting node ${name} (network namespace liqo-node-${name})...`);
  cluster = await startRealCluster({ name, ...(nodeIp ? { nodeIp } : {}), log: say });
} catch (err) {
  say(`cannot start: ${errorText(err)}`);
  process.exit(1);
}

const images = [];
if (archive) {
  try {
    images.push(...(await cluster.importImage(archive)));
    say(`imported ${archive}`);
  } catch (err) {
    run.fail();
    say(`could not import ${archive}: ${errorText(err)}`);
  }
}

await run.notStopping();
say(
  `ready in ${(performance.now() / 1000).toFixed(1)} s (node Ready after ${(cluster.timings.nodeReady / 1000).toFixed(1)} s)`,
);
process.stdout.write(
  [
    '',
    `Real one-node cluster ${name}: node IP ${cluster.nodeIp} in network namespace ${cluster.netns}, API server ${cluster.server}`,
    ...(images.length > 0 ? images.map((ref) => `image: ${ref}`) : ['image: (none imported)']),
    `Also on the node: ${cluster.pauseImage}. Images are never pulled: use imagePullPolicy Never or IfNotPresent.`,
    `Logs: ${cluster.logDir}/`,
    `A shell inside the node's network: ip netns exec ${cluster.netns} bash`,
    'In another terminal:',
    '',
    `export KUBECONFIG=${cluster.adminKubeconfig}`,
    '',
    'Press Ctrl-C to stop and clean up.',
    '',
  ].join('\n'),
);
run.watch(cluster.processes);
