"""What ``labkit score`` and ``labkit template`` need, without printing anything.

:mod:`labkit.cli` parses the arguments, calls these and prints the results.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from labkit.cloud import control
from labkit.cloud.auth_keys import learner_credentials
from labkit.cloud.settings import DEFAULT_REGION

from .names import LabSettings
from .scoreboard import Board
from .workshop import Workshop


class CommandError(RuntimeError):
    """A learner-facing reason why the command cannot run (exit status in ``code``)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def open_workshop(
    backend: Literal["local", "aws"],
    data_dir: Path,
    *,
    region: str | None = None,
    prefix: str | None = None,
) -> Workshop:
    """The workshop of the running local cloud, or of the AWS account in the environment."""
    import boto3

    if backend == "aws":
        session = boto3.session.Session(region_name=region)
        if session.region_name is None:
            raise CommandError("The aws backend needs a region: pass --region or set AWS_REGION.")
        return Workshop(
            region=session.region_name,
            data_dir=data_dir,
            backend="aws",
            session=session,
            prefix=prefix,
        )
    running = control.find_running(data_dir.expanduser().resolve())
    if running is None:
        raise CommandError(
            f"The local cloud is not running (data dir {data_dir}). Start it: labkit up", 3
        )
    chosen = region or DEFAULT_REGION
    credentials = learner_credentials(running.data_dir)
    session = boto3.session.Session(
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        region_name=chosen,
    )
    return Workshop(
        region=chosen,
        data_dir=running.data_dir,
        backend="local",
        endpoint_url=running.endpoint,
        session=session,
        prefix=prefix,
    )


def read_board(workshop: Workshop) -> Board:
    """The scoreboard, or a :class:`CommandError` saying why it cannot be read."""
    try:
        return workshop.board()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            raise CommandError(
                f"There is no {workshop.names.parameter_table} yet: the scoreboard starts once "
                "the lab's tables exist (lab1.step1).",
                4,
            ) from None
        raise CommandError(f"Could not read the scoreboard: {error}") from None
    except BotoCoreError as error:
        raise CommandError(f"Could not reach the backend: {error}") from None


def template_text(
    *,
    backend: Literal["local", "aws"] = "aws",
    prefix: str | None = None,
    step: str | None = None,
    solved: bool = False,
    code: Literal["s3", "inline"] = "s3",
    shards: int | None = None,
) -> str:
    """The lab's CloudFormation template as JSON text."""
    settings = LabSettings.for_backend(backend, prefix)
    if shards is not None:
        settings = dataclasses.replace(settings, shard_count=shards)
    workshop = Workshop(region="us-east-1", data_dir=".", backend=backend, settings=settings)
    try:
        document: dict[str, Any] = workshop.template(step, solved=solved, code=code)
    except ValueError as error:
        raise CommandError(str(error), 2) from None
    return json.dumps(document, indent=2) + "\n"
