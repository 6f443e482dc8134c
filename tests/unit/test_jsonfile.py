"""Documents in the data directory survive concurrent writers and stay private."""

from __future__ import annotations

import threading
from pathlib import Path

from labkit.jsonfile import load_json, write_json


def test_concurrent_writers_never_leave_a_broken_document(tmp_path: Path) -> None:
    """Two senders (a notebook's thread and a terminal) writing at once: one whole answer wins."""
    target = tmp_path / "room" / "news.json"
    start = threading.Barrier(8)

    def writer(number: int) -> None:
        start.wait()
        for round_ in range(50):
            write_json(target, {"writer": number, "filler": "x" * (number * 37 + round_)})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    document = load_json(target)
    assert document["filler"].startswith("x")
    assert sorted(p.name for p in target.parent.iterdir()) == ["news.json"]


def test_written_documents_are_private_and_bad_ones_read_as_empty(tmp_path: Path) -> None:
    target = tmp_path / "room.json"
    write_json(target, {"token": "secret"}, indent=None)
    assert target.stat().st_mode & 0o077 == 0
    assert load_json(target) == {"token": "secret"}
    target.write_text("[1, 2]")
    assert load_json(target) == {}
    target.write_text('{"half": ')
    assert load_json(target) == {}
    assert load_json(tmp_path / "missing.json") == {}
