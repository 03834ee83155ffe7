#!/usr/bin/env bash
# Vendor plotly.js's partial `gl2d` bundle (npm `plotly.js-gl2d-dist-min`: scatter and
# scattergl, all the page draws) into frontend/vendor/, so nothing is fetched at install or
# run time and the browser never compiles the full bundle.
#
#   scripts/vendor-plotly.sh            check: fetch the recorded version from npm and verify
#                                       that it and the vendored file match the recorded hash
#   scripts/vendor-plotly.sh 3.7.0      update: vendor that version and record its hash
#
# frontend/vendor/plotly-gl2d.json records the version, the trace types it registers, the
# file's sha256 (hex) and its Subresource Integrity string (sha384); backend/web.py reads it and refuses to serve a file
# whose hash differs. `npm pack` checks the tarball against the registry's own integrity.
set -euo pipefail
cd "$(dirname "$0")/.."
package=plotly.js-gl2d-dist-min
vendor=frontend/vendor
manifest=$vendor/plotly-gl2d.json
bundle=plotly-gl2d.min.js

hashes() { # file -> "sha256hex sha384-base64"
  python3 - "$1" <<'PY'
import base64, hashlib, sys
data = open(sys.argv[1], "rb").read()
print(hashlib.sha256(data).hexdigest(), "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode())
PY
}

recorded() { # key -> value from the manifest
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$manifest" "$1"
}

version=${1:-}
mode=update
if [ -z "$version" ]; then
  mode=check
  version=$(recorded version)
fi
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "vendor-plotly: the version must look like 3.7.0, got '$version'" >&2
  exit 2
fi
command -v npm >/dev/null || { echo "vendor-plotly: npm is not installed" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$package@$version" >/dev/null)
tar -xzf "$work/$package-$version.tgz" -C "$work"
read -r sha256 sri < <(hashes "$work/package/$bundle")
header=$(head -c 200 "$work/package/$bundle")
if [[ "$header" != *"v$version"* ]]; then
  echo "vendor-plotly: $bundle from npm does not announce v$version" >&2
  exit 1
fi

if [ "$mode" = check ]; then
  want=$(recorded sha256)
  read -r have _ < <(hashes "$vendor/$bundle")
  if [ "$sha256" != "$want" ] || [ "$have" != "$want" ]; then
    echo "vendor-plotly: hash mismatch: recorded $want, npm $sha256, vendored $have" >&2
    exit 1
  fi
  echo "vendor-plotly: $package $version matches npm and the recorded hash ($want)"
  exit 0
fi

# The trace types the bundle registers, from its README ("Contains trace modules `a`, `b`"):
# tests/backend/test_web.py checks that the page draws no other.
traces=$(python3 - "$work/package/README.md" <<'PY'
import json, re, sys
line = next(l for l in open(sys.argv[1], encoding="utf-8") if "Contains trace modules" in l)
print(json.dumps(re.findall(r"`([a-z0-9]+)`", line)))
PY
)
cp "$work/package/$bundle" "$vendor/$bundle"
cp "$work/package/LICENSE" "$vendor/LICENSE-plotly.js.txt"
cat >"$manifest" <<JSON
{
  "package": "$package",
  "version": "$version",
  "file": "$bundle",
  "license": "MIT",
  "license_file": "LICENSE-plotly.js.txt",
  "traces": $traces,
  "sha256": "$sha256",
  "integrity": "$sri"
}
JSON
echo "vendor-plotly: vendored $package $version ($sha256)"
