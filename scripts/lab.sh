#!/bin/sh
# Install labkit into .venv, start the local cloud and open JupyterLab on the notebooks.
set -eu
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
.venv/bin/labkit up
exec .venv/bin/jupyter lab notebooks/ "$@"
