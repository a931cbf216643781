// Bundles each program into one CommonJS file under dist/ so that start-up does not walk
// node_modules. @kubernetes/client-node stays an external import loaded lazily where needed.
import { build } from 'esbuild';
import { chmod } from 'node:fs/promises';

const programs = {
  'kubectl-liqo': 'plugin/main.ts',
  'liqo-webhook': 'webhook/main.ts',
  'liqo-agent': 'agent/main.ts',
};

// Per-program extras. The plugin swaps string-width (used by yargs' help layout) for a light
// one: the real package spends ~40 ms of every start building Unicode tables (plugin/vendor/).
const extraOptions = {
  'kubectl-liqo': { alias: { 'string-width': './plugin/vendor/string-width.cjs' } },
};

const { existsSync } = await import('node:fs');
for (const [name, entry] of Object.entries(programs)) {
  if (!existsSync(entry)) continue; // a program not written yet is simply not bundled
  const outfile = `dist/${name}.cjs`;
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'linked',
    banner: { js: '#!/usr/bin/env node' },
    // the client library is big (~0.5 s to import); keep it out so code paths that never
    // talk to the cluster never pay for it.
    external: ['@kubernetes/client-node'],
    define: { 'import.meta.url': 'importMetaUrl' },
    inject: ['scripts/import-meta-url.cjs'],
    // kubectl-liqo embeds manifests/**/*.yaml as text for `install` (plugin/install/manifests.ts)
    loader: { '.yaml': 'text' },
    logLevel: 'warning',
    ...(extraOptions[name] ?? {}),
  });
  await chmod(outfile, 0o755);
}
