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
# The benchmark is not part of the image.
RUN npm run build && rm -rf dist/bench

# ---- runtime: production dependencies + dist/ only --------------------------------------
FROM ${NODE_IMAGE} AS runtime
# --enable-source-maps: dist/ ships source maps, so stack traces point at the .ts lines.
# --max-semi-space-size=2, MALLOC_ARENA_MAX=2 and (in ENTRYPOINT: NODE_OPTIONS does not take
# it) --optimize-for-size: the memory settings the `corrente` bin's #! line sets (about
# 40-45 MB less peak RSS per export; bench/README.md, "Round 2, third pass").
# LAKE_DIR is used only when no S3/MinIO endpoint is configured.
ENV NODE_ENV=production \
    NODE_OPTIONS="--enable-source-maps --max-semi-space-size=2" \
    MALLOC_ARENA_MAX=2 \
    LAKE_DIR=/app/lake
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run tsc, which is not installed without dev deps.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force \
    && mkdir -p /app/lake \
    && chown node:node /app/lake
COPY --from=build /app/dist ./dist
# Files read at run time: the dashboard's assets and the shipped SQL models.
COPY --from=build /app/src/api/dashboard ./dist/src/api/dashboard
COPY --from=build /app/transforms ./transforms

# The base image's unprivileged `node` user, given by number so Kubernetes'
# `runAsNonRoot` can verify it without resolving a name.
USER 1000:1000

# Node is PID 1 here: the worker's own SIGTERM handler drains in-flight jobs. Compose adds
# `init: true` (tini) on top; with plain `docker run`, pass `--init` to get the same.
# For `serve` (the API): healthy while /health answers 200. Services that serve no HTTP
# (worker, scheduler, one-shot commands) disable it in docker-compose.yml.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 5000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["node", "--optimize-for-size", "dist/cli/main.js"]
CMD ["worker"]
