// How each program is bundled with esbuild; scripts/build.mjs writes them to dist/, the tests
// and benchmarks build fresh copies of the current source with the same settings.
//
// The webhook and the agent are one CommonJS file each (start-up once per pod; one file is
// simplest to ship). The plugin starts on every `kubectl liqo …`, so it is ES modules split
// into chunks: cli.mjs holds yargs and the command definitions, and what a command needs to
// run (the look-ups, YAML, prompts, spinner, embedded manifests) is a chunk imported when that
// command runs. `kubectl liqo <command>` parses ~0.3 MB instead of the ~1.7 MB of one file.
// In front of it is a tiny CommonJS entry that answers help requests from texts the CLI just
// built renders here, at build time (plugin/kubectl-liqo.ts, plugin/help/).
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { renderReleaseManifest } from './release-manifest.mjs';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // the client library is big (~0.5 s to import); keep it out so code paths that never
  // talk to the cluster never pay for it. It resolves from node_modules at run time.
  external: ['@kubernetes/client-node'],
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
 * Renders manifests/ into `<outDir>/liqo-discovery.yaml` (scripts/release-manifest.mjs) and
 * returns its text.
 */
export async function writeReleaseManifest(outDir) {
  const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8'));
  const text = await renderReleaseManifest(REPO_ROOT, version);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'liqo-discovery.yaml'), text);
  return text;
}

/**
 * Bundles the plugin into `<outDir>/plugin/` and puts the launcher beside it as
 * `<outDir>/kubectl-liqo`, the file kubectl finds on PATH. Returns the launcher's path.
 *   kubectl-liqo.cjs   the entry: a stored help text, or else import('./cli.mjs')
 *   cli.mjs            the CLI (yargs and the command tree), plus chunks/
 *   help-pages.json    every help page, rendered by the CLI just built (plugin/help/render.ts)
 * The release manifest is written beside them (`<outDir>/liqo-discovery.yaml`) and embedded
 * as the module `liqo-release-manifest` that `install` imports (plugin/install/release.ts).
 */
export async function bundlePlugin(outDir) {
  const pluginDir = join(outDir, 'plugin');
  await rm(pluginDir, { recursive: true, force: true }); // no stale chunks from older builds
  await mkdir(pluginDir, { recursive: true });
  const releaseManifest = await writeReleaseManifest(outDir);
  await build({
    ...common,
    entryPoints: {
      cli: join(REPO_ROOT, 'plugin/cli.ts'),
      'render-help': join(REPO_ROOT, 'plugin/help/render.ts'),
    },
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
    plugins: [
      {
        name: 'release-manifest',
        setup(b) {
          b.onResolve({ filter: /^liqo-release-manifest$/ }, () => ({
            path: 'liqo-discovery.yaml',
            namespace: 'release-manifest',
          }));
          b.onLoad({ filter: /.*/, namespace: 'release-manifest' }, () => ({
            contents: releaseManifest,
            loader: 'text',
          }));
        },
      },
    ],
  });
  // CommonJS: a stored help text is then printed without Node setting up its ES module loader
  // (~7 ms here); only the CLI is an ES module, imported when the entry needs it.
  await build({
    ...common,
    entryPoints: [join(REPO_ROOT, 'plugin/kubectl-liqo.ts')],
    outfile: join(pluginDir, 'kubectl-liqo.cjs'),
    format: 'cjs',
    define: { 'import.meta.url': 'importMetaUrl' },
    inject: [join(REPO_ROOT, 'scripts/import-meta-url.cjs')],
    // keep import() an import() (not require()): the CLI is an ES module with top-level await
    supported: { 'dynamic-import': true },
    plugins: [
      {
        name: 'cli-module',
        setup(b) {
          b.onResolve({ filter: /^\.\/cli\.js$/ }, () => ({ path: './cli.mjs', external: true }));
        },
      },
    ],
  });
  // The renderer runs the bundled CLI (same modules, same string-width) in an environment
  // that sets nothing yargs reads, and writes help-pages.json beside itself. It is a build
  // tool, so it does not stay in the bundle.
  const renderer = join(pluginDir, 'render-help.mjs');
  await promisify(execFile)(process.execPath, [renderer], { env: { PATH: process.env.PATH ?? '' } });
  await rm(renderer);
  await rm(`${renderer}.map`);
  const launcher = join(outDir, 'kubectl-liqo');
  await copyFile(join(REPO_ROOT, 'plugin/launcher.sh'), launcher);
  await chmod(launcher, 0o755);
  return launcher;
}
