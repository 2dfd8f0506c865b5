#!/usr/bin/env bash
# The README's test command and what CI runs: install everything, lint, run the whole suite
# (unit, storage on SQLite and on a throw-away PostGIS cluster, headless-Chromium browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/ruff check src tests bench scripts
.venv/bin/ruff format --check src tests bench scripts
.venv/bin/mypy src
exec .venv/bin/python -m pytest "$@"
