#!/usr/bin/env bash
# Idempotent: creates $ROOT/.venv and installs Tests/Interop/requirements.txt into it.
# pip is skipped when a stamp matching the requirements' hash already exists.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$ROOT/.venv"
REQ="$HERE/requirements.txt"
PYTHON="${PYTHON:-python3}"

log() { echo "[interop setup] $*" >&2; }

if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtualenv $VENV ($("$PYTHON" --version 2>&1))"
  "$PYTHON" -m venv "$VENV"
else
  log "virtualenv $VENV exists"
fi

HASH="$(sha256sum "$REQ" | cut -c1-16)"
STAMP="$VENV/.interop-requirements-$HASH"
if [ -f "$STAMP" ]; then
  log "requirements unchanged (stamp ${STAMP##*/}), skipping pip"
else
  log "installing requirements (hash $HASH)"
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ" >&2
  rm -f "$VENV"/.interop-requirements-*
  touch "$STAMP"
  log "installed: $("$VENV/bin/python" -m pip freeze --disable-pip-version-check | grep -iE '^(mcp|mcp-server-time|mcp-server-git|pytest|pytest-timeout)==' | tr '\n' ' ')"
fi
