"""The local cloud process: ``python -m labkit.cloud.server --port N --data-dir DIR``.

It serves the AWS APIs on 127.0.0.1 with moto behind labkit's front, runs Lambda functions in
labkit's runtime, writes snapshots, and answers ``/_labkit/...`` for the labkit client.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from cheroot.wsgi import Server as WSGIServer

from labkit.esm import IdleTimeout
from labkit.runtime.memory import process_memory

from . import ddb_streams, notifications, patches
from .auth import Door
from .auth_host import Origins
from .auth_keys import Credentials, learner_credentials, private_dir
from .awsrequest import AwsRequest
from .ddb_idempotency import TokenStore
from .esm_service import EsmService
from .esm_sources import DynamoDBStreamSource, SourceNotFound, open_source
from .front import Front
from .iam_gate import FunctionRoleGate
from .lambda_service import LambdaService, RoleKeys
from .replies import Reply, json_reply
from .service_routes import KinesisWriteListener, dynamodb_routes, lambda_routes, sqs_routes
from .settings import HOST, CloudPaths, endpoint_for
from .snapshot import Snapshotter

log = logging.getLogger("labkit.cloud")

SERVICE_NAME = "labkit-local-cloud"
READ_ONLY_PREFIXES = ("Get", "List", "Describe", "Scan", "Query", "BatchGet")
#: Requests served at once. Some wait a long time (a synchronous Invoke waits for its function,
#: which calls back into the cloud; SQS long polls; wait-idle), so there are plenty.
SERVER_THREADS = 48
#: Idle client connections kept open; every boto3 client keeps some alive between requests.
MAX_IDLE_CONNECTIONS = 500
#: An idle connection is closed after this long; a request must arrive within it, too.
CONNECTION_TIMEOUT_S = 60


class _Stop(SystemExit):
    """SIGTERM or SIGINT: leave the server loop and shut down cleanly (cheroot's loop lets
    SystemExit through and logs any other exception)."""


class _HttpServer(WSGIServer):  # type: ignore[misc]
    """cheroot's threaded HTTP/1.1 server: connections stay open between requests, and a pool
    of threads serves them, with its messages going to the cloud's log, not to a terminal."""

    keep_alive_conn_limit = MAX_IDLE_CONNECTIONS

    def __init__(self, app: Any, port: int) -> None:
        super().__init__(
            (HOST, port),
            app,
            numthreads=SERVER_THREADS,
            server_name="labkit",
            request_queue_size=128,
            timeout=CONNECTION_TIMEOUT_S,
        )

    def error_log(self, msg: str = "", level: int = 20, traceback: bool = False) -> None:
        log.log(level, "http server: %s", msg, exc_info=traceback)


def _changes_state(request: AwsRequest) -> bool:
    operation = request.target or request.form.get("Action")
    if operation:
        return not operation.startswith(READ_ONLY_PREFIXES)
    return request.method not in {"GET", "HEAD"}


class Cloud:
    """Everything the cloud process runs, wired together."""

    def __init__(
        self,
        port: int,
        data_dir: Path,
        cors_origins: tuple[str, ...] = (),
        *,
        guarded: bool = True,
    ) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from labkit.runtime import Runtime

        self.port = port
        self.paths = CloudPaths(data_dir)
        self.endpoint = endpoint_for(port)
        self.started_at = time.time()
        patches.install()

        self.tokens = TokenStore()
        self.learner = learner_credentials(data_dir)
        self.roles = RoleKeys(self.learner.secret_key)
        self.cors_origins = cors_origins
        self.runtime = Runtime(
            self.paths.runtime_dir,
            base_env={"AWS_ENDPOINT_URL": self.endpoint},
            log_sink=self._write_logs,
        )
        self.lambdas = LambdaService(self.runtime, self.roles)
        patches.moto_invoke_hook = self.lambdas.invoke_from_moto

        self.esm = EsmService(self.lambdas, self.paths.state_dir)
        self.lambdas.concurrency_listeners.append(self.esm.engine.notify_function)

        self.snapshots = Snapshotter(self.paths.state_dir, self._extras)
        self.front = Front(
            DomainDispatcherApplication(create_backend_app),
            door=Door(self._credentials_of, Origins(port, cors_origins)) if guarded else None,
        )
        self.front.gates.append(FunctionRoleGate(self.roles.role_for))
        self.front.add_routes(self.esm.routes())
        self.front.add_routes(lambda_routes(self.lambdas))
        self.front.add_routes(dynamodb_routes(self.tokens))
        self.front.add_routes(sqs_routes())
        self.stream_listeners: list[Any] = [self.esm.engine.notify]
        self.front.on_forwarded.append(KinesisWriteListener(self._stream_written))
        self.front.on_forwarded.append(self._after_forward)
        self.front.gates.insert(0, self._internal)
        ddb_streams.record_listener = self._stream_written
        self.requests = notifications.install(self.front, self.lambdas, self.roles)

    def _credentials_of(self, access_key: str) -> Credentials | None:
        """The learner's credentials (the administrator), or a function role's."""
        if access_key == self.learner.access_key:
            return self.learner
        return self.roles.lookup(access_key)

    # ----- state ----------------------------------------------------------------------------
    def _extras(self) -> dict[str, Any]:
        return {"tokens": self.tokens, "mappings": self.esm.saved_state()}

    def restore(self) -> None:
        extras = self.snapshots.restore()
        if "tokens" in extras:
            self.tokens.__setstate__(extras["tokens"].__getstate__())
        self.esm.restore(extras.get("mappings", []))

    def _after_forward(self, request: AwsRequest, reply: Reply) -> None:
        if reply.status < 300 and _changes_state(request):
            self.snapshots.mark_dirty()

    def _write_logs(self, group: str, stream: str, lines: Any) -> None:
        self.lambdas.write_logs(group, stream, lines)
        self.snapshots.mark_dirty()

    def _stream_written(self, stream_arn: str) -> None:
        self.snapshots.mark_dirty()
        for listener in self.stream_listeners:
            listener(stream_arn)

    # ----- /_labkit/ endpoints --------------------------------------------------------------
    def _internal(self, request: AwsRequest) -> Reply | None:
        if not request.path.startswith("/_labkit/"):
            return None
        if request.path == "/_labkit/health":
            # Without this cloud's signature, say only what answers here: nothing of its owner.
            return json_reply(self.health() if request.signed else {"service": SERVICE_NAME})
        if request.path == "/_labkit/status":
            return json_reply(self.status())
        if request.path == "/_labkit/wait-idle":
            timeout = float(request.query.get("timeout", ["30"])[0])
            try:
                self.esm.wait_idle(timeout)
            except IdleTimeout as busy:
                return json_reply({"idle": False, "message": str(busy)}, 408)
            return json_reply({"idle": True})
        if request.path == "/_labkit/backdate-stream":
            return self._backdate_stream(request)
        return json_reply({"message": f"unknown labkit endpoint {request.path}"}, 404)

    def _backdate_stream(self, request: AwsRequest) -> Reply:
        """Age a DynamoDB stream's records (``?arn=STREAM_ARN&seconds=N``)."""
        arn = request.query.get("arn", [""])[0]
        try:
            seconds = float(request.query.get("seconds", ["0"])[0])
            source = open_source(arn)
        except (ValueError, SourceNotFound) as problem:
            return json_reply({"message": f"cannot backdate {arn!r}: {problem}"}, 400)
        if not isinstance(source, DynamoDBStreamSource):
            return json_reply({"message": "only DynamoDB streams can be backdated"}, 400)
        return json_reply({"records": source.backdate(seconds)})

    def health(self) -> dict[str, Any]:
        return {
            "service": SERVICE_NAME,
            "pid": os.getpid(),
            "port": self.port,
            "endpoint": self.endpoint,
            "data_dir": str(self.paths.data_dir),
            "started_at": self.started_at,
            "cors_origins": list(self.cors_origins),
        }

    def memory(self) -> dict[str, Any]:
        """The cloud process and its function workers: RSS, PSS and USS in MB."""
        figures = self.runtime.memory()
        cloud = process_memory(os.getpid())
        total = figures["total"]
        return {
            "cloud": cloud,
            **figures,
            "all": {
                key: round(cloud[key] + total[key], 1) for key in ("rss_mb", "pss_mb", "uss_mb")
            },
        }

    def status(self) -> dict[str, Any]:
        return {
            **self.health(),
            "uptime_seconds": round(time.time() - self.started_at, 1),
            "snapshots_written": self.snapshots.saves,
            "snapshot_clean": self.snapshots.clean,
            "functions": self.runtime.stats(),
            "memory": self.memory(),
            "event_source_mappings": self.esm.engine.stats(),
            **self.requests.snapshot(),
        }

    # ----- running --------------------------------------------------------------------------
    def serve(self) -> None:
        server = _HttpServer(self.front, self.port)
        server.prepare()  # binds the port, or raises OSError
        self.restore()
        self.esm.engine.start()
        self.snapshots.start()

        def shut_down(signum: int, frame: Any) -> None:
            # The server loop runs in this (the main) thread; leaving it stops the server.
            raise _Stop

        signal.signal(signal.SIGTERM, shut_down)
        signal.signal(signal.SIGINT, shut_down)
        self.paths.info_file.write_text(json.dumps(self.health()))
        self.paths.pid_file.write_text(str(os.getpid()))
        log.info("local cloud ready on %s", self.endpoint)
        try:
            server.serve()
        except _Stop:
            pass
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            log.info("stopping: writing the final snapshot")
            server.stop()
            self.esm.engine.stop()
            self.snapshots.stop()
            self.runtime.shutdown()
            for path in (self.paths.pid_file, self.paths.info_file):
                path.unlink(missing_ok=True)
            log.info("stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labkit-cloud", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--cors-origin", action="append", default=[], dest="cors_origins")
    # Benchmarks only: serve without the door (no Host, origin or signature checks), to
    # measure what the checks cost. Never for learners.
    parser.add_argument("--unguarded", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    data_dir: Path = private_dir(args.data_dir)
    logging.basicConfig(
        filename=str(CloudPaths(data_dir).log_file),
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The cloud is self-contained: nothing of the learner's AWS configuration applies inside it.
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        del os.environ[name]
    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
    try:
        Cloud(args.port, data_dir, tuple(args.cors_origins), guarded=not args.unguarded).serve()
    except OSError as error:
        log.error("could not serve on %s:%s: %s", HOST, args.port, error)
        print(f"labkit: cannot listen on {HOST}:{args.port}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
