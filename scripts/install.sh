#!/usr/bin/env bash
# Installs what floodpost and its tests need on a fresh Debian machine (Python 3.11+ present):
# system packages from apt (Chromium for browser tests, PostgreSQL 15 + PostGIS for the second
# backend, poppler for checking the printed review, gammu-smsd for the SMS gateway and its tests)
# and the Python environment in .venv.
#   scripts/install.sh          everything (service + tests)
#   scripts/install.sh --app    only what the service needs
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-all}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if [ "$mode" != "--app" ]; then
    pkgs=(chromium postgresql-15 postgresql-15-postgis-3 poppler-utils fonts-noto-cjk gammu-smsd gammu)
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
.venv/bin/python -m pip install -q --upgrade pip
if [ "$mode" = "--app" ]; then
    .venv/bin/python -m pip install -q -e .
else
    .venv/bin/python -m pip install -q -e '.[test]'
fi
echo "install: done ($(.venv/bin/python --version))"
