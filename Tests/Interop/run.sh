#!/usr/bin/env bash
# Runs the MCP interop suite against plugboard.
#   PLUGBOARD_BIN     plugboard executable (default: $ROOT/.build/debug/plugboard)
#   PLUGBOARD_DIRECT=1  test the demo server directly instead (validates the tests themselves)
# Extra arguments go to pytest, e.g. ./run.sh -k progress -x
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
"$HERE/setup.sh"
export PLUGBOARD_BIN="${PLUGBOARD_BIN:-$ROOT/.build/debug/plugboard}"
cd "$HERE"
exec "$ROOT/.venv/bin/python" -m pytest -p no:cacheprovider "$HERE" "$@"
