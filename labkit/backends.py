"""Where the lab runs: the embedded local cloud (default) or a real AWS account."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .cloud import control
from .cloud.auth_keys import learner_credentials
from .cloud.client_env import point_boto3_at
from .cloud.settings import DEFAULT_REGION, default_data_dir

BACKENDS = ("local", "aws")


class BackendError(ValueError):
    """An unknown backend or a backend that cannot be used as configured."""


@dataclass(frozen=True)
class Backend:
    name: str
    region: str
    endpoint: str | None
    data_dir: Path

    @property
    def is_local(self) -> bool:
        return self.name == "local"


def connect(
    backend: str = "local",
    *,
    region: str | None = None,
    port: int | None = None,
    data_dir: Path | str | None = None,
) -> Backend:
    """Start or find the backend and make plain boto3 in this process use it."""
    directory = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    if backend == "local":
        info = control.start(port, directory)
        chosen_region = region or DEFAULT_REGION
        point_boto3_at(info.endpoint, learner_credentials(info.data_dir), chosen_region)
        return Backend("local", chosen_region, info.endpoint, info.data_dir)
    if backend == "aws":
        import boto3

        session = boto3.session.Session(region_name=region)
        if session.region_name is None:
            raise BackendError(
                "The aws backend needs a region: pass Lab(backend='aws', region='us-west-2') "
                "or set AWS_DEFAULT_REGION."
            )
        if session.get_credentials() is None:
            raise BackendError(
                "The aws backend found no AWS credentials. Configure them the usual way "
                "(aws configure, AWS_PROFILE, or environment variables) and try again."
            )
        return Backend("aws", session.region_name, None, directory)
    raise BackendError(f"Unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}.")
