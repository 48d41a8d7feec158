# service-registrator: mirrors the containers of the Docker engine it is given into etcd.
#
#   docker build -t service-registrator .
#   docker run -d --network host -v /var/run/docker.sock:/tmp/docker.sock \
#     -e EC_REGISTRATOR_ETCD_HOSTS=127.0.0.1:2379 service-registrator [options] [registry-uri ...]
#
# The socket is mounted at /tmp/docker.sock (the daemon looks there when /var/run/docker.sock is
# absent). Any Node >= 22 image with npm can be the base: --build-arg NODE_IMAGE=...
ARG NODE_IMAGE=node:24-bookworm-slim

# Compiles the TypeScript sources and bundles the command with every package it uses into dist/bin
# (scripts/bundle.mjs): the image needs no node_modules.
FROM ${NODE_IMAGE} AS build
# Lets the builder point npm at the registry it uses, without naming one here.
ARG NPM_CONFIG_REGISTRY
WORKDIR /app
COPY package.json package-lock.json ./
# No dependency needs its install scripts (dockerode's native ssh helpers are optional and unused;
# esbuild finds its binary in its platform package).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/bundle.mjs ./scripts/
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY config ./config
COPY --from=build /app/dist/bin ./dist/bin
# Runs as root: the mounted Docker socket is root-owned on most hosts. As PID 1 the daemon gets
# docker stop's SIGTERM itself and deletes this host's data before exiting (SPEC §4).
# Node with the flags the command's first line gives (src/cli.ts; a unit test keeps the two alike): not
# the file itself, since a base image's env may not take `-S` (busybox's, Alpine's).
ENTRYPOINT ["node", "--max-semi-space-size=2", "dist/bin/registrator.js"]
CMD []
