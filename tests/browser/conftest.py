"""The browser tier: JupyterLab in headless Chromium, driven by Selenium with the system driver.

Fixtures:

* ``browser``: a headless Debian Chromium (``/usr/bin/chromium`` with ``/usr/bin/chromedriver``,
  nothing downloaded) with a fresh profile. Where Chromium is missing, the tests skip and say
  how to install it.
* ``jupyterlab``: a JupyterLab server of the test's own (a free port, a token, the kit's
  settings, its own Jupyter and labkit data directories, so its kernels start their own local
  cloud), serving a temporary folder. ``jupyterlab.copy(name)`` puts a copy of a notebook there.
* ``JupyterPage`` drives one notebook page: run all, save, restart the kernel, reload.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from labkit.authoring.execute import kernel_environment
from labkit.cloud import control
from labkit.testing import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL = "apt-get install chromium chromium-driver"
SETTINGS = ROOT / "labkit" / "ui" / "jupyterlab"
PAGE_TIMEOUT = 60.0


def _missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            return f"{path} is missing: the browser tests need Debian's Chromium ({INSTALL})"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return 'selenium is not installed: pip install -e ".[test]"'
    return None


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless Chromium with a fresh profile (skips where Chromium is not installed)."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(PAGE_TIMEOUT)
    try:
        yield driver
    finally:
        driver.quit()


@dataclass
class JupyterLab:
    """A running JupyterLab server of one test."""

    url: str
    token: str
    root: Path
    data_dir: Path

    def copy(self, name: str, *, solved: bool = True, extra_cells: tuple[str, ...] = ()) -> str:
        """Copy a notebook (outputs cleared) into the served folder; returns its file name."""
        source = ROOT / ("solutions" if solved else "notebooks") / f"{name}.ipynb"
        notebook = nbformat.read(source, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        notebook.metadata.pop("widgets", None)
        notebook.cells.extend(nbformat.v4.new_code_cell(text) for text in extra_cells)
        target = f"{name}.ipynb"
        nbformat.write(notebook, self.root / target)
        return target

    def api(self, method: str, path: str) -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
            data=b"{}" if method == "POST" else None,
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def page(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}&reset"


def _wait_until_up(url: str, token: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + PAGE_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"JupyterLab did not start:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    """JupyterLab on a free port with a token, its own settings, cloud and data directories
    (one per test module)."""
    if _missing():
        pytest.skip(_missing() or "")
    tmp_path = tmp_path_factory.mktemp("jupyterlab")
    root, home, data_dir = tmp_path / "work", tmp_path / "jupyter", tmp_path / "labkit"
    root.mkdir()
    # Every cell stays in the page (no windowing), so the tests can read outputs anywhere.
    tracker = home / "user-settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    port, token = free_port(), secrets.token_hex(16)
    env = kernel_environment(data_dir, free_port())
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        JUPYTER_PLATFORM_DIRS="1",
    )
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.app_settings_dir={SETTINGS}",
        "--LabApp.expose_app_in_browser=True",
        "--ServerApp.disable_check_xsrf=True",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = tmp_path / "jupyterlab.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, token, process, log)
        yield JupyterLab(url, token, root, data_dir)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        control.stop(data_dir)
        shutil.rmtree(home, ignore_errors=True)


class JupyterPage:
    """One notebook open in JupyterLab, driven through JupyterLab's own commands."""

    def __init__(self, driver: Any, lab: JupyterLab, name: str) -> None:
        self.driver, self.lab, self.name = driver, lab, name

    def open(self) -> JupyterPage:
        self.driver.get(self.lab.page(self.name))
        self.wait_for(
            "the notebook to open with its kernel",
            lambda: self.script(
                "const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                "return !!(w && w.content && w.content.widgets && w.content.widgets.length"
                " && w.sessionContext && w.sessionContext.session"
                " && w.sessionContext.session.kernel"
                " && w.sessionContext.kernelDisplayStatus === 'idle');"
            ),
        )
        return self

    def script(self, code: str) -> Any:
        return self.driver.execute_script(code)

    def command(self, name: str) -> None:
        self.script(f"window.jupyterapp.commands.execute({json.dumps(name)}); return true;")

    def wait_for(self, what: str, condition: Callable[[], Any], timeout: float = 120.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = condition()
            if found:
                return found
            time.sleep(0.25)
        raise AssertionError(f"waited {timeout:.0f} s for {what}; the page shows:\n{self.text()}")

    def run_all(self, timeout: float = 150.0) -> None:
        """Run every cell and wait until each has run and the kernel is idle."""
        self.command("notebook:run-all-cells")
        self.wait_for(
            "every cell to run",
            lambda: self.script(
                "const w = window.jupyterapp.shell.currentWidget;"
                "const cells = w.content.widgets.filter(c => c.model.type === 'code');"
                "return cells.every(c => c.model.executionCount !== null"
                " && c.promptNode && !c.promptNode.textContent.includes('*'))"
                " && w.sessionContext.kernelDisplayStatus === 'idle';"
            ),
            timeout,
        )

    def save(self) -> None:
        self.command("docmanager:save")
        self.wait_for(
            "the notebook to be saved",
            lambda: self.script(
                "const w = window.jupyterapp.shell.currentWidget;return !w.context.model.dirty;"
            ),
        )

    def restart_kernel(self) -> None:
        """Restart the notebook's kernel (as the Kernel menu does, without its dialog)."""
        sessions = self.lab.api("GET", "/api/sessions")
        kernel = next(s["kernel"]["id"] for s in sessions if s["path"].endswith(self.name))
        self.lab.api("POST", f"/api/kernels/{kernel}/restart")

    def text(self) -> str:
        return str(self.script("return document.body.innerText;"))

    def outputs_text(self) -> str:
        return str(
            self.script(
                "return Array.from(document.querySelectorAll('.jp-OutputArea-output'))"
                ".map(n => n.innerText).join('\\n');"
            )
        )

    def saved(self) -> Any:
        return nbformat.read(self.lab.root / self.name, as_version=4)
