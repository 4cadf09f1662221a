# Gatehouse container image: the backend serving the built frontend (app-backend).
#
#   docker build -t gatehouse .
#   docker run -p 7007:7007 --env-file prod.env gatehouse
#
# Four stages, following Backstage's multi-stage Dockerfile: `packages` keeps only the
# package.json files (so the dependency layer is rebuilt only when they change), `build` runs
# the same production build as CI (`yarn tsc`, `yarn build:backend`, which also builds the
# frontend bundle `packages/app` because the backend depends on it), `deps` installs the
# production dependencies of the backend bundle's skeleton, and `runtime` carries no compiler,
# no Yarn and no source: node_modules, the bundle and the config files.
#
# Yarn 4 comes from the npm registry (@yarnpkg/cli-dist) through scripts/toolchain.sh, as it
# does for developers and CI; the repository does not carry Yarn's bundle.
# scripts/check-dockerfile.js (run by Jest in CI) checks the rules this file must keep.

ARG NODE_IMAGE=node:22-bookworm-slim

# Stage 1: the package.json skeleton of the workspace.
FROM ${NODE_IMAGE} AS packages
WORKDIR /app
COPY package.json yarn.lock backstage.json .yarnrc.yml ./
COPY packages packages
COPY plugins plugins
RUN find packages plugins -mindepth 2 -maxdepth 2 \! -name package.json -exec rm -rf {} \+

# Stage 2: install everything and build.
FROM ${NODE_IMAGE} AS build
# node-gyp (better-sqlite3) needs Python and a C++ toolchain when no prebuilt binary fits.
ENV PYTHON=/usr/bin/python3
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 g++ build-essential libsqlite3-dev \
  && rm -rf /var/lib/apt/lists/*
RUN mkdir /app && chown node:node /app
USER node
WORKDIR /app
COPY --chown=node:node scripts/toolchain.sh ./scripts/toolchain.sh
COPY --from=packages --chown=node:node /app ./
RUN . scripts/toolchain.sh
ENV PATH=/app/.tools/bin:$PATH COREPACK_ENABLE_STRICT=0
RUN yarn install --immutable
COPY --chown=node:node . .
RUN yarn tsc
RUN yarn build:backend
RUN mkdir packages/backend/dist/skeleton packages/backend/dist/bundle \
  && tar xzf packages/backend/dist/skeleton.tar.gz -C packages/backend/dist/skeleton \
  && tar xzf packages/backend/dist/bundle.tar.gz -C packages/backend/dist/bundle

# Stage 3: production dependencies of the bundle only (no devDependencies, no bench, no tests).
FROM ${NODE_IMAGE} AS deps
ENV PYTHON=/usr/bin/python3
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 g++ build-essential libsqlite3-dev \
  && rm -rf /var/lib/apt/lists/*
RUN mkdir /app && chown node:node /app
USER node
WORKDIR /app
COPY --chown=node:node scripts/toolchain.sh ./scripts/toolchain.sh
COPY --from=build --chown=node:node /app/.yarnrc.yml /app/backstage.json ./
COPY --from=build --chown=node:node /app/yarn.lock /app/package.json /app/packages/backend/dist/skeleton/ ./
RUN . scripts/toolchain.sh \
  && PATH=/app/.tools/bin:$PATH COREPACK_ENABLE_STRICT=0 yarn workspaces focus --all --production \
  && rm -rf .tools scripts /home/node/.yarn /home/node/.cache /home/node/.npm

# Stage 4: what runs.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# --require loads OpenTelemetry before the backend (it exports only when configured, see
# docs/runbook-azure.md); --no-node-snapshot is what Backstage asks for on Node 20+.
ENV NODE_OPTIONS="--no-node-snapshot --require /app/packages/backend/src/instrumentation.js"
WORKDIR /app
RUN chown node:node /app
USER node
COPY --from=deps --chown=node:node /app ./
COPY --from=build --chown=node:node /app/packages/backend/dist/bundle/ ./
COPY --chown=node:node packages/backend/src/instrumentation.js ./packages/backend/src/instrumentation.js
COPY --chown=node:node app-config.yaml app-config.production.yaml app-config.production.entra-db.yaml ./
EXPOSE 7007
# Liveness, not readiness: a replica that is draining (readiness 503) is still healthy.
# NODE_OPTIONS is cleared so that the probe does not load OpenTelemetry.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD NODE_OPTIONS= node -e "fetch('http://127.0.0.1:7007/.backstage/health/v1/liveness').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "packages/backend", "--config", "app-config.yaml", "--config", "app-config.production.yaml"]
