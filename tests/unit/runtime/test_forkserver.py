"""Workers are forked from a warm template, yet each is a fresh environment of its own."""

from __future__ import annotations

import os
from pathlib import Path

import psutil

from labkit.runtime import Runtime

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


SHARED_DATA_PROBE = """
import json, sys, types
root = sys.argv[1]
for name, path in (("labkit", root), ("labkit.runtime", root + "/runtime")):
    stub = types.ModuleType(name)
    stub.__path__ = [path]
    sys.modules[name] = stub
from labkit.runtime import template
if sys.argv[2] == "shared":
    template._share_botocore_data()
import boto3
seen = {}
for round_ in range(2):  # a second session reads the data the first one used
    session = boto3.session.Session()
    for service in template.SHARED_SERVICES:
        for region in ("us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1"):
            client = session.client(service, region_name=region, aws_access_key_id="a",
                                    aws_secret_access_key="b")
            model = client.meta.service_model
            seen[f"{round_} {service} {region}"] = [
                client.meta.endpoint_url, client.meta.partition, model.signature_version,
                sorted(model.operation_names),
            ]
print(json.dumps(seen, sort_keys=True))
"""


def test_shared_botocore_data_gives_the_same_clients(tmp_path: Path) -> None:
    """Clients made with the template's shared botocore data match those of a fresh process."""
    import subprocess
    import sys

    from labkit.runtime.bootstrap import package_dir

    def probe(mode: str) -> str:
        return subprocess.run(
            [sys.executable, "-P", "-c", SHARED_DATA_PROBE, str(package_dir()), mode],
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,
            env={"PATH": os.environ.get("PATH", ""), "AWS_CONFIG_FILE": os.devnull},
        ).stdout

    assert probe("shared") == probe("fresh")
