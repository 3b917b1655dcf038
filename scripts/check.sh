#!/usr/bin/env bash
# Static checks, run by scripts/test.sh before the tests (and so by CI): Biome's linter and formatter over src/,
# test/, bench/ and scripts/, including its import-cycle rule with type-only imports counted
# (noImportCycles, ignoreTypes: false). A check that passes proves nothing unless it can fail: the
# committed fixture test/fixtures/import-cycle holds a type-only cycle, and the check must report it.
set -euo pipefail
cd "$(dirname "$0")/.."
biome=node_modules/.bin/biome
"$biome" check --error-on-warnings . # lint and format
if (cd test/fixtures/import-cycle && "../../../$biome" lint . >/dev/null 2>&1); then
  echo "check: the import-cycle check did not report the type-only cycle in test/fixtures/import-cycle" >&2
  exit 1
fi
echo "check: lint and format clean; no import cycle (type-only imports included); the cycle fixture is reported"
