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
echo "==> installing codex-thread-store with the exact versions the tests use (constraints.txt)"
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  -c constraints.txt -e ".[dev,interop,postgres,agents,mcp,bench]"

# The interop tests run the newest Codex from the npm registry beside the pinned PyPI wheel.
npm_codex_version="0.171.0"  # keep in step with tests/interop/codex_cli.py NPM_CODEX_VERSION
installed="$(node -p "require('./.codex-npm/node_modules/@openai/codex/package.json').version" 2>/dev/null || true)"
if [ "$installed" != "$npm_codex_version" ]; then
  echo "==> installing @openai/codex@$npm_codex_version from npm (interop tests)"
  npm install --prefix .codex-npm --no-audit --no-fund --silent "@openai/codex@$npm_codex_version"
fi

# The PostgreSQL tests start throwaway servers with initdb/pg_ctl (no running service
# is used); on a fresh Debian machine install them from Debian's packages.
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  echo "==> installing PostgreSQL (Debian package) for the postgres tests"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

echo "==> ruff"
.venv/bin/ruff check src tests examples bench
.venv/bin/ruff format --check src tests examples bench
echo "==> mypy"
.venv/bin/mypy
echo "==> pytest"
.venv/bin/python -m pytest -q "$@"
