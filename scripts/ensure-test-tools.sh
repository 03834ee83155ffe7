#!/usr/bin/env bash
# Installs the Debian tools the test suite drives, when they are missing:
#   chromium        - the end-to-end browser test (Playwright drives /usr/bin/chromium; it
#                     never downloads a browser of its own);
#   docker-compose  - `docker-compose config` validates docker-compose.yml statically (no
#                     Docker engine is needed or started).
# Without root or sudo it warns, and the tests that need a missing tool skip with the reason.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-liberation)
command -v docker-compose >/dev/null || missing+=(docker-compose)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  sudo=()
elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
  sudo=(sudo)
else
  echo "warning: ${missing[*]} missing and cannot be installed here; the tests that need them will skip." >&2
  exit 0
fi
echo "Installing ${missing[*]} from Debian for the test suite..."
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
