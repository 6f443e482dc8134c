"""Load a web-log file into a table, the way the material's ``load_logfile.py`` does.

One ``put_item`` per row: ``PK = request#<requestid>``, ``GSI_1_PK = host#<host>``, the numeric
columns as numbers, and ``servererror = "5xx"`` on a 500. A progress bar shows while it runs
(a widget in a notebook, a line in a terminal), and the result reads
``RowCount: N, Total seconds: T`` as the material's script prints it.

Writing the same file again puts identical items, which change nothing, so DynamoDB writes no
stream records for them: a stream is a log of changes, not a copy of the table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.deploy import Progress
from labkit.lab.progress import SilentProgress, default_progress

from .logdata import LogRow, read

#: Called after each row is written: (the item's PK, the time the write returned).
WriteListener = Callable[[str, float], None]


def attribute_value(value: str | int) -> dict[str, str]:
    """DynamoDB's typed form of a plain column value."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"a web-log column is text or a whole number, not {value!r}")
    return {"N": str(value)} if isinstance(value, int) else {"S": value}


def item_of(row: LogRow) -> dict[str, dict[str, str]]:
    """The item ``put_item`` writes for ``row``, in DynamoDB's typed form."""
    return {name: attribute_value(value) for name, value in row.as_item().items()}


@dataclass(frozen=True)
class LoadResult:
    """How a load went: the table, the file, how many rows, how long."""

    table: str
    file: str
    rows: int
    seconds: float

    def __str__(self) -> str:
        return f"RowCount: {self.rows}, Total seconds: {self.seconds}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        from labkit.ui.html import code

        return code(str(self))


def load_logfile(
    client: Any,
    table: str,
    path: Path | str,
    *,
    progress: Progress | bool = True,
    on_write: WriteListener | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> LoadResult:
    """Put every row of the web-log file ``path`` into ``table`` (one ``put_item`` each).

    ``client`` is a boto3 DynamoDB client. A missing file or table is a ``ValueError`` that
    says what to do; nothing is written then.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise ValueError(
            f"There is no file {file}. The lab's files are written by lab.logfiles() "
            "(or `labkit logfiles`); pass one of the paths it returns."
        )
    rows = read(file)
    try:
        client.describe_table(TableName=table)
    except Exception as error:
        code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            raise ValueError(
                f"There is no table {table!r} to load into. Create it first (step 1 of the "
                "replication lab), or check the name: on the aws backend names carry a prefix."
            ) from None
        raise
    bar: Progress = (
        progress
        if not isinstance(progress, bool)
        else (default_progress() if progress else SilentProgress())
    )
    bar.begin(len(rows), f"{file.name} → {table}")
    start = clock()
    try:
        for row in rows:
            item = item_of(row)
            client.put_item(TableName=table, Item=item)
            if on_write is not None:
                on_write(item["PK"]["S"], clock())
            bar.advance("")
    finally:
        bar.end()
    return LoadResult(table, str(file), len(rows), clock() - start)
