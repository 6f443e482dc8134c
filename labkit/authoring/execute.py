"""Run the solved notebooks on a fresh local cloud, so that they carry their outputs."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat

from .build import Project

CELL_TIMEOUT = 600
#: Variables that would point a notebook's kernel somewhere else than its own local cloud.
_FOREIGN = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def kernel_environment(
    data_dir: Path, port: int, base: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment for a kernel whose ``labkit.Lab()`` uses a cloud of its own."""
    env = dict(os.environ if base is None else base)
    for name in _FOREIGN:
        env.pop(name, None)
    env["LABKIT_DATA_DIR"] = str(data_dir)
    env["LABKIT_PORT"] = str(port)
    return env


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def execute(
    project: Project,
    names: list[str] | None = None,
    *,
    report: Callable[[str], object] = print,
) -> list[Path]:
    """Run the chosen solved notebooks in order on one fresh local cloud and save them."""
    from nbclient import NotebookClient

    from labkit.cloud import control
    from labkit.testing import free_port

    data_dir = Path(tempfile.mkdtemp(prefix="labkit-solutions-"))
    written: list[Path] = []
    try:
        with _environment(kernel_environment(data_dir, free_port())):
            for name in project.select(names):
                path = project.built(name, True)
                notebook = nbformat.read(path, as_version=4)
                client = NotebookClient(
                    notebook, timeout=CELL_TIMEOUT, kernel_name="python3", record_timing=False
                )
                client.execute(cwd=str(path.parent))
                nbformat.write(notebook, path)
                written.append(path)
                report(f"executed {path.relative_to(project.root)}")
    finally:
        control.stop(data_dir)
    return written
