// The packages the bundles still load from node_modules at run time: @kubernetes/client-node
// (kept out of the bundles, scripts/bundles.mjs says why) and its production dependency
// closure, resolved as Node resolves them in the lockfile-installed tree.
//
// Used by scripts/image/rootfs.mjs; also runnable on its own:
//   node scripts/image/runtime-deps.mjs <repo root>    prints the package folders, one a line
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RUNTIME_EXTERNALS = ['@kubernetes/client-node'];

/** Type-only packages: a dependency of client-node, never loaded by Node. */
function isTypesOnly(name) {
  return name.startsWith('@types/');
}

function resolveFrom(root, dir, dependency) {
  for (let d = dir; ; d = dirname(d)) {
    const candidate = join(d, 'node_modules', dependency);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (d === root || dirname(d) === d) return undefined;
  }
}

/**
 * The folders of `names` and of everything they depend on (dependencies, and
 * optionalDependencies that are installed), relative to `root`, sorted, '/'-separated.
 */
export function runtimeDependencyDirs(root, names = RUNTIME_EXTERNALS) {
  const seen = new Set();
  function visit(dir) {
    if (seen.has(dir)) return;
    seen.add(dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const needed = [
      ...Object.keys(pkg.dependencies ?? {}).map((name) => [name, false]),
      ...Object.keys(pkg.optionalDependencies ?? {}).map((name) => [name, true]),
    ];
    for (const [name, optional] of needed) {
      if (isTypesOnly(name)) continue;
      const found = resolveFrom(root, dir, name);
      if (found) visit(found);
      else if (!optional) throw new Error(`${name} (needed by ${pkg.name}) is not installed: run npm ci`);
    }
  }
  for (const name of names) {
    const start = resolveFrom(root, root, name);
    if (!start) throw new Error(`${name} is not installed under ${root}: run npm ci`);
    visit(start);
  }
  return [...seen].map((dir) => relative(root, dir).split(sep).join('/')).sort();
}

/** Files Node never loads: types, source maps, docs. Left out of the image to keep it small. */
export function isRuntimeFile(path) {
  return !/\.(d\.ts|d\.mts|d\.cts|map|md|markdown)$/i.test(path);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? process.cwd();
  for (const dir of runtimeDependencyDirs(root)) console.log(dir);
}
