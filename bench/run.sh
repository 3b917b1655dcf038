#!/usr/bin/env bash
# Runs a benchmark: bash bench/run.sh vector|startup|backup|failover|host-loss|monitoring [options]. Installs tusk's stack and the
# benchmark-only dependencies (a native HNSW library for the raw baseline) first.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: bench/run.sh vector|startup|backup|failover|host-loss|monitoring [options]}"
shift
./tusk install >&2
if [ "$name" = vector ] && [ ! -d bench/node_modules/hnswlib-node ]; then
  (cd bench && npm ci --no-audit --no-fund --loglevel=error) >&2
fi
exec node "dist/bench/$name.js" "$@"
