"""Helpers for testing against the local cloud: ports, zips, clients and a cloud per test."""

from __future__ import annotations

import contextlib
import io
import socket
import textwrap
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cloud import control
from .cloud.settings import DEFAULT_REGION, LEARNER_ACCESS_KEY, LEARNER_SECRET_KEY


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def make_zip(files: Mapping[str, str | bytes]) -> bytes:
    """A deployment package: file name -> source (dedented) or bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            data = textwrap.dedent(content).encode() if isinstance(content, str) else content
            archive.writestr(name, data)
    return buffer.getvalue()


@dataclass
class RunningCloud:
    """A local cloud started for a test, with a client factory that talks to it."""

    endpoint: str
    port: int
    pid: int
    data_dir: Path
    region: str = DEFAULT_REGION

    def client(self, service: str, **kwargs: Any) -> Any:
        import boto3
        from botocore.config import Config

        make_client: Any = boto3.client
        return make_client(
            service,
            endpoint_url=self.endpoint,
            region_name=kwargs.pop("region_name", self.region),
            aws_access_key_id=kwargs.pop("aws_access_key_id", LEARNER_ACCESS_KEY),
            aws_secret_access_key=kwargs.pop("aws_secret_access_key", LEARNER_SECRET_KEY),
            config=kwargs.pop("config", Config(retries={"max_attempts": 0}, read_timeout=120)),
            **kwargs,
        )

    def stop(self) -> None:
        control.stop(self.data_dir)

    def restart(self) -> None:
        control.stop(self.data_dir)
        info = control.start(self.port, self.data_dir)
        self.pid = info.pid


@contextlib.contextmanager
def local_cloud(data_dir: Path, port: int | None = None) -> Iterator[RunningCloud]:
    """Start a local cloud on a free port for the duration of the block."""
    info = control.start(port or free_port(), data_dir)
    cloud = RunningCloud(info.endpoint, info.port, info.pid, info.data_dir)
    try:
        yield cloud
    finally:
        with contextlib.suppress(control.CloudError):
            control.stop(cloud.data_dir)
