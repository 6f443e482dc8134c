"""What notebook 07 drives: probe items, waits, record age, and what happened.

``Experiments.from_lab(lab)`` works on both backends. Items are written while the mapping is
briefly disabled, so the items of one ``put`` reach ErrorsProcessor as one batch (up to the
batch size) and each experiment shows the same batches every time it runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from labkit.lab.names import LabSettings

from . import observe
from .names import StreamErrorsNames
from .observe import ClientFactory, FailureRecord, Invocation

if TYPE_CHECKING:
    from labkit.ui.invocations import InvocationsView

    from .replicator_runs import ReplicatorRuns

BEHAVIOURS = ("ok", "fail", "fail-once")
#: How long a mapping may take to change state on AWS (disable/enable are asynchronous).
STATE_TIMEOUT = 120.0


class StillRetrying(RuntimeError):
    """The mapping is still retrying a failing batch (what a poison record does by default)."""


def item_of(spec: str | Mapping[str, Any]) -> dict[str, Any]:
    """An item of ErrorsSource from ``"id"``, ``"id:fail"``, ``"id:fail-once"`` or a dict
    ``{"id": ..., "behaviour": ..., "amount": ...}``.

    Each item also gets a fresh ``written`` attribute: a write that changes nothing writes no
    stream record (on AWS as in the local cloud), so writing the same item again must change
    something to reach the function again.
    """
    if isinstance(spec, str):
        item_id, _, wanted = spec.partition(":")
        spec = {"id": item_id, "behaviour": wanted or "ok"}
    fields = dict(spec)
    if "id" not in fields or not str(fields["id"]):
        raise ValueError(f"an item needs an id: {spec!r}")
    wanted = str(fields.get("behaviour", "ok"))
    if wanted not in BEHAVIOURS:
        raise ValueError(f"behaviour {wanted!r} is not one of {', '.join(BEHAVIOURS)}")
    item: dict[str, Any] = {
        "id": {"S": str(fields.pop("id"))},
        "behaviour": {"S": wanted},
        "written": {"N": str(time.time_ns())},
    }
    fields.pop("behaviour", None)
    for name, value in fields.items():
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"attribute {name} must be a number or a string, not {value!r}")
        item[name] = {"N": str(value)} if isinstance(value, int | float) else {"S": value}
    return item


class MappingDriver:
    """Finding, pausing, resuming and waiting for one mapping of lab 5 on one backend;
    subclasses say which (:meth:`mapping`) and what its progress looks like (:meth:`_progress`).

    ``client`` makes boto3 clients; ``wait_idle`` is the local cloud's idle wait (None on
    AWS, where waits watch the mapping's progress instead).
    """

    def __init__(
        self,
        client: ClientFactory,
        settings: LabSettings,
        *,
        wait_idle: Callable[[float], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.settings = settings
        self.names = StreamErrorsNames(settings.prefix)
        self._wait_idle = wait_idle
        self._sleep = sleep
        self._clock = clock

    def mapping(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def uuid(self) -> str:
        """The mapping's UUID, for ``update_event_source_mapping(UUID=...)``."""
        return str(self.mapping()["UUID"])

    def _set_enabled(self, enabled: bool) -> None:
        lam = self.client("lambda")
        uuid = self.uuid
        lam.update_event_source_mapping(UUID=uuid, Enabled=enabled)
        wanted = "Enabled" if enabled else "Disabled"
        deadline = self._clock() + STATE_TIMEOUT
        while lam.get_event_source_mapping(UUID=uuid)["State"] != wanted:
            if self._clock() > deadline:
                raise TimeoutError(f"the mapping did not become {wanted} in time")
            self._sleep(1.0)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Disable the mapping for the block (if it is enabled), then enable it again."""
        was_enabled = self.mapping()["State"] in ("Enabled", "Enabling", "Updating")
        if was_enabled:
            self._set_enabled(False)
        try:
            yield
        finally:
            if was_enabled:
                self._set_enabled(True)

    # -- waiting -----------------------------------------------------------------------------
    def settle(self, timeout: float = 30.0) -> bool:
        """Wait until the mapping has caught up with the stream and nothing runs: True.

        False when it is still busy after ``timeout`` seconds, which is what a mapping that
        keeps retrying a failing batch looks like.
        """
        try:
            self.wait_settled(timeout)
        except StillRetrying:
            return False
        return True

    def wait_settled(self, timeout: float = 30.0) -> None:
        """Like :meth:`settle`, but raises :class:`StillRetrying` when still busy."""
        if self._wait_idle is not None:
            try:
                self._wait_idle(timeout)
            except TimeoutError as busy:
                raise StillRetrying(
                    f"The mapping is still retrying after {timeout:.0f} s: {busy}"
                ) from None
            return
        self._quiet(timeout)

    def _progress(self) -> object:
        """What changes while the mapping works (watched on AWS, where there is no idle
        signal)."""
        raise NotImplementedError

    def _quiet(self, timeout: float, quiet: float = 10.0) -> None:
        deadline = self._clock() + timeout
        seen = self._progress()
        calm_since = self._clock()
        while self._clock() - calm_since < quiet:
            if self._clock() > deadline:
                raise StillRetrying(f"The mapping was still at work after {timeout:.0f} s")
            self._sleep(1.0)
            now = self._progress()
            if now != seen:
                seen, calm_since = now, self._clock()


class Experiments(MappingDriver):
    """Lab 5's experiments on one backend.

    ``client`` makes boto3 clients; ``wait_idle`` is the local cloud's idle wait (None on
    AWS, where waits watch the invocation log); ``backdate`` ages a stream's records (local
    cloud only).
    """

    def __init__(
        self,
        client: ClientFactory,
        settings: LabSettings,
        *,
        wait_idle: Callable[[float], None] | None = None,
        backdate: Callable[[str, float], int] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(client, settings, wait_idle=wait_idle, sleep=sleep, clock=clock)
        self._backdate = backdate

    @classmethod
    def from_lab(cls, lab: Any) -> Experiments:
        """The experiments of a ``labkit.Lab`` (same backend, names and waits)."""
        from labkit.cloud import control

        local = bool(lab.backend.is_local and lab.endpoint)
        backdate = None
        if local:
            endpoint = str(lab.endpoint)

            def backdate(arn: str, seconds: float) -> int:
                return control.backdate_stream(endpoint, arn, seconds)

        return cls(
            lab.workshop.client,
            lab.settings,
            wait_idle=lab.wait_idle if local else None,
            backdate=backdate,
        )

    @property
    def replicator(self) -> ReplicatorRuns:
        """lab5.step6's replicator, driven the same way (same backend, names and waits)."""
        from .replicator_runs import ReplicatorRuns

        return ReplicatorRuns(
            self.client,
            self.settings,
            wait_idle=self._wait_idle,
            sleep=self._sleep,
            clock=self._clock,
        )

    # -- the mapping -------------------------------------------------------------------------
    def mapping(self) -> dict[str, Any]:
        """The ErrorsSource -> ErrorsProcessor mapping (as GetEventSourceMapping shows it)."""
        found = observe.mapping(self.client, self.names)
        if found is None:
            raise LookupError(
                f"There is no mapping from {self.names.source}'s stream to "
                f"{self.names.processor}. lab.provision('lab5.step1') creates it."
            )
        return found

    # -- writing -----------------------------------------------------------------------------
    def put(
        self, *specs: str | Mapping[str, Any], together: bool = True, older_by: float = 0.0
    ) -> list[str]:
        """Write items to ErrorsSource; returns their ids.

        ``"a"`` is processed, ``"b:fail"`` always fails (a poison record), ``"c:fail-once"``
        fails on its first attempt only; a dict may add attributes such as ``amount``. With
        ``together`` (the default) the mapping is paused while they are written, so they
        arrive as one batch. Pausing ends an open tumbling window's state, so window
        experiments write with ``together=False``. ``older_by`` makes every record in the
        stream that much older before the mapping sees the new ones (see :meth:`age_records`).
        """
        items = [item_of(spec) for spec in specs]
        ddb = self.client("dynamodb")
        with self.paused() if together or older_by else nullcontext():
            for item in items:
                ddb.put_item(TableName=self.names.source, Item=item)
            if older_by:
                self.age_records(older_by)
        return [item["id"]["S"] for item in items]

    def age_records(self, seconds: float) -> None:
        """Make the records now in ErrorsSource's stream at least ``seconds`` old.

        The local cloud backdates them at once; on AWS this waits until they are that old.
        """
        arn = observe.stream_arn(self.client, self.names)
        if arn is None:
            raise LookupError(f"{self.names.source} has no stream.")
        if self._backdate is not None:
            self._backdate(arn, seconds)
            return
        self._sleep(seconds + 1.0)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Invocation]:
        """Wait until ErrorsProcessor has logged at least ``count`` invocations."""
        deadline = self._clock() + timeout
        while True:
            found = self.invocations_list()
            if len(found) >= count:
                return found
            if self._clock() > deadline:
                raise TimeoutError(
                    f"only {len(found)} of {count} invocations were logged in {timeout:.0f} s"
                )
            self._sleep(0.05)

    def wait_for_final(self, timeout: float = 30.0) -> bool:
        """Wait until a window's final invoke was logged after the last invocation that
        carried records; False after ``timeout`` (no window, or the final invoke failed)."""
        deadline = self._clock() + timeout
        while True:
            found = self.invocations_list()
            last = max((n for n, i in enumerate(found) if i.ids), default=-1)
            if any(i.final for i in found[last + 1 :]):
                return True
            if self._clock() > deadline:
                return False
            self._sleep(0.1)

    # -- what happened -----------------------------------------------------------------------
    def _progress(self) -> object:
        return len(self.invocations_list())

    def invocations_list(self) -> list[Invocation]:
        return observe.invocations(self.client, self.names)

    def failures(self, *, take: bool = False) -> list[FailureRecord]:
        """The failure records in ErrorsFailures (``take`` removes them)."""
        return observe.failure_records(self.client, self.names, take=take)

    def invocations(self, first: int | None = None) -> InvocationsView:
        """The invocation view: ``.frame()`` (pandas), ``.chart()``, or just display it.
        ``first`` keeps only the oldest invocations (while a batch is still being retried)."""
        from labkit.ui.invocations import InvocationsView

        found = self.invocations_list()
        return InvocationsView(found if first is None else found[:first], self.failures())

    def quarantined(self) -> list[dict[str, Any]]:
        return observe.quarantined(self.client, self.names)

    def window_totals(self) -> list[dict[str, Any]]:
        return observe.window_totals(self.client, self.names)

    def fresh(self) -> None:
        """A clean slate for the next experiment: empty log, quarantine, totals and queue."""
        observe.clear(self.client, self.names)
