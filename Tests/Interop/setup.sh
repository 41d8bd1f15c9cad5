#!/usr/bin/env bash
# Idempotent: creates $ROOT/.venv and installs Tests/Interop/requirements.txt into it, and
# $ROOT/.venv-legacy with Tests/Interop/requirements-legacy.txt (SDK 1.x, for
# fixtures/legacy_server.py). pip is skipped when a stamp matching the requirements' hash exists.
# HAProxy (for test_haproxy.py) and tinyproxy (test_https.py) are installed with apt-get when
# missing and we are root on a Debian-like system; PLUGBOARD_INSTALL=0 turns that off (those
# tests then skip).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$ROOT/.venv"
REQ="$HERE/requirements.txt"
LEGACY_VENV="$ROOT/.venv-legacy"
LEGACY_REQ="$HERE/requirements-legacy.txt"
PYTHON="${PYTHON:-python3}"

log() { echo "[interop setup] $*" >&2; }

# venv DIR REQUIREMENTS STAMP-PREFIX PACKAGES-SHOWN: a virtualenv with the requirements
# installed, pip skipped while the stamp of the requirements' hash is there.
venv() {
  local dir=$1 req=$2 prefix=$3 shown=$4
  if [ ! -x "$dir/bin/python" ]; then
    log "creating virtualenv $dir ($("$PYTHON" --version 2>&1))"
    "$PYTHON" -m venv "$dir"
  else
    log "virtualenv $dir exists"
  fi
  local hash stamp
  hash="$(sha256sum "$req" | cut -c1-16)"
  stamp="$dir/.$prefix-$hash"
  if [ -f "$stamp" ]; then
    log "${req##*/} unchanged (stamp ${stamp##*/}), skipping pip"
  else
    log "installing ${req##*/} (hash $hash)"
    "$dir/bin/python" -m pip install --disable-pip-version-check -q -r "$req" >&2
    rm -f "$dir"/."$prefix"-*
    touch "$stamp"
    log "installed in ${dir##*/}: $("$dir/bin/python" -m pip freeze --disable-pip-version-check | grep -iE "^($shown)==" | tr '\n' ' ')"
  fi
}

venv "$VENV" "$REQ" interop-requirements 'mcp|mcp-server-time|mcp-server-git|pytest|pytest-timeout'
venv "$LEGACY_VENV" "$LEGACY_REQ" interop-legacy-requirements 'mcp'

# tool NAME USER: NAME installed with apt-get when it is missing and we are root on a Debian-like
# system (PLUGBOARD_INSTALL=0 turns that off); USER is the test that skips without it.
tool() {
  local name=$1 user=$2
  if command -v "$name" >/dev/null 2>&1 || [ -x "/usr/sbin/$name" ] || [ -x "/usr/bin/$name" ]; then
    log "$name: present"
  elif [ "${PLUGBOARD_INSTALL:-1}" = 0 ]; then
    log "$name missing, not installing (PLUGBOARD_INSTALL=0): $user will skip"
  elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing $name with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends "$name" >&2; then
      apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "$name" >&2 \
        || log "could not install $name: $user will skip"
    fi
  else
    log "$name missing (install it, e.g. apt-get install $name, as root): $user will skip"
  fi
}

tool haproxy test_haproxy.py
tool tinyproxy "test_https.py's proxy test"
