"""Workers are forked from a warm template, yet each is a fresh environment of its own."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from labkit.runtime import Runtime
from labkit.runtime.bootstrap import interpreter_command, package_dir
from labkit.runtime.environment import template_env
from labkit.runtime.forkserver import _EXIT_SECONDS, ForkServer, _Template

from .conftest import MakeSpec, payload

PROBE = """
import os, sys, time
PRELOADED = "botocore" in sys.modules
STATE = []

def lambda_handler(event, context):
    STATE.append(1)
    os.environ["LEFT_BEHIND"] = "yes"
    return {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "preloaded": PRELOADED,
        "state": len(STATE),
        "left": os.environ.get("LEFT_BEHIND_BEFORE"),
        "mine": os.environ.get("MINE"),
        "zone": time.strftime("%Z"),
        "labkit": "labkit" in sys.modules,
    }
"""


def test_worker_is_forked_from_the_warm_template(runtime: Runtime, make_spec: MakeSpec) -> None:
    """A worker starts with boto3 already imported, as a child of the runtime's process."""
    seen = payload(runtime.invoke(make_spec(PROBE), b"{}"))
    assert seen["preloaded"] is True
    assert seen["ppid"] == os.getpid()
    assert seen["zone"] == "UTC" and seen["labkit"] is False
    assert seen["pid"] not in runtime.memory()["templates"]["pids"]
    assert runtime.memory()["templates"]["processes"] >= 1


def test_forked_workers_keep_their_own_state(runtime: Runtime, make_spec: MakeSpec) -> None:
    """Module state and environment changes stay in one function's worker."""
    spec = make_spec(PROBE, name="a", environment={"MINE": "a"})  # once: a zip has a timestamp
    first = payload(runtime.invoke(spec, b"{}"))
    again = payload(runtime.invoke(spec, b"{}"))
    other = payload(runtime.invoke(make_spec(PROBE, name="b", environment={"MINE": "b"}), b"{}"))
    assert (first["state"], again["state"], other["state"]) == (1, 2, 1)
    assert first["pid"] == again["pid"] != other["pid"]
    assert (first["mine"], other["mine"]) == ("a", "b")
    assert other["left"] is None


def test_bundled_package_wins_over_the_template(runtime: Runtime, make_spec: MakeSpec) -> None:
    """A function that ships its own boto3 imports its own copy, not the template's."""
    spec = make_spec(
        files={
            "boto3/__init__.py": "WHO = 'bundled'\n",
            "lambda_function.py": (
                "import boto3\ndef lambda_handler(event, context):\n    return boto3.WHO\n"
            ),
        }
    )
    assert payload(runtime.invoke(spec, b"{}")) == "bundled"


def test_python_variables_take_effect(runtime: Runtime, make_spec: MakeSpec) -> None:
    """A PYTHON* variable the interpreter reads at start-up still takes effect."""
    code = "import sys\ndef lambda_handler(e, c):\n    return sys.flags.dont_write_bytecode\n"
    spec = make_spec(code, environment={"PYTHONDONTWRITEBYTECODE": "1"})
    assert payload(runtime.invoke(spec, b"{}")) == 1


def test_each_environment_has_its_own_hash_seed(runtime: Runtime, make_spec: MakeSpec) -> None:
    """Two environments of one function order a set of strings independently, as on AWS."""
    code = (
        "import os, sys\n"
        "def lambda_handler(event, context):\n"
        "    if event == 'crash':\n        os._exit(3)\n"
        "    return [hash('labkit-seed'), 'botocore' in sys.modules]\n"
    )
    spec = make_spec(code)
    seeds = []
    for _ in range(3):
        seed, forked = payload(runtime.invoke(spec, b'"hi"'))
        assert forked
        seeds.append(seed)
        runtime.invoke(spec, b'"crash"')
    assert len(set(seeds)) == 3


def test_crash_resets_the_environment_but_an_error_does_not(
    runtime: Runtime, make_spec: MakeSpec
) -> None:
    """A handled error keeps the worker; a crash replaces it with a newly forked one."""
    code = (
        "import os\n"
        "def lambda_handler(event, context):\n"
        "    if event == 'raise':\n        raise ValueError('no')\n"
        "    if event == 'crash':\n        os._exit(3)\n"
        "    return os.getpid()\n"
    )
    spec = make_spec(code)
    pid = payload(runtime.invoke(spec, b'"hi"'))
    assert runtime.invoke(spec, b'"raise"').function_error == "Unhandled"
    assert payload(runtime.invoke(spec, b'"hi"')) == pid
    assert runtime.invoke(spec, b'"crash"').function_error == "Unhandled"
    assert payload(runtime.invoke(spec, b'"hi"')) != pid
    assert runtime.stats()["fn"]["cold_starts"] == 2


def test_memory_counts_shared_pages_once(runtime: Runtime, make_spec: MakeSpec) -> None:
    """Worker memory is reported as RSS, PSS and USS, with USS ≤ PSS ≤ RSS."""
    pid = payload(runtime.invoke(make_spec(PROBE), b"{}"))["pid"]
    figures = runtime.memory()["functions"]["fn"]
    assert figures["processes"] == 1
    assert 0 < figures["uss_mb"] <= figures["pss_mb"] <= figures["rss_mb"]
    assert psutil.Process(pid).is_running()


def test_cold_workers_when_forking_is_off(tmp_path: Path, make_spec: MakeSpec) -> None:
    """With forking switched off a worker is a fresh interpreter without boto3 loaded."""
    with Runtime(tmp_path / "rt", base_env={}, fork_workers=False) as runtime:
        seen = payload(runtime.invoke(make_spec(PROBE), b"{}"))
        assert seen["preloaded"] is False and seen["ppid"] == os.getpid()
        assert runtime.memory()["templates"]["processes"] == 0


SETTINGS_PROBE = """
import sys
FORKED = "botocore" in sys.modules
import boto3
client = boto3.client("dynamodb")  # made during init, as the lab's functions do

def lambda_handler(event, context):
    session = boto3.session.Session()
    return {
        "forked": FORKED,
        "region": client.meta.region_name,
        "endpoint": client.meta.endpoint_url,
        "key": session.get_credentials().access_key,
        "retries": client.meta.config.retries,
        "services": "labkitdemo" in session.get_available_services(),
    }
"""


def _demo_model(root: Path) -> None:
    """A service model folder ``labkitdemo`` under ``root`` (an AWS data path)."""
    folder = root / "labkitdemo" / "2030-01-01"
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text('{"version": "2.0", "metadata": {}}')


def test_forked_workers_see_their_own_aws_settings(tmp_path: Path, make_spec: MakeSpec) -> None:
    """Region, endpoint, credentials, config file and data path come from each function's own
    environment, exactly as in a fresh interpreter."""
    config = tmp_path / "config"
    config.write_text("[default]\nretry_mode = adaptive\nmax_attempts = 7\n")
    _demo_model(tmp_path / "models")
    cases = [
        (make_spec(SETTINGS_PROBE, name="plain"), {"AWS_ACCESS_KEY_ID": "AKIAPLAIN"}),
        (
            make_spec(
                SETTINGS_PROBE,
                name="own",
                region="eu-west-1",
                environment={
                    "AWS_ENDPOINT_URL": "http://127.0.0.1:10",
                    "AWS_CONFIG_FILE": str(config),
                    "AWS_DATA_PATH": str(tmp_path / "models"),
                },
            ),
            {"AWS_ACCESS_KEY_ID": "AKIAOWN"},
        ),
    ]
    seen: dict[bool, list[dict[str, object]]] = {}
    for fork in (True, False):
        with Runtime(
            tmp_path / f"rt-{fork}",
            base_env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"},
            fork_workers=fork,
        ) as runtime:
            seen[fork] = [
                payload(
                    runtime.invoke(spec, b"{}", extra_env={**creds, "AWS_SECRET_ACCESS_KEY": "s"})
                )
                for spec, creds in cases
            ]
    plain, own = seen[True]
    assert plain["forked"] and own["forked"]
    assert (plain["region"], plain["endpoint"], plain["key"]) == (
        "us-east-1",
        "http://127.0.0.1:9",
        "AKIAPLAIN",
    )
    assert (own["region"], own["endpoint"], own["key"]) == (
        "eu-west-1",
        "http://127.0.0.1:10",
        "AKIAOWN",
    )
    assert own["retries"] == {"mode": "adaptive", "total_max_attempts": 7}
    assert (plain["services"], own["services"]) == (False, True)
    for result in seen[False]:
        result["forked"] = True
    assert seen[False] == seen[True]


def test_own_home_gets_a_fresh_interpreter(tmp_path: Path, make_spec: MakeSpec) -> None:
    """A function with its own HOME finds its ~/.aws/models (botocore reads HOME at import)."""
    home = tmp_path / "home"
    _demo_model(home / ".aws" / "models")
    with Runtime(tmp_path / "rt", base_env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}) as runtime:
        seen = payload(
            runtime.invoke(
                make_spec(SETTINGS_PROBE, environment={"HOME": str(home)}),
                b"{}",
                extra_env={"AWS_ACCESS_KEY_ID": "AKIAHOME", "AWS_SECRET_ACCESS_KEY": "s"},
            )
        )
    assert seen["services"] is True and seen["forked"] is False


def test_a_template_stopped_while_starting_releases_its_waiter() -> None:
    """A template stopped before its greeting (the oldest, pushed out by a burst of new
    environments) wakes the thread waiting for it at once, before its process has even been
    made to exit: that environment starts cold instead of waiting out the greeting's minute."""
    deaf = [sys.executable, "-c", "import time; time.sleep(60)"]  # never greets, never exits
    template = _Template(0, deaf, dict(os.environ))
    answers: list[bool] = []
    waiter = threading.Thread(target=lambda: answers.append(template.await_ready()))
    waiter.start()
    while not template.lock.locked():  # the waiter is inside await_ready
        time.sleep(0.01)
    closing = threading.Thread(target=template.close)
    closing.start()
    waiter.join(timeout=_EXIT_SECONDS / 2)  # the process gets _EXIT_SECONDS before a kill
    assert answers == [False]
    closing.join()
    assert template.pid is None


def test_a_spare_template_nobody_uses_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    """The template started ahead when a function needed a second environment is stopped once
    it has stood unused for a while; one a function took meanwhile keeps running."""
    monkeypatch.setattr(ForkServer, "SPARE_IDLE_SECONDS", 0.5)
    server = ForkServer(
        package_dir=package_dir(), command=interpreter_command(), env=template_env()
    )
    try:
        first, second = server._choose("fn"), server._choose("fn")  # and a spare, ahead
        assert first and second and len(server.pids()) == 3
        server.settle()
        assert server.pids() == [first.pid, second.pid]
        third = server._choose("fn")  # a third environment: another spare, ahead
        fourth = server._choose("fn")  # takes that spare before it is stopped
        assert third and fourth
        server.settle()
        assert server.pids() == [first.pid, second.pid, third.pid, fourth.pid]
    finally:
        server.close()
