"""The generated web-log files: the exact figures the issue asks for, and stable bytes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from labkit.lab.replication import logdata
from labkit.lab.replication.loader import item_of


def test_stream_file_has_the_exact_figures(tmp_path: Path) -> None:
    """2,000 rows, ids 4001-6000, one day and zone, hours 6-10, 199 hosts, exact codes, 1 POST."""
    path = logdata.write(tmp_path)[logdata.STREAM.name]
    facts = logdata.facts(logdata.read(path))
    assert (facts.rows, facts.first_id, facts.last_id, facts.distinct_ids) == (
        2000,
        4001,
        6000,
        2000,
    )
    assert facts.dates == ("2009-07-21",) and facts.timezones == ("GMT-0700",)
    assert facts.hours == (6, 7, 8, 9, 10) and facts.hosts == 199
    assert dict(facts.codes) == {
        200: 1704,
        302: 197,
        404: 41,
        304: 31,
        500: 13,
        206: 8,
        301: 5,
        403: 1,
    }
    assert dict(facts.methods) == {"GET": 1999, "POST": 1}


def test_small_file_and_disjoint_hosts(tmp_path: Path) -> None:
    """500 rows with ids 1-500, from hosts the stream file does not have."""
    files = logdata.write(tmp_path)
    small = logdata.read(files[logdata.SMALL.name])
    stream = logdata.read(files[logdata.STREAM.name])
    assert [r.requestid for r in small] == list(range(1, 501))
    assert not {r.host for r in small} & {r.host for r in stream}


def test_files_are_the_same_every_time(tmp_path: Path) -> None:
    """The seed fixes the bytes; writing again leaves an identical file untouched."""
    path = logdata.write(tmp_path)[logdata.STREAM.name]
    before = path.stat().st_mtime_ns
    logdata.write(tmp_path)
    assert path.stat().st_mtime_ns == before
    assert path.read_text() == logdata.text(logdata.STREAM)
    assert path.read_text().splitlines()[0].count('"') == 4  # url and user agent are quoted


def test_items_are_typed_as_the_material_loads_them() -> None:
    """PK and GSI_1_PK, numbers as N, servererror only on a 500."""
    rows = logdata.rows(logdata.STREAM)
    codes = Counter("servererror" in item_of(r) for r in rows)
    assert codes[True] == 13
    item = item_of(rows[0])
    assert item["PK"] == {"S": "request#4001"} and item["hourofday"]["N"].isdigit()
    assert item["GSI_1_PK"]["S"].startswith("host#")


def test_malformed_line_says_which() -> None:
    """A line with too few columns names its number and the expected columns."""
    with pytest.raises(ValueError, match=r"line 1 .*requestid"):
        logdata.parse("1,host,2009-07-21\n")
