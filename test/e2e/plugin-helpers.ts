// Runs the plugin as users do: the esbuild bundle of the current source, as `kubectl-liqo` on
// PATH, invoked through the real kubectl (`kubectl liqo …`).
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { KUBECTL, runCommand, type CommandResult, type RunOptions } from '../harness/kubectl.js';
import { REPO_ROOT } from '../harness/liqo-environment.js';
import { bundlePlugin } from '../../scripts/bundles.mjs';
import { removeOnExit } from '../harness/processes.js';

export interface PluginOnPath {
  /** A directory holding only `kubectl-liqo`; put it first on PATH. */
  binDir: string;
  /** The plugin's entry module (what the launcher runs with node). */
  bundle: string;
  /** `kubectl liqo <args>` with PATH set and the given environment (KUBECONFIG etc.). */
  run(args: string[], opts?: RunOptions): Promise<CommandResult>;
  remove(): void;
}

/** Bundles the plugin as `npm run build` does (scripts/bundles.mjs), into a fresh directory. */
export async function installPluginOnPath(): Promise<PluginOnPath> {
  // under node_modules/ so the bundle's external import('@kubernetes/client-node') resolves
  mkdirSync(join(REPO_ROOT, 'node_modules/.cache'), { recursive: true });
  const dir = mkdtempSync(join(REPO_ROOT, 'node_modules/.cache/kubectl-liqo-'));
  const removeDir = removeOnExit(dir); // also when a failed before() never reaches remove()
  const launcher = await bundlePlugin(dir);
  // kubectl finds a symlink to the launcher, as with krew or `ln -s` into ~/.local/bin
  const binDir = join(dir, 'bin');
  mkdirSync(binDir);
  symlinkSync(launcher, join(binDir, 'kubectl-liqo'));
  const bundle = join(dir, 'plugin/kubectl-liqo.cjs');
  return {
    binDir,
    bundle,
    run: (args, opts = {}) =>
      runCommand(KUBECTL, ['liqo', ...args], {
        ...opts,
        env: { ...process.env, ...opts.env, PATH: `${binDir}:${process.env.PATH ?? ''}` },
      }),
    remove: removeDir,
  };
}

/** The one-line error contract: exit 1, a single `error: …` line on stderr, nothing on stdout. */
export function expectOneLineError(r: CommandResult, pattern: RegExp): string {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  const errorLines = lines.filter((l) => l.startsWith('error: '));
  const problems: string[] = [];
  if (r.code !== 1) problems.push(`exit ${r.code} (want 1)`);
  if (errorLines.length !== 1) problems.push(`${errorLines.length} "error:" lines (want 1)`);
  if (!pattern.test(errorLines[0] ?? '')) problems.push(`error line does not match ${pattern}`);
  if (/\n\s+at /.test(r.stderr)) problems.push('a stack trace');
  if (r.stdout.trim() !== '') problems.push('output on stdout');
  if (problems.length) {
    throw new Error(`${problems.join(', ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return errorLines[0] ?? '';
}
