#!/usr/bin/env bash
# Installs what floodpost and its tests need on a fresh Debian machine (Python 3.11+ present):
# system packages from apt (Chromium for browser tests, PostgreSQL 15 + PostGIS for the second
# backend, poppler for checking the printed review, gammu-smsd for the SMS gateway and its tests,
# Node.js for the JavaScript linter), the Python environment in .venv and the pinned JavaScript
# linter and formatter in node_modules (package-lock.json, `npm ci`; the service itself needs no
# Node.js).
#   scripts/install.sh          everything (service + tests): requirements-test.lock
#   scripts/install.sh --app    only what the service needs: requirements.lock
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-all}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if [ "$mode" != "--app" ]; then
    pkgs=(chromium postgresql-15 postgresql-15-postgis-3 poppler-utils fonts-noto-cjk gammu-smsd gammu)
    # Node.js with npm: Debian ships npm as its own package; NodeSource's nodejs includes it.
    command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
    missing=()
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "install: apt packages: ${missing[*]}"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
# Every third-party package comes pinned from a lock file and is checked against its sha256
# hashes (pip refuses anything unpinned, unhashed or different); the build backend is in the lock
# too, so the project itself installs without build isolation fetching anything. Regenerate the
# locks with scripts/lock.sh, audit them with scripts/audit.sh (docs/OPERATIONS.md, releases).
lock=requirements-test.lock
[ "$mode" = "--app" ] && lock=requirements.lock
.venv/bin/python -m pip install -q --require-hashes -r "$lock"
.venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
if [ "$mode" != "--app" ]; then
    # eslint + prettier at the versions in package-lock.json, only when the lock changed.
    if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.floodpost-lock; then
        npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
        cp package-lock.json node_modules/.floodpost-lock
    fi
fi
echo "install: done ($(.venv/bin/python --version), node $(node --version 2>/dev/null || echo none))"
