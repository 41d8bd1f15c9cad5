#!/usr/bin/env bash
# Idempotent: creates $ROOT/.venv and installs Tests/Interop/requirements.txt into it, and
# $ROOT/.venv-legacy with Tests/Interop/requirements-legacy.txt (SDK 1.x, for
# fixtures/legacy_server.py). pip is skipped when a stamp matching the requirements' hash exists.
# HAProxy (for test_haproxy.py) is installed with apt-get when it is missing and we are root
# on a Debian-like system; PLUGBOARD_INSTALL=0 turns that off (test_haproxy.py then skips).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$ROOT/.venv"
REQ="$HERE/requirements.txt"
LEGACY_VENV="$ROOT/.venv-legacy"
LEGACY_REQ="$HERE/requirements-legacy.txt"
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

if [ ! -x "$LEGACY_VENV/bin/python" ]; then
  log "creating virtualenv $LEGACY_VENV ($("$PYTHON" --version 2>&1))"
  "$PYTHON" -m venv "$LEGACY_VENV"
else
  log "virtualenv $LEGACY_VENV exists"
fi

LEGACY_HASH="$(sha256sum "$LEGACY_REQ" | cut -c1-16)"
LEGACY_STAMP="$LEGACY_VENV/.interop-legacy-requirements-$LEGACY_HASH"
if [ -f "$LEGACY_STAMP" ]; then
  log "legacy requirements unchanged (stamp ${LEGACY_STAMP##*/}), skipping pip"
else
  log "installing legacy requirements (hash $LEGACY_HASH)"
  "$LEGACY_VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$LEGACY_REQ" >&2
  rm -f "$LEGACY_VENV"/.interop-legacy-requirements-*
  touch "$LEGACY_STAMP"
  log "installed in ${LEGACY_VENV##*/}: $("$LEGACY_VENV/bin/python" -m pip freeze --disable-pip-version-check | grep -iE '^mcp==' | tr '\n' ' ')"
fi

if command -v haproxy >/dev/null 2>&1; then
  log "haproxy: $(haproxy -v 2>/dev/null | head -1)"
elif [ "${PLUGBOARD_INSTALL:-1}" = 0 ]; then
  log "haproxy missing, not installing (PLUGBOARD_INSTALL=0): test_haproxy.py will skip"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  log "installing haproxy with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends haproxy >&2; then
    apt-get update -q >&2 && apt-get install -y -q --no-install-recommends haproxy >&2 \
      || log "could not install haproxy: test_haproxy.py will skip"
  fi
else
  log "haproxy missing (install it, e.g. apt-get install haproxy, as root): test_haproxy.py will skip"
fi
