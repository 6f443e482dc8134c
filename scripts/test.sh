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
# Two test processes (pytest-xdist), one per core of the reference machine: most tests wait on a
# local cloud in another process, so two halve the wall time. A module stays in one process (its
# fixtures are shared). A broken dependency can make every test wait out its timeout: stop after
# 10 failures, with their tracebacks (pass --maxfail=0 to see them all, -n 0 for one process).
exec .venv/bin/python -m pytest -n 2 --dist loadfile --maxfail=10 "$@"
