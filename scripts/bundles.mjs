// How each program is bundled with esbuild; scripts/build.mjs writes them to dist/, the tests
// and benchmarks build fresh copies of the current source with the same settings.
//
// The webhook and the agent are one CommonJS file each (start-up once per pod; one file is
// simplest to ship). The plugin starts on every `kubectl liqo …`, so it is ES modules split
// into chunks: the entry holds yargs and the command definitions, and what a command needs to
// run (the look-ups, YAML, prompts, spinner, embedded manifests) is a chunk imported when that
// command runs. `kubectl liqo --help` parses ~0.3 MB instead of the ~1.7 MB of one file.
import { build } from 'esbuild';
import { chmod, copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // the client library is big (~0.5 s to import); keep it out so code paths that never
  // talk to the cluster never pay for it. It resolves from node_modules at run time.
  external: ['@kubernetes/client-node'],
  // kubectl-liqo embeds manifests/**/*.yaml as text for `install` (plugin/install/manifests.ts)
  loader: { '.yaml': 'text' },
  logLevel: 'warning',
};

/** Bundles webhook/main.ts or agent/main.ts into `<outDir>/liqo-<program>.cjs`; returns its path. */
export async function bundleProgram(program, outDir) {
  const outfile = join(outDir, `liqo-${program}.cjs`);
  await build({
    ...common,
    entryPoints: [join(REPO_ROOT, `${program}/main.ts`)],
    outfile,
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
    define: { 'import.meta.url': 'importMetaUrl' },
    inject: [join(REPO_ROOT, 'scripts/import-meta-url.cjs')],
  });
  await chmod(outfile, 0o755);
  return outfile;
}

/**
 * Bundles the plugin into `<outDir>/plugin/` (entry `kubectl-liqo.mjs` plus chunks) and puts the
 * launcher beside it as `<outDir>/kubectl-liqo`, the file kubectl finds on PATH. Returns the
 * launcher's path.
 */
export async function bundlePlugin(outDir) {
  const pluginDir = join(outDir, 'plugin');
  await rm(pluginDir, { recursive: true, force: true }); // no stale chunks from older builds
  await mkdir(pluginDir, { recursive: true });
  await build({
    ...common,
    entryPoints: { 'kubectl-liqo': join(REPO_ROOT, 'plugin/cli.ts') },
    outdir: pluginDir,
    format: 'esm',
    splitting: true,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    // CommonJS packages inside the bundle call require() for Node's built-ins
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
    },
    // yargs' help layout loads string-width, which spends ~40 ms of every start building
    // Unicode tables; a light one does what the help layout needs (plugin/vendor/).
    alias: { 'string-width': join(REPO_ROOT, 'plugin/vendor/string-width.cjs') },
  });
  const launcher = join(outDir, 'kubectl-liqo');
  await copyFile(join(REPO_ROOT, 'plugin/launcher.sh'), launcher);
  await chmod(launcher, 0o755);
  return launcher;
}
