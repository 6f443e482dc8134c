"""The front reads a request body whether its length is given or it arrives in chunks."""

from __future__ import annotations

import io

from labkit.cloud.front import _read_body


def test_a_body_with_a_content_length() -> None:
    environ = {"CONTENT_LENGTH": "5", "wsgi.input": io.BytesIO(b"hello, and more")}
    assert _read_body(environ) == b"hello"


def test_a_chunked_body_is_read_to_its_end() -> None:
    # The server has already undone the chunked encoding; the input ends with the body.
    environ = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b"all of it")}
    assert _read_body(environ) == b"all of it"


def test_no_body() -> None:
    assert _read_body({"wsgi.input": io.BytesIO(b"")}) == b""
    assert _read_body({"CONTENT_LENGTH": "", "wsgi.input": io.BytesIO(b"x")}) == b""
