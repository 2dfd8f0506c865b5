#!/usr/bin/env bash
# Installs floodpost and starts it on the embedded SQLite store with the Suining geodata and the
# replayed June 2017 flood (demo data). The sign-in accounts are printed at start.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --app
exec .venv/bin/floodpost demo --speed max --host "${FLOODPOST_HOST:-127.0.0.1}" --port "${FLOODPOST_PORT:-8000}" "$@"
