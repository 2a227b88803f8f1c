#!/usr/bin/env bash
# Builds build/<action>.zip for every OpenWhisk action of corefn app 'iot-site'.
# A Python zip action for the python:3.11 kind holds __main__.py at the zip root (OpenWhisk calls
# its main(params)), next to the packages it imports: corefn with its OpenWhisk adapter, and the
# app's own code (. from APP_SRC).
#   APP_SRC      folder holding the app's code (default: examples/iot_site)
#   COREFN_SPEC  what pip installs (default: corefn[openwhisk]; a path to a corefn checkout works)
#   COREFN_VENDOR  a folder of already-installed packages (corefn and the app's requirements) to
#                copy instead of running pip; without it, APP_SRC/requirements.txt is installed too
# Pure-Python dependencies only: build native ones for linux/x86_64 (pip --platform) yourself.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
APP_SRC="${APP_SRC:-examples/iot_site}"
COREFN_SPEC="${COREFN_SPEC:-corefn[openwhisk]}"
rm -rf "$HERE/build"
mkdir -p "$HERE/build/vendor"
if [ -n "${COREFN_VENDOR:-}" ]; then
  cp -R "$COREFN_VENDOR/." "$HERE/build/vendor/"
else
  python3 -m pip install --quiet --target "$HERE/build/vendor" "$COREFN_SPEC"
  if [ -f "$APP_SRC/requirements.txt" ]; then  # the app's own dependencies
    python3 -m pip install --quiet --target "$HERE/build/vendor" -r "$APP_SRC/requirements.txt"
  fi
fi
for action in web aggregate_telemetry summarize process_photo; do
  stage="$HERE/build/$action"
  mkdir -p "$stage"
  cp -R "$HERE/build/vendor/." "$stage/"
  for src in .; do
    if [ -e "$APP_SRC/$src" ]; then cp -R "$APP_SRC/$src" "$stage/"; fi
  done
  cp "$HERE/actions/$action/__main__.py" "$stage/__main__.py"
  (cd "$stage" && zip -qr "$HERE/build/$action.zip" .)
  echo "built build/$action.zip"
done
