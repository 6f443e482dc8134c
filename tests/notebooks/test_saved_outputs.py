"""What a saved solved notebook shows without a kernel: every rich output has a static form."""

from __future__ import annotations

import json

import nbformat
import pytest

from labkit.ui.widgets import WIDGET_VIEW

from .test_notebooks import NAMES, ROOT


def _outputs(name: str) -> list[tuple[str, dict[str, object]]]:
    notebook = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    return [
        (cell.source, output.get("data", {}))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type in ("display_data", "execute_result")
    ]


def _text(data: dict[str, object], mime: str) -> str:
    value = data.get(mime, "")
    return "".join(value) if isinstance(value, list) else str(value)


@pytest.mark.parametrize("name", NAMES)
def test_every_widget_output_has_html_and_text(name: str) -> None:
    """An output with a widget also carries static HTML and plain text of its last state."""
    for source, data in _outputs(name):
        if WIDGET_VIEW in data:
            assert _text(data, "text/html").strip(), (name, source)
            assert _text(data, "text/plain").strip(), (name, source)


@pytest.mark.parametrize("name", NAMES)
def test_progress_bars_leave_a_static_final_line(name: str) -> None:
    """A finished provisioning bar is a static line (no widget), with every call done."""
    bars = [data for _, data in _outputs(name) if "call/s" in _text(data, "text/plain")]
    for data in bars:
        assert WIDGET_VIEW not in data, name
        assert "100%" in _text(data, "text/plain") and "done" in _text(data, "text/html")


def test_the_solved_scoreboard_shows_the_rounds_played() -> None:
    """The board in 03 shows the score after its rounds, not '0 points after 0 rounds'."""
    boards = [
        data for source, data in _outputs("03-connect-reduce-lambda") if source.endswith("\nboard")
    ]
    assert boards, "the scoreboard cell has no output"
    for data in boards:
        assert "300 points after 3 round(s)" in _text(data, "text/plain")
        assert "300 points after 3 round(s)" in _text(data, "text/html")


def test_learner_notebooks_point_to_the_next_one() -> None:
    """'Next:' at the end of a notebook is a link to the next notebook, which exists."""
    for name in NAMES[:-1]:
        notebook = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        last = notebook.cells[-1]
        assert last.cell_type == "markdown" and last.source.startswith("Next: ["), name
        target = last.source.split("](", 1)[1].split(")", 1)[0]
        assert (ROOT / "notebooks" / target).is_file(), (name, target)


def test_the_kit_switches_off_the_news_prompt_and_saves_widget_state() -> None:
    """scripts/lab.sh starts JupyterLab with the kit's settings (no news, widget state saved)."""
    settings = ROOT / "labkit" / "ui" / "jupyterlab" / "overrides.json"
    overrides = json.loads(settings.read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    assert overrides["@jupyter-widgets/jupyterlab-manager:plugin"]["saveState"] is True
    assert "labkit/ui/jupyterlab" in (ROOT / "scripts" / "lab.sh").read_text()


@pytest.mark.parametrize("name", NAMES)
def test_no_output_is_a_raw_aws_response(name: str) -> None:
    """Cells show the field that matters, never a whole response with its ResponseMetadata."""
    for source, data in _outputs(name):
        assert "ResponseMetadata" not in _text(data, "text/plain"), (name, source)
