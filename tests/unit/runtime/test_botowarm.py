"""The template's botocore warm-up changes how fast a first client is made, never what it is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from labkit.runtime.bootstrap import package_dir

# Run in a fresh interpreter, with or without the warm-up (argv[2]); prints what boto3 tells a
# function about its clients, sessions, data folders and event handlers.
PROBE = """
import json, os, sys, types
root = sys.argv[1]
for name, path in (("labkit", root), ("labkit.runtime", root + "/runtime")):
    stub = types.ModuleType(name)
    stub.__path__ = [path]
    sys.modules[name] = stub
from labkit.runtime import botowarm
if sys.argv[2] == "warm":
    botowarm.prepare()
os.environ.update(json.loads(sys.argv[3]))  # the function's own settings come after the fork
import boto3
from botocore import handlers, hooks

def kwargs_only(event_name):
    pass

seen = {}
for round_ in range(2):  # a second session reads the data the first one used
    session = boto3.session.Session()
    seen[f"{round_} services"] = session.get_available_services()
    seen[f"{round_} resources"] = session.get_available_resources()
    loader = session._loader
    seen[f"{round_} versions"] = {
        name: loader.list_api_versions(name, "service-2")
        for name in ("dynamodb", "s3", "labkitdemo")
        if name in seen[f"{round_} services"]
    }
    credentials = session.get_credentials()
    seen[f"{round_} credentials"] = credentials and credentials.access_key
    for service in (*botowarm.SHARED_SERVICES, "labkitdemo", "apigateway"):
        if service not in seen[f"{round_} services"]:
            continue
        for region in (None, "eu-west-1", "cn-north-1"):
            client = session.client(service, region_name=region)
            model = client.meta.service_model
            seen[f"{round_} {service} {region}"] = [
                client.meta.region_name, client.meta.endpoint_url, client.meta.partition,
                model.signature_version, model.api_version, sorted(model.operation_names),
                client.meta.config.retries, client.meta.config.connect_timeout,
            ]
    try:
        session.events.register("before-call.dynamodb", kwargs_only)
    except ValueError as exc:
        seen[f"{round_} refused"] = str(exc).replace(repr(kwargs_only), "handler")
aliaser = hooks.EventAliaser(hooks.HierarchicalEmitter())
names = {spec[0] for spec in handlers.BUILTIN_HANDLERS}
names |= {f"before-call.{old}.Op" for old in hooks.EVENT_ALIASES}
seen["aliases"] = {name: aliaser._alias_event_name(name) for name in sorted(names)}
custom = hooks.EventAliaser(hooks.HierarchicalEmitter(), {"s3": "renamed", "sqs": "renamed"})
seen["custom aliases"] = {name: custom._alias_event_name(name) for name in sorted(names)}
seen["accepts"] = [hooks.accepts_kwargs(spec[1]) for spec in handlers.BUILTIN_HANDLERS]
print(json.dumps(seen, sort_keys=True, default=str))
"""


def _probe(mode: str, cwd: Path, settings: dict[str, str]) -> dict[str, object]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(cwd / "home"),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    done = subprocess.run(
        [sys.executable, "-P", "-c", PROBE, str(package_dir()), mode, json.dumps(settings)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    seen: dict[str, object] = json.loads(done.stdout)
    return seen


def _model_folder(root: Path, service: str, version: str) -> Path:
    """A data folder holding a small service model, as AWS_DATA_PATH or ~/.aws/models can."""
    folder = root / service / version
    folder.mkdir(parents=True)
    model = {
        "version": "2.0",
        "metadata": {
            "apiVersion": version,
            "endpointPrefix": service,
            "protocol": "json",
            "serviceId": service,
            "signatureVersion": "v4",
            "signingName": service,
            "targetPrefix": service,
            "uid": f"{service}-{version}",
        },
        "operations": {
            "Ping": {"name": "Ping", "http": {"method": "POST", "requestUri": "/"}},
        },
        "shapes": {},
    }
    (folder / "service-2.json").write_text(json.dumps(model))
    return folder


def test_warm_clients_match_fresh_ones(tmp_path: Path) -> None:
    """With the warm-up, sessions and clients are exactly those of a fresh interpreter."""
    settings = {
        "AWS_DEFAULT_REGION": "ap-southeast-2",
        "AWS_ACCESS_KEY_ID": "AKIAFUNCTION",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }
    warm, fresh = _probe("warm", tmp_path, settings), _probe("fresh", tmp_path, settings)
    assert warm == fresh
    assert warm["0 credentials"] == "AKIAFUNCTION"
    assert warm["0 dynamodb None"][:2] == ["ap-southeast-2", "http://127.0.0.1:9"]  # type: ignore[index]
    assert "must accept keyword" in str(warm["0 refused"])


def test_extra_data_folders_are_still_read(tmp_path: Path) -> None:
    """Models on AWS_DATA_PATH and in ~/.aws/models are found with the warm-up as without it,
    and a newer model there wins over the packaged one."""
    extra = tmp_path / "extra"
    _model_folder(extra, "labkitdemo", "2030-01-01")
    _model_folder(extra, "dynamodb", "2030-01-01")
    _model_folder(tmp_path / "home" / ".aws" / "models", "labkitdemo", "2031-01-01")
    settings = {"AWS_DATA_PATH": str(extra), "AWS_DEFAULT_REGION": "us-east-1"}
    warm, fresh = _probe("warm", tmp_path, settings), _probe("fresh", tmp_path, settings)
    assert warm == fresh
    assert "labkitdemo" in warm["0 services"]  # type: ignore[operator]
    assert warm["0 versions"]["dynamodb"][-1] == "2030-01-01"  # type: ignore[index]
    assert warm["0 versions"]["labkitdemo"] == ["2030-01-01", "2031-01-01"]  # type: ignore[index]
    assert warm["1 dynamodb None"][4] == "2030-01-01"  # type: ignore[index]
