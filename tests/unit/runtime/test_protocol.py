"""The framed channel between the runtime and its workers."""

from __future__ import annotations

import os

from labkit.runtime import protocol


def test_frames_round_trip_through_a_pipe() -> None:
    """A frame written in pieces decodes incrementally and also with a blocking read."""
    frame = protocol.encode({"kind": "invoke", "id": "r1"}, b'{"big": "' + b"x" * 70000 + b'"}')
    decoder = protocol.FrameDecoder()
    for start in range(0, len(frame), 4096):
        assert decoder.next_frame() is None
        decoder.feed(frame[start : start + 4096])
    header, body = decoder.next_frame() or ({}, b"")
    assert header == {"kind": "invoke", "id": "r1"} and len(body) == 70011
    assert decoder.next_frame() is None

    read_fd, write_fd = os.pipe()
    small = protocol.encode({"kind": "init"})
    os.write(write_fd, small)
    os.close(write_fd)
    assert protocol.read_frame(read_fd) == ({"kind": "init"}, b"")
    os.close(read_fd)


def test_marker_is_small_enough_to_be_written_atomically() -> None:
    """A phase marker fits in PIPE_BUF, so other writers cannot split it."""
    assert len(protocol.output_marker("f" * 32)) < 512
