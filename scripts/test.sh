#!/usr/bin/env bash
# Runs every test, as README.md says: installs what is missing (npm dependencies, the TypeScript
# build — which type-checks — the Debian/source-built stack, and the test tools: Prometheus and Chromium), then the static checks
# (scripts/check.sh), the unit tier and the scenario tier against real PostgreSQL, Patroni, etcd and PgBouncer processes.
# With --fast: the static checks and the unit tier only (no cluster, no Debian packages needed).
# The reporter prints each test and each file as it ends (result, counts, time), failures in full,
# and the runner's closing summary (# tests, # pass, # fail).
set -euo pipefail
cd "$(dirname "$0")/.."
# Every test runs in a zone with daylight saving, so that times shown and typed are tested across it.
export TZ=Europe/Berlin
tiers=(dist/test/unit/ dist/test/cluster/)
if [ "${1:-}" = "--fast" ]; then
  ./tusk --version >/dev/null # installs tusk's Node dependencies and builds, when needed
  tiers=(dist/test/unit/)
else
  ./tusk install --test-tools
fi
bash scripts/check.sh
# --test-timeout bounds each test file as a whole (Node times a file like a test): keep every file well
# under it (split a file that grows past ~8 minutes), so that only a hung file meets it.
exec node --test --test-concurrency=2 --test-timeout=900000 --test-reporter=./scripts/test-reporter.mjs --test-reporter-destination=stdout "${tiers[@]}"
