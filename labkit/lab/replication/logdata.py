"""The lab's web-server logs, generated from a seed (never copied from the material).

Two files in the material's CSV shape: no header, one request per line, the columns
``requestid, host, date, hourofday, timezone, method, url, responsecode, bytessent,
useragent``; the URL and the user agent are quoted.

* ``logfile_small1.csv``: 500 requests, ids 1–500, loaded in step 1 before the stream exists
  (from hosts of its own, so a host of the stream file has no older requests in logfile);
* ``logfile_stream.csv``: 2,000 requests, ids 4001–6000, all on 2009-07-21 at GMT-0700 between
  06 and 10 o'clock, from 199 hosts, with response codes exactly 200×1704, 302×197, 404×41,
  304×31, 500×13, 206×8, 301×5, 403×1 and a single POST among the GETs.

The same seed always gives the same bytes, so a file written on one machine equals the one a
check regenerates on another. Checks never hard-code a count: they read them from
:func:`facts` of the generated rows.
"""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

COLUMNS = (
    "requestid",
    "host",
    "date",
    "hourofday",
    "timezone",
    "method",
    "url",
    "responsecode",
    "bytessent",
    "useragent",
)
#: The columns the loader stores as numbers.
NUMERIC = frozenset({"requestid", "hourofday", "responsecode", "bytessent"})

_AGENTS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible) Feedfetcher-Google; (+http://www.google.com/feedfetcher.html)",
    "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
    "msnbot/1.1 (+http://search.msn.com/msnbot.htm)",
    "Mozilla/5.0 (Windows; U; Windows NT 5.1; en-US; rv:1.9.0.11) Gecko/2009060215 Firefox/3.0.11",
    "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0; SLCC1; .NET CLR 2.0.50727)",
    "Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_5_7; en-us) AppleWebKit/530.17 "
    "(KHTML, like Gecko) Version/4.0 Safari/530.17",
    "Opera/9.64 (X11; Linux i686; U; en) Presto/2.1.1",
)
_PAGES = (
    "/gallery/main.php?g2_itemId={n}",
    "/gallery/main.php?g2_view=core.DownloadItem&g2_itemId={n}",
    "/gadgets/adpowers/AlexaRank/ALL_ALL.xml",
    "/gwidgets/alexa.xml",
    "/blog/{n}/comments",
    "/blog/feed/rss2",
    "/images/header-{n}.png",
    "/index.php",
    "/robots.txt",
    "/favicon.ico",
)
#: A few hosts that the material's sample rows show, so the data reads familiar.
_KNOWN_HOSTS = ("66.249.67.3", "64.233.172.17", "66.249.71.65", "72.30.142.87")


@dataclass(frozen=True)
class LogFileSpec:
    """What one generated file holds; the generator meets every figure exactly."""

    name: str
    first_id: int
    rows: int
    seed: int
    date: str
    first_hour: int
    last_hour: int
    hosts: int
    codes: tuple[tuple[int, int], ...]
    posts: int
    first_octets: tuple[int, ...]
    known_hosts: tuple[str, ...] = ()
    timezone: str = "GMT-0700"

    def __post_init__(self) -> None:
        if sum(count for _, count in self.codes) != self.rows:
            raise ValueError(f"{self.name}: the response-code counts do not add up to the rows")
        if self.hosts > self.rows:
            raise ValueError(f"{self.name}: more hosts than rows")

    @property
    def ids(self) -> range:
        return range(self.first_id, self.first_id + self.rows)


SMALL = LogFileSpec(
    name="logfile_small1.csv",
    first_id=1,
    rows=500,
    seed=20090720,
    date="2009-07-20",
    first_hour=13,
    last_hour=18,
    hosts=71,
    codes=((200, 421), (302, 49), (404, 11), (304, 9), (500, 5), (206, 3), (301, 2)),
    posts=2,
    first_octets=(12, 38, 65, 71, 98, 131, 142, 151, 203),
)
STREAM = LogFileSpec(
    name="logfile_stream.csv",
    first_id=4001,
    rows=2000,
    seed=20090721,
    date="2009-07-21",
    first_hour=6,
    last_hour=10,
    hosts=199,
    codes=(
        (200, 1704),
        (302, 197),
        (404, 41),
        (304, 31),
        (500, 13),
        (206, 8),
        (301, 5),
        (403, 1),
    ),
    posts=1,
    first_octets=(24, 64, 66, 67, 72, 74, 81, 88, 124, 193, 207, 209),
    known_hosts=_KNOWN_HOSTS,
)
FILES: tuple[LogFileSpec, ...] = (SMALL, STREAM)


def _host_pool(rng: random.Random, spec: LogFileSpec) -> list[str]:
    hosts = list(spec.known_hosts[: spec.hosts])
    seen = set(hosts)
    while len(hosts) < spec.hosts:
        host = (
            f"{rng.choice(spec.first_octets)}."
            f"{rng.randrange(1, 255)}.{rng.randrange(0, 255)}.{rng.randrange(1, 255)}"
        )
        if host not in seen:
            seen.add(host)
            hosts.append(host)
    return hosts


def _bytes_sent(rng: random.Random, code: int) -> int:
    if code == 304:
        return 0
    if code in (301, 302):
        return rng.randrange(180, 420)
    if code in (403, 404):
        return rng.randrange(280, 1200)
    if code == 500:
        return rng.randrange(500, 900)
    if code == 206:
        return rng.randrange(20_000, 400_000)
    return rng.randrange(120, 40_000)


@dataclass(frozen=True)
class LogRow:
    """One request, with the columns typed as the loader stores them."""

    requestid: int
    host: str
    date: str
    hourofday: int
    timezone: str
    method: str
    url: str
    responsecode: int
    bytessent: int
    useragent: str

    @property
    def key(self) -> str:
        """The item's PK: ``request#<requestid>``."""
        return f"request#{self.requestid}"

    def as_item(self) -> dict[str, str | int]:
        """The item the loader writes for this row (keys, numbers and ``servererror``)."""
        item: dict[str, str | int] = {
            "PK": self.key,
            "GSI_1_PK": f"host#{self.host}",
            **{column: getattr(self, column) for column in COLUMNS},
        }
        if self.responsecode == 500:
            item["servererror"] = "5xx"
        return item


def _generate(spec: LogFileSpec) -> list[LogRow]:
    rng = random.Random(spec.seed)
    hosts = _host_pool(rng, spec)
    # Every host at least once, the rest skewed towards a few busy crawlers.
    weights = [1.0 / (rank + 1) ** 1.1 for rank in range(len(hosts))]
    chosen = hosts + rng.choices(hosts, weights=weights, k=spec.rows - len(hosts))
    rng.shuffle(chosen)
    codes = [code for code, count in spec.codes for _ in range(count)]
    rng.shuffle(codes)
    posts = set(rng.sample(range(spec.rows), spec.posts))
    span = (spec.last_hour - spec.first_hour + 1) * 3600
    seconds = sorted(rng.randrange(span) for _ in range(spec.rows))
    seconds[0], seconds[-1] = 0, span - 1  # the first and last hour both appear
    rows = []
    for index, request in enumerate(spec.ids):
        page = rng.choice(_PAGES).format(n=rng.randrange(100, 30_000))
        rows.append(
            LogRow(
                requestid=request,
                host=chosen[index],
                date=spec.date,
                hourofday=spec.first_hour + seconds[index] // 3600,
                timezone=spec.timezone,
                method="POST" if index in posts else "GET",
                url=page,
                responsecode=codes[index],
                bytessent=_bytes_sent(rng, codes[index]),
                useragent=rng.choice(_AGENTS),
            )
        )
    return rows


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _line(row: LogRow) -> str:
    return ",".join(
        (
            str(row.requestid),
            row.host,
            row.date,
            f"{row.hourofday:02d}",
            row.timezone,
            row.method,
            _quoted(row.url),
            str(row.responsecode),
            str(row.bytessent),
            _quoted(row.useragent),
        )
    )


@cache
def text(spec: LogFileSpec) -> str:
    """The file's content (the same for the same spec, on every machine)."""
    return "".join(_line(row) + "\n" for row in _generate(spec))


def parse(content: str) -> list[LogRow]:
    """Rows from CSV text in the material's shape (a clear error for a malformed line)."""
    rows = []
    for number, fields in enumerate(csv.reader(io.StringIO(content)), start=1):
        if not fields:
            continue
        if len(fields) != len(COLUMNS):
            raise ValueError(
                f"line {number} has {len(fields)} columns; a web-log line has {len(COLUMNS)}: "
                + ", ".join(COLUMNS)
            )
        values: dict[str, str | int] = {}
        for column, value in zip(COLUMNS, fields, strict=True):
            if column in NUMERIC:
                try:
                    values[column] = int(value)
                except ValueError:
                    raise ValueError(
                        f"line {number}: {column} must be a whole number, not {value!r}"
                    ) from None
            else:
                values[column] = value
        rows.append(LogRow(**values))  # type: ignore[arg-type]
    return rows


def read(path: Path | str) -> list[LogRow]:
    """The rows of a web-log file."""
    return parse(Path(path).read_text(encoding="utf-8"))


@cache
def rows(spec: LogFileSpec) -> tuple[LogRow, ...]:
    """The generated rows of ``spec``, read back from the file's text."""
    return tuple(parse(text(spec)))


def write(directory: Path | str, specs: Iterable[LogFileSpec] = FILES) -> dict[str, Path]:
    """Write the files into ``directory`` (left alone if already identical); name -> path."""
    folder = Path(directory).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for spec in specs:
        path = folder / spec.name
        content = text(spec)
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
        written[spec.name] = path
    return written


@dataclass(frozen=True)
class LogFacts:
    """What a web-log file holds, counted from its rows."""

    rows: int
    first_id: int
    last_id: int
    distinct_ids: int
    dates: tuple[str, ...]
    timezones: tuple[str, ...]
    hours: tuple[int, ...]
    hosts: int
    codes: tuple[tuple[int, int], ...]
    methods: tuple[tuple[str, int], ...]
    server_errors: int


def facts(rows_: Sequence[LogRow]) -> LogFacts:
    """Counts of ``rows_`` (what the checks expect, never a constant)."""
    codes = Counter(row.responsecode for row in rows_)
    methods = Counter(row.method for row in rows_)
    ids = [row.requestid for row in rows_]
    return LogFacts(
        rows=len(rows_),
        first_id=min(ids),
        last_id=max(ids),
        distinct_ids=len(set(ids)),
        dates=tuple(sorted({row.date for row in rows_})),
        timezones=tuple(sorted({row.timezone for row in rows_})),
        hours=tuple(sorted({row.hourofday for row in rows_})),
        hosts=len({row.host for row in rows_}),
        codes=tuple(codes.most_common()),
        methods=tuple(methods.most_common()),
        server_errors=codes.get(500, 0),
    )


def busiest_host(rows_: Sequence[LogRow]) -> str:
    """The host with the most requests (ties broken by the host's text)."""
    counts = Counter(row.host for row in rows_)
    return min(counts, key=lambda host: (-counts[host], host))
