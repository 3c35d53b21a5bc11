# syntax=docker/dockerfile:1
# kmc's container image. Node 24 runs kmc's TypeScript sources as they are (type stripping), as `npm run kmc`
# does from a clone: there is no build step, only the production dependencies to install.
#
#   docker build -t kmc:0.1.0 .
#
# The image runs `kmc run` with the config the Deployment mounts from its ConfigMap (examples/deploy,
# charts/kmc); override the command to run `kmc validate --config <file>` or `kmc --help`.
ARG NODE_VERSION=24.21.0

# 1. Production dependencies, exactly as the lockfile pins them. --omit=dev leaves out the toolchain (and the
#    `node` devDependency: this image is Node 24 already); --ignore-scripts runs no package's install script.
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error

# 2. The runtime: the same Node, the dependencies and kmc's sources; no npm, no compilers, not root.
FROM node:${NODE_VERSION}-bookworm-slim
LABEL org.opencontainers.image.title="kmc" \
      org.opencontainers.image.description="Koupleless ModuleController in TypeScript: bases as Kubernetes nodes, module pods as installs over MQTT, plugin-based rollouts" \
      org.opencontainers.image.licenses="Apache-2.0"
# npm and corepack are not needed to run kmc: one less thing to patch.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY core ./core
COPY config ./config
COPY plugins ./plugins
# The image's `node` user, by number so Kubernetes can check runAsNonRoot. kmc writes nothing to its file
# system: the manifests mount the root read-only.
USER 1000:1000
# /healthz, /readyz, /metrics (server.port)
EXPOSE 8080
ENTRYPOINT ["node", "core/cli/main.ts"]
CMD ["run", "--config", "/etc/kmc/config/koupleless.config.yaml"]
