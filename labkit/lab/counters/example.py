"""The material's worked example, with the date fixed so that it gives the same answer each run.

Three instances upload, then i-deadbeef uploads a new value and a fourth instance joins:
COUNTER1 = 12345 (i-beefdead) + 123456 (i-deadbeef, replacing 12345) + 54321 (i-foobazzled)
+ 1000 (i-flub) = 191122, and COUNTER2 = 54321.
"""

from __future__ import annotations

from .names import EXAMPLE_DATE

#: (instance, file contents), uploaded in this order.
UPLOADS: tuple[tuple[str, str], ...] = (
    ("i-deadbeef", "COUNTER1 12345\n"),
    ("i-beefdead", "COUNTER1 12345\n"),
    ("i-foobazzled", "COUNTER1 54321\nCOUNTER2 54321\n"),
    ("i-deadbeef", "COUNTER1 123456\n"),
    ("i-flub", "COUNTER1 1000\n"),
)
EXPECTED_TOTALS = {"COUNTER1": 191122, "COUNTER2": 54321}
DATE = EXAMPLE_DATE


def totals(uploads: tuple[tuple[str, str], ...] = UPLOADS) -> dict[str, int]:
    """What the aggregate table should hold after ``uploads``: each instance's last value of
    each counter, summed."""
    latest: dict[tuple[str, str], int] = {}
    for instance, text in uploads:
        for line in text.splitlines():
            counter, number = line.split()
            latest[(counter, instance)] = int(number)
    summed: dict[str, int] = {}
    for (counter, _), value in latest.items():
        summed[counter] = summed.get(counter, 0) + value
    return summed


assert totals() == EXPECTED_TOTALS
