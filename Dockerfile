# syntax=docker/dockerfile:1.7
# The release image for those who build with Docker: the same files as `npm run image` (which
# needs no Docker and is what CI and the release use: see README "Building the image"), because
# the build stage runs that recipe (scripts/image/) and the final stage is those files alone.
#   docker build -t ghcr.io/liqo-discovery/liqo-discovery:0.1.0 .
#   docker buildx build --platform linux/amd64,linux/arm64 -t … --push .
# Distroless: no shell, no package manager; Node from the npm registry's node-linux-* packages,
# glibc/libstdc++/CA certificates from pinned Debian 12 packages, our bundles. One image, two
# programs: the webhook is the entrypoint, the agent's pods run `node /app/dist/liqo-agent.cjs`.
#
# Never built here (no Docker engine on the machines this project is developed on):
# test/integration/image.test.ts checks that --rootfs writes exactly the files of the archive
# and that the instructions below match the archive's configuration, not that Docker runs this.
# Unlike the archive, a Docker build is not byte-for-byte reproducible (layer timestamps).

FROM --platform=$BUILDPLATFORM node:20-slim AS build
ARG TARGETARCH
WORKDIR /src
COPY package.json package-lock.json ./
# esbuild's binary comes as a package; no install scripts are needed
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# bundles, Node for $TARGETARCH (npm pack), Debian packages (apt-get download with a private
# apt configuration, dpkg-deb -x), every input checked against the hashes in scripts/image/inputs.mjs
RUN node scripts/image/build.mjs --platform "linux/${TARGETARCH}" --rootfs /rootfs

FROM scratch
COPY --from=build /rootfs/ /
USER 65532:65532
WORKDIR /app
ENV PATH=/nodejs/bin:/usr/local/bin:/usr/bin:/bin
ENV NODE_ENV=production
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
EXPOSE 8443
# A young generation of at most 2 x 8 MiB (V8's default grows to 2 x 16 MiB under load): an
# admission's garbage is small and short-lived, and this keeps RSS under load ~12 MB lower
# (bench/webhook.ts runs the program with the flags of this line).
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=8", "/app/dist/liqo-webhook.cjs"]
