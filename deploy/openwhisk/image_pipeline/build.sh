#!/usr/bin/env bash
# Builds build/<action>.zip for every OpenWhisk action of corefn app 'image-pipeline', from this folder's
# src/ (the app, its modules and corefn, vendored by corefn deploy) and each action's pinned
# requirements.txt, with wheels for the action runtime (python:3.11, manylinux x86_64) whatever this
# machine is. Runs from any folder; fails on a missing source and on a zip over the 48 MB limit.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"
if [ ! -d "$HERE/src/corefn_openwhisk" ]; then
  echo "build.sh: $HERE/src holds no vendored corefn: run corefn deploy APP --cloud openwhisk --out DIR (without --no-bundle)" >&2
  exit 1
fi
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "build.sh: $PYTHON is older than Python 3.11" >&2; exit 1; }
exec "$PYTHON" -I -c 'import sys; sys.path.insert(0, sys.argv[1]); from corefn_openwhisk.build import main; sys.exit(main(sys.argv[2:]))' "$HERE/src" "$HERE"
