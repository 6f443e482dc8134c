"""Lab 5's invocation view: every invocation of a stream function as a table and a timeline.

The table (a pandas DataFrame, static HTML, plain text) has one row per invocation: the items
of its batch, which attempt at that exact batch it was, how it ended and what it reported.
The timeline chart draws each invocation as a bar over the records it carried (x: the n-th
invocation, y: the records in stream order), so retries show as repeated bars, bisecting as
bars that halve, and partial responses as bars that start further up. Positions, not clock
times, so the same experiment always draws the same picture.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .html import AMBER, GREEN, GREY, RED, box, esc, heading, table, text_table
from .widgets import View

if TYPE_CHECKING:
    import pandas

    from labkit.lab.stream_errors.observe import FailureRecord, Invocation

COLUMNS = ("#", "items", "size", "attempt", "outcome", "reported", "records")
#: The DataFrame also has the raw first and last sequence numbers of each batch.
FRAME_COLUMNS = (*COLUMNS, "first", "last")
FAILURE_COLUMNS = ("condition", "invocations", "records", "items")
OUTCOME_COLOURS = {"ok": GREEN, "failed": RED, "partial": AMBER}


def positions(invocations: Sequence[Invocation]) -> dict[str, int]:
    """Every record the invocations carried, by sequence number, numbered in stream order
    from 1 (sequence numbers themselves differ from run to run)."""
    sequences = {s for i in invocations for s in i.sequences}
    return {s: n for n, s in enumerate(sorted(sequences, key=int), start=1)}


class InvocationsView(View):
    """Invocations (oldest first) and, optionally, the failure records of discarded batches."""

    def __init__(
        self,
        invocations: Sequence[Invocation],
        failures: Sequence[FailureRecord] = (),
        title: str = "ErrorsProcessor invocations",
    ) -> None:
        self.invocations = tuple(invocations)
        self.failures = tuple(failures)
        self.title = title

    # -- data --------------------------------------------------------------------------------
    def rows(self) -> list[tuple[object, ...]]:
        where = positions(self.invocations)
        rows: list[tuple[object, ...]] = []
        for number, invocation in enumerate(self.invocations, start=1):
            items = " ".join(invocation.ids) if invocation.ids else "(final invoke)"
            span = ""
            if invocation.sequences:
                low, high = where[invocation.sequences[0]], where[invocation.sequences[-1]]
                span = f"{low}" if low == high else f"{low}–{high}"
            rows.append(
                (
                    number,
                    items,
                    invocation.size,
                    invocation.attempt,
                    invocation.outcome,
                    " ".join(invocation.reported_ids()),
                    span,
                )
            )
        return rows

    def frame(self) -> pandas.DataFrame:
        """The invocations as a DataFrame (one row per invocation, with raw sequence
        numbers in ``first`` and ``last``)."""
        import pandas

        rows = [
            (*row, invocation.first, invocation.last)
            for row, invocation in zip(self.rows(), self.invocations, strict=True)
        ]
        return pandas.DataFrame(rows, columns=list(FRAME_COLUMNS)).set_index("#")

    def _failure_rows(self) -> list[tuple[object, ...]]:
        ids = {
            s: i for inv in self.invocations for s, i in zip(inv.sequences, inv.ids, strict=True)
        }
        rows: list[tuple[object, ...]] = []
        for failure in self.failures:
            covered = sorted((s for s in ids if failure.covers(s)), key=int)
            shown = " ".join(ids[s] for s in covered) if covered else "(never sent)"
            rows.append((failure.condition, failure.invoke_count, failure.batch_size, shown))
        return rows

    # -- View --------------------------------------------------------------------------------
    def text(self) -> str:
        if not self.invocations:
            lines = [f"{self.title}: none yet."]
        else:
            lines = [f"{self.title} ({len(self.invocations)}):", text_table(COLUMNS, self.rows())]
        if self.failures:
            lines.append(f"Failure records in the queue ({len(self.failures)}):")
            lines.append(text_table(FAILURE_COLUMNS, self._failure_rows()))
        return "\n".join(lines)

    def html(self) -> str:
        parts = [heading(f"{self.title} ({len(self.invocations)})")]
        if self.invocations:
            colours = [OUTCOME_COLOURS.get(i.outcome, GREY) for i in self.invocations]
            parts.append(table(COLUMNS, self.rows(), colours=colours))
        else:
            parts.append(esc("None yet."))
        if self.failures:
            parts.append(heading(f"Failure records in the queue ({len(self.failures)})"))
            parts.append(table(FAILURE_COLUMNS, self._failure_rows()))
        return box("".join(parts))

    def chart(self) -> TimelineChart:
        """The timeline chart of these invocations."""
        return TimelineChart(self.invocations, self.failures)


class TimelineChart:
    """Each invocation as a bar over the records it carried; shows as PNG, or as text."""

    def __init__(
        self, invocations: Sequence[Invocation], failures: Sequence[FailureRecord] = ()
    ) -> None:
        self.invocations = tuple(invocations)
        self.failures = tuple(failures)

    def figure(self) -> Any:
        """The chart as a matplotlib Figure (not registered with pyplot)."""
        from matplotlib.figure import Figure

        where = positions(self.invocations)
        labels: dict[int, str] = {}
        for invocation in self.invocations:
            for sequence, item in zip(invocation.sequences, invocation.ids, strict=True):
                labels[where[sequence]] = item
        figure = Figure(figsize=(max(4.0, 0.45 * len(self.invocations) + 2), 3.2))
        axes = figure.add_subplot()
        for number, invocation in enumerate(self.invocations, start=1):
            if not invocation.sequences:
                axes.plot([number], [-0.5], marker="v", color=GREY)
                continue
            low = min(where[s] for s in invocation.sequences)
            high = max(where[s] for s in invocation.sequences)
            colour = OUTCOME_COLOURS.get(invocation.outcome, GREY)
            axes.bar(number, high - low + 0.8, bottom=low - 0.4, width=0.6, color=colour)
            for reported in invocation.reported:
                if reported in where:
                    axes.plot([number], [where[reported]], marker="x", color="black")
        axes.set_xlabel("invocation")
        axes.set_ylabel("record (stream order)")
        axes.set_yticks(sorted(labels), [labels[n] for n in sorted(labels)])
        axes.set_xticks(range(1, len(self.invocations) + 1))
        axes.invert_yaxis()
        axes.set_title("green ok · red failed · amber partial · x reported", fontsize=9)
        figure.tight_layout()
        return figure

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.figure().savefig(buffer, format="png", dpi=80)
        return buffer.getvalue()

    def __repr__(self) -> str:
        where = positions(self.invocations)
        lines = [f"Timeline of {len(self.invocations)} invocation(s) over {len(where)} record(s):"]
        for number, invocation in enumerate(self.invocations, start=1):
            if invocation.sequences:
                span = sorted(where[s] for s in invocation.sequences)
                cover = f"records {span[0]}–{span[-1]}"
            else:
                cover = "no records"
            lines.append(f"  {number:>2}. {cover:<14} {invocation.outcome}")
        return "\n".join(lines)
