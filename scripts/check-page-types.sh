#!/usr/bin/env bash
# `make lint`'s type check of the page: tsc reads the JSDoc of frontend/js (// @ts-check) as
# frontend/jsconfig.json says. Nothing is emitted; the page ships as written. Where node or the
# pinned typescript is missing (scripts/ensure-test-tools.sh installs it) it says so and skips,
# as the tests that need a missing tool do.
set -euo pipefail
cd "$(dirname "$0")/.."
tsc=frontend/node_modules/.bin/tsc
if ! command -v node >/dev/null; then
  echo "lint: skipping the page's type check (tsc): node is not installed."
  exit 0
fi
if [ ! -x "$tsc" ]; then
  echo "lint: skipping the page's type check (tsc): not installed; run scripts/ensure-test-tools.sh."
  exit 0
fi
"$tsc" --noEmit -p frontend/jsconfig.json
