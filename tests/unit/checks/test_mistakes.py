"""The mistake catalogue: complete, well-formed, and documented with its tests."""

from __future__ import annotations

import re
import string
from collections import defaultdict
from pathlib import Path

from labkit.checks import MISTAKES, mistakes_for
from labkit.lab.course import STEP_IDS

INTEGRATION = Path(__file__).resolve().parents[2] / "integration"
CATALOGUE = INTEGRATION / "checks" / "README.md"
#: The core lab's catalogue, then each further lab's (``tests/integration/labN/README.md``).
CATALOGUES = (CATALOGUE, *sorted(INTEGRATION.glob("lab[0-9]*/README.md")))


def test_at_least_twenty_mistakes_across_every_step() -> None:
    """There are 20 or more mistakes, and every step has some."""
    assert len(MISTAKES) >= 20
    for step in STEP_IDS:
        assert mistakes_for(step), step


def test_every_hint_formats() -> None:
    """Every hint template fills in with any values (no stray braces)."""
    for mistake in MISTAKES.values():
        fields = [name for _, name, _, _ in string.Formatter().parse(mistake.hint) if name]
        filled = mistake.hint.format(**dict.fromkeys(fields, "X"))
        assert filled and not re.search(r"\{[a-z_]+\}", filled), mistake.code


def test_items_carry_code_and_hint() -> None:
    """Mistake.item() makes a failed item (or a warning) with the filled-in hint."""
    item = MISTAKES["batch-size"].item("Batch size", "it is 100", uuid="u-1")
    assert item.failed and item.code == "batch-size" and "UUID='u-1'" in item.hint
    assert not MISTAKES["unneeded-stream"].item("x", "y", table="T").failed


def test_catalogue_document_lists_every_code() -> None:
    """tests/integration/checks/README.md names every code of the catalogue."""
    text = "".join(path.read_text() for path in CATALOGUES)
    missing = [code for code in MISTAKES if f"`{code}`" not in text]
    assert not missing


def test_every_mistake_has_a_live_test() -> None:
    """Each code is asserted by an integration test (table-not-active by a unit test)."""
    tests = "".join(
        p.read_text() for catalogue in CATALOGUES for p in catalogue.parent.glob("test_*.py")
    )
    units = Path(__file__).with_name("test_lab1_units.py").read_text()
    untested = defaultdict(list)
    for code, mistake in MISTAKES.items():
        if f'"{code}"' not in tests and f'"{code}"' not in units:
            untested[mistake.step].append(code)
    assert not untested
