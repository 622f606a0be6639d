# corrente image: `docker build -t corrente .`
#   docker run --rm corrente status          # any CLI command
#   docker run --rm corrente                 # defaults to `worker`
#
# Debian (glibc) rather than Alpine: @duckdb/node-api's prebuilt bindings and the
# msgpackr-extract prebuilds used by BullMQ are built for glibc.
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: all dependencies (typescript is a dev dependency) + tsc -------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` runs the build, and the sources are not copied yet. Only the
# lockfile invalidates this layer, so source edits reuse the installed node_modules.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

# ---- runtime: production dependencies + dist/ only --------------------------------------
FROM ${NODE_IMAGE} AS runtime
# --enable-source-maps: dist/ ships source maps, so stack traces point at the .ts lines.
# LAKE_DIR is used only when no S3/MinIO endpoint is configured.
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    LAKE_DIR=/app/lake
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run tsc, which is not installed without dev deps.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force \
    && mkdir -p /app/lake \
    && chown node:node /app/lake
COPY --from=build /app/dist ./dist

# The base image's unprivileged `node` user, given by number so Kubernetes'
# `runAsNonRoot` can verify it without resolving a name.
USER 1000:1000

# Node is PID 1 here: the worker's own SIGTERM handler drains in-flight jobs. Compose adds
# `init: true` (tini) on top; with plain `docker run`, pass `--init` to get the same.
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["worker"]
