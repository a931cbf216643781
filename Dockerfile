# syntax=docker/dockerfile:1.7
# The image of the admission webhook and of the discovery agent (one image, two programs; the
# agent's Deployment sets its own command):
#   docker build -t ghcr.io/liqo-discovery/liqo-webhook:0.1.0 -t ghcr.io/liqo-discovery/liqo-agent:0.1.0 .
# Those names are placeholders (see manifests/webhook/ and manifests/agent/): push the image
# where your cluster pulls from and point the Deployments at it.
#
# The program is one esbuild bundle (dist/liqo-webhook.cjs) with every dependency inside
# except @kubernetes/client-node, which it imports at run time; so the image holds the bundle
# and that package with exactly the packages it needs (its locked production closure).

FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# esbuild's binary comes as a package; no install scripts are needed
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN node scripts/build.mjs
COPY <<'SCRIPT' /usr/local/lib/copy-runtime-deps.cjs
// Copies one package and its production dependency closure, resolved as Node resolves them
// from the lockfile-installed tree, into <dest>/node_modules (same relative layout).
const fs = require('node:fs');
const path = require('node:path');
const [name, root, dest] = process.argv.slice(2);
const seen = new Set();
function resolveFrom(dir, dep) {
  for (let d = dir; ; d = path.dirname(d)) {
    const candidate = path.join(d, 'node_modules', dep);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (d === root || path.dirname(d) === d) return undefined;
  }
}
function visit(dir) {
  if (seen.has(dir)) return;
  seen.add(dir);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  for (const [dep, optional] of [
    ...Object.keys(pkg.dependencies || {}).map((d) => [d, false]),
    ...Object.keys(pkg.optionalDependencies || {}).map((d) => [d, true]),
  ]) {
    const found = resolveFrom(dir, dep);
    if (found) visit(found);
    else if (!optional) throw new Error(`${dep} (needed by ${pkg.name}) is not installed`);
  }
}
const start = resolveFrom(root, name);
if (!start) throw new Error(`${name} is not installed under ${root}`);
visit(start);
for (const dir of seen) {
  fs.cpSync(dir, path.join(dest, path.relative(root, dir)), { recursive: true, dereference: true });
}
console.log(`copied ${seen.size} packages`);
SCRIPT
RUN node /usr/local/lib/copy-runtime-deps.cjs @kubernetes/client-node /src /runtime

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /runtime/node_modules ./node_modules
COPY --from=build /src/dist/liqo-webhook.cjs ./dist/liqo-webhook.cjs
COPY --from=build /src/dist/liqo-agent.cjs ./dist/liqo-agent.cjs
# the image's "node" user; the Deployment also sets runAsNonRoot and a read-only root
USER 1000:1000
EXPOSE 8443
# A young generation of at most 2 x 8 MiB (V8's default grows to 2 x 16 MiB under load): an
# admission's garbage is small and short-lived, and this keeps RSS under load ~12 MB lower
# (bench/webhook.ts runs the program with the flags of this line).
ENTRYPOINT ["node", "--max-semi-space-size=8", "/app/dist/liqo-webhook.cjs"]
