#!/usr/bin/env bash
# Sets up .venv on a fresh machine (if needed) and runs every check:
# ruff (lint + format), mypy (strict) and the full pytest suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k conformance`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($python --version)"
  "$python" -m venv .venv
fi
echo "==> installing codex-thread-store with its pinned test dependencies"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev,interop]"

echo "==> ruff"
.venv/bin/ruff check src tests examples bench
.venv/bin/ruff format --check src tests examples bench
echo "==> mypy"
.venv/bin/mypy
echo "==> pytest"
.venv/bin/python -m pytest -q "$@"
