#!/usr/bin/env bash
# Makes Node.js 22+ and Yarn 4 available on PATH, fetching them from the npm registry into
# .tools/ (git-ignored) when the machine lacks them. Source it: `. scripts/toolchain.sh`.
# Uses only what a fresh machine with Node.js (any version) and npm has.

GATEHOUSE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GATEHOUSE_TOOLS="$GATEHOUSE_ROOT/.tools"
GATEHOUSE_NODE_VERSION="${GATEHOUSE_NODE_VERSION:-22}"
# Keep in step with "packageManager" in package.json.
GATEHOUSE_YARN_VERSION="$(node -p "require('$GATEHOUSE_ROOT/package.json').packageManager.split('@')[1]" 2>/dev/null || echo 4.13.0)"

_gh_log() { printf '[gatehouse] %s\n' "$*" >&2; }

_gh_node_major() { "${1:-node}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

gatehouse_ensure_node() {
  local major
  major="$(_gh_node_major node)"
  if [ "$major" -ge 22 ] 2>/dev/null; then
    return 0
  fi
  local dir="$GATEHOUSE_TOOLS/node-$GATEHOUSE_NODE_VERSION"
  local bin="$dir/node_modules/node/bin"
  if [ ! -x "$bin/node" ] || [ "$(_gh_node_major "$bin/node")" -lt 22 ]; then
    _gh_log "Node.js $(node --version 2>/dev/null || echo 'missing') is too old for Backstage; installing node@$GATEHOUSE_NODE_VERSION from the npm registry into .tools/"
    mkdir -p "$dir"
    (cd "$dir" && [ -f package.json ] || echo '{"private":true}' >"$dir/package.json")
    npm install --prefix "$dir" --no-save --no-audit --no-fund "node@$GATEHOUSE_NODE_VERSION" >&2 || return 1
  fi
  export PATH="$bin:$PATH"
  # node-gyp cannot download headers offline; the node-linux-* package ships them.
  local headers
  headers="$(ls -d "$dir"/node_modules/node-*-*/include/node 2>/dev/null | head -n 1)"
  if [ -z "$headers" ]; then
    headers="$(ls -d "$dir"/node_modules/node/node_modules/node-*-*/include/node 2>/dev/null | head -n 1)"
  fi
  if [ -n "$headers" ]; then
    export npm_config_nodedir="$(cd "$headers/../.." && pwd)"
  fi
  _gh_log "using Node.js $(node --version) from .tools/"
}

gatehouse_ensure_yarn() {
  if command -v yarn >/dev/null 2>&1 && [ "$(yarn --version 2>/dev/null | cut -d. -f1)" -ge 4 ] 2>/dev/null; then
    return 0
  fi
  local dir="$GATEHOUSE_TOOLS/yarn-$GATEHOUSE_YARN_VERSION"
  local js="$dir/node_modules/@yarnpkg/cli-dist/bin/yarn.js"
  if [ ! -f "$js" ]; then
    _gh_log "installing Yarn $GATEHOUSE_YARN_VERSION from the npm registry (@yarnpkg/cli-dist) into .tools/"
    mkdir -p "$dir"
    [ -f "$dir/package.json" ] || echo '{"private":true}' >"$dir/package.json"
    npm install --prefix "$dir" --no-save --no-audit --no-fund "@yarnpkg/cli-dist@$GATEHOUSE_YARN_VERSION" >&2 || return 1
  fi
  mkdir -p "$GATEHOUSE_TOOLS/bin"
  printf '#!/bin/sh\nexec node "%s" "$@"\n' "$js" >"$GATEHOUSE_TOOLS/bin/yarn"
  chmod +x "$GATEHOUSE_TOOLS/bin/yarn"
  export PATH="$GATEHOUSE_TOOLS/bin:$PATH"
  # Corepack (if present) would otherwise insist on downloading the pinned version itself.
  export COREPACK_ENABLE_STRICT=0
  _gh_log "using Yarn $(yarn --version) from .tools/"
}

gatehouse_ensure_node && gatehouse_ensure_yarn
