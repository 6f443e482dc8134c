"""The instructor's page in headless Chromium, and a broadcast reaching a learner's notebook.

These tests bring their own minimal fixtures (``chrome``, ``learner_jupyterlab``), so they do
not depend on the notebook tier's conftest; they skip with an install hint when Chromium or
its driver is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from labkit.instructor.testing import RunningRoom, room_server
from labkit.testing import RunningCloud, free_port

CHROMIUM = os.environ.get("LABKIT_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("LABKIT_CHROMEDRIVER", "/usr/bin/chromedriver")
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def chrome() -> Iterator[Any]:
    """A headless Chromium driven by Selenium through the system chromedriver."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.skip("needs Chromium and its driver: apt-get install chromium chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1400,1000", "--disable-gpu"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def room(tmp_path: Path) -> Iterator[RunningRoom]:
    with room_server(tmp_path / "room") as running:
        yield running


def wait_for(driver: Any, condition: Any, timeout: float = 30.0) -> Any:
    """Wait until ``condition`` holds; the page re-renders rows live, so an element found a
    moment ago may be replaced: that is retried, not a failure."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, timeout, 0.1, ignored).until(condition)


def _sync(room: RunningRoom, token: str, *events: dict[str, Any]) -> None:
    status, answer = room.request("/api/sync", {"events": list(events)}, token=token)
    assert status == 200, answer


def _check(step: str, label: str) -> dict[str, Any]:
    return {"id": f"c-{time.time_ns()}", "kind": "check", "step": step, "at": time.time(),
            "data": {"passed": False, "items": [{"label": label, "status": "fail",
                                                   "code": "x"}]}}  # fmt: skip


def _hint(step: str, tier: int) -> dict[str, Any]:
    return {"id": f"h-{time.time_ns()}", "kind": "hint", "step": step, "at": time.time(),
            "data": {"tier": tier}}  # fmt: skip


def _live(chrome: Any, room: RunningRoom, role: str = "instructor") -> None:
    from selenium.webdriver.common.by import By

    chrome.get(room.page_url(role))
    wait_for(chrome, lambda d: d.find_element(By.ID, "live").text == "live")


def test_page_loads_with_the_kits_steps(chrome: Any, room: RunningRoom) -> None:
    """The page shows the join code, a column per step in order, and goes live."""
    from selenium.webdriver.common.by import By

    _live(chrome, room)
    assert room.code in chrome.title
    columns = [th.text for th in chrome.find_elements(By.CSS_SELECTOR, "th.stepcol")]
    assert columns[:3] == ["lab1.step1", "lab1.step2", "lab1.step3"]


def test_a_check_and_a_hint_appear_live(chrome: Any, room: RunningRoom) -> None:
    """A participant who joins, fails a check and takes a hint shows up without a reload."""
    from selenium.webdriver.common.by import By

    _live(chrome, room)
    joined = room.join("table-4-left")
    row_id = f"p-{joined['participant']}"
    wait_for(chrome, lambda d: d.find_elements(By.ID, row_id))
    _sync(room, joined["token"], _check("lab1.step2", "ReduceLambdaPolicy can read the stream"))
    cell = f"#{row_id} td.cell.failing"
    wait_for(
        chrome,
        lambda d: (
            "ReduceLambdaPolicy can read the stream" in d.find_element(By.CSS_SELECTOR, cell).text
        ),
    )
    _sync(room, joined["token"], _hint("lab1.step2", 2))
    wait_for(chrome, lambda d: "H2" in d.find_element(By.CSS_SELECTOR, cell).text)
    wait_for(
        chrome,
        lambda d: "ReduceLambdaPolicy can read the stream" in d.find_element(By.ID, "room").text,
    )


def test_a_hostile_name_renders_as_text(chrome: Any, room: RunningRoom) -> None:
    """A participant named like an HTML tag shows that text, runs nothing, adds no image."""
    from selenium.webdriver.common.by import By

    before = room.join(XSS)
    _live(chrome, room)
    after = room.join(XSS)
    _sync(room, after["token"], _check("lab1.step1", XSS))
    wait_for(
        chrome, lambda d: d.find_elements(By.CSS_SELECTOR, f"#p-{after['participant']} td.failing")
    )
    for joined in (before, after):
        name = chrome.find_element(By.CSS_SELECTOR, f"#p-{joined['participant']} td.name")
        assert name.text.removesuffix(" ⚑ stuck") == XSS
    assert chrome.find_elements(By.CSS_SELECTOR, "#grid img, #room img") == []
    assert chrome.execute_script("return document.querySelectorAll('img').length") == 0


def test_helpers_are_read_only_and_see_broadcasts(chrome: Any, room: RunningRoom) -> None:
    """The helper page has no controls; a broadcast from the instructor shows on it live."""
    from selenium.webdriver.common.by import By

    _live(chrome, room, "helper")
    assert not [e for e in chrome.find_elements(By.CSS_SELECTOR, ".controls") if e.is_displayed()]
    room.admin("broadcast", {"text": "We start lab 2 now", "step": "lab2.step1"})
    wait_for(chrome, lambda d: "We start lab 2 now" in d.find_element(By.ID, "message").text)


def test_instructor_sends_a_broadcast_from_the_page(chrome: Any, room: RunningRoom) -> None:
    """The broadcast form sends the message and marker; a learner's next reply carries it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    token = room.join("listener")["token"]
    _live(chrome, room)
    form = chrome.find_element(By.ID, "broadcast")
    form.find_element(By.NAME, "text").send_keys("Look at the projector")
    Select(form.find_element(By.NAME, "step")).select_by_value("lab1.step3")
    form.find_element(By.TAG_NAME, "button").click()
    wait_for(chrome, lambda d: "Look at the projector" in d.find_element(By.ID, "message").text)
    news = room.request("/api/sync", {"events": []}, token=token)[1]
    assert news["message"] == {
        **news["message"],
        "text": "Look at the projector",
        "step": "lab1.step3",
    }


def test_the_page_resumes_after_the_server_restarts(chrome: Any, room: RunningRoom) -> None:
    """When the server comes back, the open page reconnects by itself and stays live."""
    from selenium.webdriver.common.by import By

    _live(chrome, room)
    room.stop()
    wait_for(chrome, lambda d: d.find_element(By.ID, "live").text == "reconnecting…")
    room.start()
    joined = room.join("after-the-restart")
    wait_for(chrome, lambda d: d.find_elements(By.ID, f"p-{joined['participant']}"), timeout=60)
    assert chrome.find_element(By.ID, "live").text == "live"


def test_stuck_participants_are_marked_and_sorted_first(chrome: Any, room: RunningRoom) -> None:
    """The same failure twice (threshold set on the page to 2) marks the row; sorting puts it
    first."""
    from selenium.webdriver.common.by import By

    calm, stuck = room.join("aaa-calm"), room.join("zzz-stuck")
    _live(chrome, room)
    form = chrome.find_element(By.ID, "settings")
    field = form.find_element(By.NAME, "same_failure")
    field.clear()
    field.send_keys("2")
    form.find_element(By.TAG_NAME, "button").click()
    saved = re.compile(r'name="same_failure"[^>]*value="2"')
    wait_for(chrome, lambda d: saved.search(room.request(f"/room?key={room.instructor_key}")[1]))
    for _ in range(2):
        _sync(room, stuck["token"], _check("lab1.step1", "StateTable has a stream"))
    row = f"#p-{stuck['participant']}"
    wait_for(
        chrome, lambda d: "stuck" in d.find_element(By.CSS_SELECTOR, row).get_attribute("class")
    )
    calm_row = f"p-{calm['participant']}"
    assert wait_for(
        chrome, lambda d: "stuck" not in d.find_element(By.ID, calm_row).get_attribute("class")
    )
    chrome.find_element(By.CSS_SELECTOR, 'th[data-sort="stuck"]').click()
    first_row = "#grid tbody tr"
    wait_for(
        chrome,
        lambda d: (
            d.find_element(By.CSS_SELECTOR, first_row).get_attribute("id")
            == f"p-{stuck['participant']}"
        ),
    )


# ----- a learner's notebook ---------------------------------------------------------------------
@pytest.fixture
def learner_jupyterlab(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """JupyterLab on a free port serving ``tmp_path/nb``; yields (base URL with token, folder)."""
    folder = tmp_path / "nb"
    folder.mkdir()
    port, token = free_port(), "labkit-test"
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jcfg"),
        "JUPYTER_DATA_DIR": str(tmp_path / "jdata"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jrun"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "jws"),
        "LABKIT_ROOM_HEARTBEAT": "1",
    }
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
        "--LabApp.expose_app_in_browser=True", "--allow-root",
        "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    log = open(tmp_path / "jupyterlab.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "jupyterlab.log").read_text()) from None
                time.sleep(0.1)
        yield f"{base}/lab/tree/%s?token={token}", folder
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _notebook(cells: list[str]) -> dict[str, Any]:
    return {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": source,
                "outputs": [],
                "execution_count": None,
            }
            for source in cells
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def test_a_broadcast_arrives_in_the_learners_notebook(
    chrome: Any, room: RunningRoom, own_cloud: RunningCloud, learner_jupyterlab: tuple[str, Path]
) -> None:
    """After lab.join in a notebook, the instructor's message appears under that cell."""
    from selenium.webdriver.common.by import By

    url, folder = learner_jupyterlab
    source = (
        "from labkit import Lab\n"
        f"lab = Lab(port={own_cloud.port}, data_dir={str(own_cloud.data_dir)!r})\n"
        f"lab.join({room.code!r}, name='notebook-learner', server={room.url!r})"
    )
    (folder / "room.ipynb").write_text(json.dumps(_notebook([source])))
    chrome.get(url % "room.ipynb")
    wait_for(chrome, lambda d: d.execute_script(
        "const a = window.jupyterapp; return !!(a && a.shell.currentWidget "
        "&& a.shell.currentWidget.sessionContext && a.shell.currentWidget.sessionContext.session"
        " && a.shell.currentWidget.sessionContext.session.kernel);"), timeout=90)  # fmt: skip
    chrome.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")

    def output(driver: Any) -> str:
        return str(driver.find_element(By.CSS_SELECTOR, ".jp-OutputArea").text)

    wait_for(chrome, lambda d: "notebook-learner" in output(d), timeout=90)
    room.admin("broadcast", {"text": "Pens down, look up", "step": "lab1.step2"})
    wait_for(chrome, lambda d: "Pens down, look up" in output(d), timeout=60)
    assert "lab1.step2" in output(chrome)
