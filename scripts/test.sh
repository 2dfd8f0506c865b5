#!/usr/bin/env bash
# The README's test command and what CI runs: install everything, lint, run the whole suite
# (unit, storage on SQLite and on a throw-away PostGIS cluster, headless-Chromium browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/ruff check src tests bench scripts
.venv/bin/ruff format --check src tests bench scripts
.venv/bin/mypy src
# The browser scripts: eslint (eslint.config.mjs) and prettier (.prettierrc.json), pinned in
# package-lock.json and installed into node_modules by install.sh.
node_modules/.bin/eslint web/static/js eslint.config.mjs
node_modules/.bin/prettier --check --log-level warn web/static/js eslint.config.mjs
exec .venv/bin/python -m pytest "$@"
