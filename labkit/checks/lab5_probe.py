"""Probing lab 5 through the learner's own mapping and handler: write tagged items, wait for
the mapping to settle, and read back what happened to exactly those items."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from labkit.lab.stream_errors import observe
from labkit.lab.stream_errors.experiments import Experiments
from labkit.lab.stream_errors.names import StreamErrorsNames
from labkit.lab.stream_errors.observe import FailureRecord, Invocation

from .context import CheckContext
from .lab5_mistakes import ENTRIES
from .probes import nonce
from .report import CheckItem, failed

MISTAKES = {entry.code: entry for entry in ENTRIES}
#: Above this, a retry limit holds a shard up too long to be a fix (and for a check to watch).
MAX_SENSIBLE_RETRIES = 10
#: How long a check waits for its probe items to be processed or given up on.
SETTLE_TIMEOUT = 45.0


@dataclass
class Probe:
    """One check's probe: items tagged with a fresh nonce on ErrorsSource."""

    ctx: CheckContext
    tag: str = field(default_factory=lambda: nonce()[:6])

    def __post_init__(self) -> None:
        self.names = StreamErrorsNames(self.ctx.settings.prefix)
        self.experiments = Experiments(
            self.ctx.client,
            self.ctx.settings,
            wait_idle=self.ctx.wait_idle,
            sleep=self.ctx.sleep,
            clock=self.ctx.clock,
        )

    def id(self, label: str) -> str:
        return f"probe-{self.tag}-{label}"

    def put(self, *specs: str | Mapping[str, Any], together: bool = True) -> list[str]:
        """Write tagged items (``"label"``, ``"label:fail"``, dicts with an ``id`` label)."""
        tagged: list[str | Mapping[str, Any]] = []
        for spec in specs:
            if isinstance(spec, str):
                label, _, wanted = spec.partition(":")
                tagged.append(f"{self.id(label)}:{wanted}" if wanted else self.id(label))
            else:
                tagged.append({**spec, "id": self.id(str(spec["id"]))})
        return self.experiments.put(*tagged, together=together)

    def settle(self, timeout: float = SETTLE_TIMEOUT) -> bool:
        """True once the mapping has caught up; False if it is still retrying."""
        return self.experiments.settle(timeout)

    def invocations(self) -> list[Invocation]:
        """The invocations that carried at least one of this probe's items."""
        prefix = self.id("")
        return [
            i
            for i in observe.invocations(self.ctx.client, self.names)
            if any(item.startswith(prefix) for item in i.ids)
        ]

    def wait_until_seen(self, item: str, timeout: float = SETTLE_TIMEOUT) -> bool:
        """Wait until an invocation carrying ``item`` was logged; False after ``timeout``."""
        deadline = self.ctx.clock() + timeout
        while not any(item in i.ids for i in self.invocations()):
            if self.ctx.clock() > deadline:
                return False
            self.ctx.sleep(0.05)
        return True

    def sequences(self) -> dict[str, str]:
        """Each probe item's sequence number (of its latest record), from the invocations."""
        found: dict[str, str] = {}
        for invocation in self.invocations():
            for item, sequence in zip(invocation.ids, invocation.sequences, strict=True):
                if item.startswith(self.id("")):
                    found.setdefault(item, sequence)
        return found

    def processed(self) -> dict[str, int]:
        """How often each record (by sequence number) was processed successfully."""
        return observe.processed_counts(self.ctx.client, self.names)

    def failures(self) -> list[FailureRecord]:
        return observe.failure_records(self.ctx.client, self.names)

    def short(self, item: str) -> str:
        """A probe item's label without the tag (for messages)."""
        return item.removeprefix(self.id(""))


def labels(probe: Probe, items: list[str]) -> str:
    return ", ".join(probe.short(item) for item in items)


def preflight(probe: Probe, step: str, items: list[CheckItem]) -> dict[str, Any] | None:
    """The processor's mapping, if it exists, is enabled and has bounded retries; otherwise
    the failed items say why (and None is returned, as probing would be pointless or
    harmful)."""
    names = probe.names
    return usable_mapping(
        observe.mapping(probe.ctx.client, names),
        (names.source, names.processor),
        step,
        items,
        settle=probe.settle,
    )


def usable_mapping(
    found: dict[str, Any] | None,
    between: tuple[str, str],
    step: str,
    items: list[CheckItem],
    *,
    settle: Callable[[], bool],
) -> dict[str, Any] | None:
    """``found`` (the mapping from table ``between[0]`` to function ``between[1]``) if it
    exists, is enabled, has bounded retries and is caught up; otherwise None, and the failed
    items say why."""
    table, function = between
    label = f"The mapping {table} -> {function}"
    if found is None:
        items.append(
            MISTAKES["lab5-mapping-missing"].item(
                label, f"there is no mapping from {table}'s stream", step=step
            )
        )
        return None
    if found.get("State") in ("Disabled", "Disabling"):
        items.append(
            MISTAKES["lab5-mapping-disabled"].item(
                label, "the mapping is disabled", uuid=found["UUID"]
            )
        )
        return None
    retries = int(found.get("MaximumRetryAttempts", -1))
    label = "A poison record is given up on"
    if retries < 0:
        items.append(
            MISTAKES["lab5-retries-unbounded"].item(
                label,
                "MaximumRetryAttempts is -1: a failing batch is retried until its records "
                "expire, and every record behind it waits",
                uuid=found["UUID"],
            )
        )
        return None
    if retries > MAX_SENSIBLE_RETRIES:
        items.append(
            MISTAKES["lab5-retries-too-many"].item(
                label, f"MaximumRetryAttempts is {retries}", retries=retries
            )
        )
        return None
    if not settle():
        items.append(
            failed(
                "The mapping is caught up before the probe",
                "it is still busy with records written earlier",
                "Wait for your last experiment to finish (lab.wait_idle()), or "
                f"lab.reset('{step}') to start the step again.",
            )
        )
        return None
    return found
