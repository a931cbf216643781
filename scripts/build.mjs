// npm run build: every program into dist/ (settings in scripts/bundles.mjs).
//   dist/kubectl-liqo        the plugin's launcher (put it, or a symlink to it, on PATH)
//   dist/plugin/             the plugin's modules
//   dist/liqo-webhook.cjs    the admission webhook
//   dist/liqo-agent.cjs      the discovery agent
//   dist/liqo-discovery.yaml the release manifest (manifests/ in one file; embedded in the plugin)
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { bundlePlugin, bundleProgram, REPO_ROOT } from './bundles.mjs';

const dist = join(REPO_ROOT, 'dist');
await rm(join(dist, 'kubectl-liqo.cjs'), { force: true }); // the one-file plugin of earlier builds
await rm(join(dist, 'kubectl-liqo.cjs.map'), { force: true });
await Promise.all([bundlePlugin(dist), bundleProgram('webhook', dist), bundleProgram('agent', dist)]);
