#!/usr/bin/env bash
# Installs the tools the test suite drives, when they are missing:
#   chromium        - the end-to-end browser test (Playwright drives /usr/bin/chromium; it
#                     never downloads a browser of its own);
#   docker-compose  - `docker-compose config` validates docker-compose.yml statically (no
#                     Docker engine is needed or started);
#   nodejs, npm     - the page's JS unit tests (`node --test`) and its type check;
#   postgresql      - tests/backend/db/test_postgres.py starts a throwaway server with the
#                     package's initdb and pg_ctl (it never runs the package's own cluster);
#   typescript      - `make lint` type-checks the page's JSDoc (frontend/jsconfig.json); npm
#                     installs the version frontend/package-lock.json pins into
#                     frontend/node_modules.
# Without root or sudo (or without node and npm) it warns, and the checks that need a missing
# tool skip with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."

install_page_tools() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "warning: node or npm missing; the page's type check (tsc) and JS unit tests will skip." >&2
    return 0
  fi
  # Up to date when every pinned devDependency is installed at its pinned version.
  if node -e '
    const fs = require("fs");
    const pins = JSON.parse(fs.readFileSync("frontend/package.json", "utf8")).devDependencies || {};
    for (const [name, version] of Object.entries(pins)) {
      const file = `frontend/node_modules/${name}/package.json`;
      if (!fs.existsSync(file) || JSON.parse(fs.readFileSync(file, "utf8")).version !== version) process.exit(1);
    }'; then
    return 0
  fi
  echo "Installing the page's dev tools (frontend/package-lock.json) with npm ci..."
  if ! (cd frontend && npm ci --no-audit --no-fund --loglevel=error); then
    echo "warning: npm ci failed in frontend/; the page's type check (tsc) will skip." >&2
  fi
}

install_debian_tools() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium fonts-liberation)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || missing+=(postgresql)
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  local sudo
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    sudo=()
  elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
    sudo=(sudo)
  else
    echo "warning: ${missing[*]} missing and cannot be installed here; the tests that need them will skip." >&2
    return 0
  fi
  echo "Installing ${missing[*]} from Debian for the test suite..."
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_debian_tools
install_page_tools
