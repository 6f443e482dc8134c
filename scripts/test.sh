#!/bin/sh
# Install everything the tests need into .venv, then lint, type-check and run the whole suite.
# Extra arguments go to pytest, e.g. `sh scripts/test.sh -k lambda`.
set -eu
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
# A broken dependency can make every test wait out its timeout: stop after 10 failures, with
# their tracebacks (pass --maxfail=0 to see them all).
exec .venv/bin/python -m pytest --maxfail=10 "$@"
