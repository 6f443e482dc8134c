"""moto's JSON-protocol services served without the Flask app around them.

moto's server wraps each service in a Flask app whose views call the service's response class
(``DynamoHandler.dispatch`` and the like) through ``convert_to_flask_response``. For the JSON
protocols (a ``POST /`` naming its operation in ``X-Amz-Target``: DynamoDB, DynamoDB Streams,
Kinesis, SQS, CloudWatch Logs, ...) the Flask layer adds nothing but work: a request context, URL
routing, response finalising and CORS headers, which the front drops anyway. The lab's pipeline
makes one such request per trade, so :class:`DirectDispatch` finds the view moto's own app would
run (moto chooses the service, as before), builds moto's request object from the same environ and
calls the view's callback the way ``convert_to_flask_response`` does. Everything else (S3, Lambda's
REST API, moto's own API) still goes through Flask.

``tests/unit/cloud/test_moto_direct.py`` sends the same requests both ways and compares every
status, header and body.
"""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import HTTPException


class DirectDispatch:
    """Serves JSON-protocol requests straight from moto's response classes."""

    def __init__(self, dispatcher: Any) -> None:
        #: moto's ``DomainDispatcherApplication`` (it picks the service's Flask app).
        self.dispatcher = dispatcher
        #: The view callback of each service app for ``POST /``, or None where there is none.
        self._callbacks: dict[int, Any] = {}

    @staticmethod
    def applies_to(environ: dict[str, Any]) -> bool:
        """True for a JSON-protocol request: ``POST /`` with an ``X-Amz-Target``."""
        return (
            environ.get("REQUEST_METHOD") == "POST"
            and environ.get("PATH_INFO") == "/"
            and not environ.get("QUERY_STRING")
            and "HTTP_X_AMZ_TARGET" in environ
        )

    def serve(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """(status line, headers, body), or None when the request needs moto's Flask app."""
        if not self.applies_to(environ):
            return None
        app = self.dispatcher.get_application(environ)
        callback = self._callback_of(app)
        if callback is None:
            return None
        from flask import Response  # as moto's view builds it (text/html by default)
        from moto.moto_api import recorder
        from moto.moto_server.werkzeug_app import BackendRequest

        request = BackendRequest(environ)
        recorder._record_request(request)
        try:
            result = _call(callback, request)
            if len(result) == 3:
                status, headers, content = result
            else:
                status, headers, content = 200, {}, result
            response: Any = Response(response=content, status=status, headers=headers)
        except HTTPException as refusal:
            response = refusal.get_response(environ)
        body = response.get_data()
        return response.status, list(response.headers.items()), body

    def _callback_of(self, app: Any) -> Any:
        key = id(app)
        if key not in self._callbacks:
            self._callbacks[key] = _post_root_callback(app)
        return self._callbacks[key]


def _call(callback: Any, request: Any) -> Any:
    from botocore.exceptions import ClientError

    try:
        return callback(request, request.raw_url, dict(request.headers))
    except ClientError as exc:
        return 400, {}, exc.response["Error"]["Message"]


def _post_root_callback(app: Any) -> Any:
    """The callback behind ``POST /`` in one of moto's service apps, if a plain moto view."""
    from moto.core.utils import convert_to_flask_response

    adapter = app.url_map.bind("localhost", url_scheme="http")
    try:
        endpoint, arguments = adapter.match("/", method="POST")
    except HTTPException:  # no route for POST /
        return None
    view = app.view_functions.get(endpoint)
    if arguments or not isinstance(view, convert_to_flask_response):
        return None
    return view.callback
