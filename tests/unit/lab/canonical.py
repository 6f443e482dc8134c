"""Canonical AWS events for the lab's functions (JSON files in ``events/``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parent / "events"


def event(name: str) -> dict[str, Any]:
    """A canonical event by file name, as a fresh copy."""
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return copy.deepcopy(loaded)
