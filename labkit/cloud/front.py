"""The cloud's front door: a WSGI app in front of moto's server.

A few operations belong to labkit (they need behaviour moto lacks); everything else passes
through to moto unchanged, one request at a time under the moto lock.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.test import run_wsgi_app

from .auth import Admitted, Door, read_body
from .auth_limits import DEFAULT_LIMIT
from .awsrequest import AwsRequest, from_environ, request_headers
from .moto_direct import DirectDispatch
from .mutex import MOTO_LOCK
from .replies import Reply, json_protocol_error

log = logging.getLogger("labkit.cloud.front")

Forward = Callable[[bytes | None], Reply]
Handler = Callable[[AwsRequest, Forward], Reply]


@dataclass(frozen=True)
class Route:
    """Which requests a handler takes: by service, and by method + path or by target."""

    service: str
    handler: Handler
    method: str | None = None
    path: re.Pattern[str] | None = None
    target: str | None = None

    def matches(self, request: AwsRequest) -> bool:
        if request.service != self.service:
            return False
        if self.target is not None and request.target != self.target:
            return False
        if self.method is not None and request.method != self.method:
            return False
        return self.path is None or bool(self.path.fullmatch(request.path))


class Front:
    """Routes requests; calls ``on_forwarded`` after each request moto handled."""

    def __init__(
        self,
        moto_app: Any,
        routes: Iterable[Route] = (),
        door: Door | None = None,
        *,
        direct: bool | None = None,
    ) -> None:
        self.moto_app = moto_app
        # JSON-protocol requests skip moto's Flask layer (see ``cloud.moto_direct``), which
        # would only add CORS headers; by default only behind a door, which drops those anyway.
        if direct is None:
            direct = door is not None
        self.direct = DirectDispatch(moto_app) if direct else None
        #: Who may come in (Host, origin, size, signature); None lets every request in.
        self.door = door
        self.routes: list[Route] = list(routes)
        self.gates: list[Callable[[AwsRequest], Reply | None]] = []
        self.on_forwarded: list[Callable[[AwsRequest, Reply], None]] = []

    def add_routes(self, routes: Iterable[Route]) -> None:
        self.routes.extend(routes)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        headers = request_headers(environ)
        try:
            reply = self._serve(environ, headers)
        except Exception:
            log.exception(
                "unexpected failure serving %s %s",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
            )
            reply = json_protocol_error(
                "InternalFailure", "The local cloud hit an unexpected error; see cloud.log.", 500
            )
        if self.door is not None:
            reply = self.door.finish(environ, headers, reply)
        start_response(
            f"{reply.status} {_REASONS.get(reply.status, 'Status')}",
            [*reply.headers.items(), ("Content-Length", str(len(reply.body)))],
        )
        return [reply.body]

    def _serve(self, environ: dict[str, Any], headers: dict[str, str]) -> Reply:
        if self.door is None:
            body = read_body(environ, DEFAULT_LIMIT)
            admitted = Admitted(body if isinstance(body, bytes) else b"", None)
        else:
            outcome = self.door.admit(environ, headers)
            if isinstance(outcome, Reply):
                return outcome
            admitted = outcome
        request = from_environ(environ, admitted.body, headers)
        if admitted.caller is not None:
            # The verified signer, also for presigned URLs (whose key is in the query).
            request.access_key = admitted.caller.credentials.access_key
            request.service = admitted.caller.service
            request.region = admitted.caller.region
        request.signed = admitted.caller is not None or self.door is None
        return self.dispatch(request, environ)

    def dispatch(self, request: AwsRequest, environ: dict[str, Any]) -> Reply:
        for gate in self.gates:
            refusal = gate(request)
            if refusal is not None:
                return refusal

        def forward(new_body: bytes | None) -> Reply:
            return self.forward(request, environ, request.body if new_body is None else new_body)

        for route in self.routes:
            if route.matches(request):
                return route.handler(request, forward)
        return forward(None)

    def forward(self, request: AwsRequest, environ: dict[str, Any], body: bytes) -> Reply:
        """Let moto serve the request (with ``body``), holding the moto lock throughout."""
        moto_environ = dict(environ)
        moto_environ["wsgi.input"] = io.BytesIO(body)
        moto_environ["CONTENT_LENGTH"] = str(len(body))
        # moto reads S3 keys from the undecoded path (RAW_URI); cheroot calls it REQUEST_URI.
        moto_environ.setdefault("RAW_URI", environ.get("REQUEST_URI", ""))
        with MOTO_LOCK:
            served = None if self.direct is None else self.direct.serve(moto_environ)
            if served is None:
                served = _through_wsgi(self.moto_app, moto_environ)
        status, headers, data = served
        reply = Reply(
            int(status.split(" ", 1)[0]),
            data,
            {k: v for k, v in headers if k.lower() not in _HOP_HEADERS},
        )
        for listener in self.on_forwarded:
            listener(request, reply)
        return reply


def _through_wsgi(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    app_iter, status, headers = run_wsgi_app(app, environ, buffered=True)
    try:
        data = b"".join(app_iter)
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    return status, list(headers.items()), data


_HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "server", "date"}
_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
}
