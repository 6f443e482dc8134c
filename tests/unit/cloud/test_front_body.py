"""The door reads a request body whether its length is given or it arrives in chunks, and
says when it is too long or shorter than announced."""

from __future__ import annotations

import io

from labkit.cloud.auth import read_body


def test_a_body_with_a_content_length() -> None:
    """Content-Length bytes are read, and no more."""
    environ = {"CONTENT_LENGTH": "5", "wsgi.input": io.BytesIO(b"hello, and more")}
    assert read_body(environ, 100) == b"hello"


def test_a_chunked_body_is_read_to_its_end() -> None:
    """A chunked body (already undone by the server) is read to its end."""
    environ = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b"all of it")}
    assert read_body(environ, 100) == b"all of it"


def test_no_body() -> None:
    """No length and no chunking means no body."""
    assert read_body({"wsgi.input": io.BytesIO(b"")}, 100) == b""
    assert read_body({"CONTENT_LENGTH": "", "wsgi.input": io.BytesIO(b"x")}, 100) == b""


def test_too_long_and_too_short_bodies() -> None:
    """Over the limit gives None (nothing read), short gives the count that arrived."""
    assert read_body({"CONTENT_LENGTH": "11", "wsgi.input": io.BytesIO(b"x" * 11)}, 10) is None
    chunked = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b"x" * 11)}
    assert read_body(chunked, 10) is None
    assert read_body({"CONTENT_LENGTH": "9", "wsgi.input": io.BytesIO(b"abc")}, 10) == 3
