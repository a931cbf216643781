// node scripts/image/bundle-programs.mjs <outDir>: the webhook and agent bundles, for the image.
// Run as its own process with the repository as working directory (build.mjs does): esbuild
// names every source relative to the working directory it saw when it was loaded, in comments
// of the bundle, so a build started elsewhere would give other bytes and another digest.
import { bundleProgram } from '../bundles.mjs';

const [outDir] = process.argv.slice(2);
if (!outDir) throw new Error('usage: bundle-programs.mjs <outDir>');
await Promise.all([bundleProgram('webhook', outDir), bundleProgram('agent', outDir)]);
