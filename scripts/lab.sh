#!/bin/sh
# Install labkit into .venv, start the local cloud and open JupyterLab on the notebooks.
set -eu
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
.venv/bin/labkit up
# Jupyter refuses to run as root unless told; containers and cloud shells often are root.
[ "$(id -u)" = 0 ] && set -- --allow-root "$@"
# The kit's JupyterLab settings: no news prompt, widget state saved with the notebook.
exec .venv/bin/jupyter lab notebooks/ --LabApp.app_settings_dir="$PWD/labkit/ui/jupyterlab" "$@"
