"""Read a notebook source and turn it into its learner and solved versions.

A source is jupytext MyST Markdown. In its code cells:

* lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` are only in the solved copy;
* lines between ``# BEGIN PROMPT`` and ``# END PROMPT`` are only in the learner copy;
* a line ``# INCLUDE name`` is replaced by ``solutions/sources/_shared/name.py``, and
  ``# INCLUDE some/path.py`` (a path with a slash, from the project's root) by that file.

Marker lines appear in neither copy. A cell with solution or prompt markers must carry the tag
``exercise``, so that a reader of either copy can tell the exercises apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat

EXERCISE = "exercise"
BEGIN_SOLUTION, END_SOLUTION = "# BEGIN SOLUTION", "# END SOLUTION"
BEGIN_PROMPT, END_PROMPT = "# BEGIN PROMPT", "# END PROMPT"
INCLUDE = "# INCLUDE "
_REGIONS = {BEGIN_SOLUTION: END_SOLUTION, BEGIN_PROMPT: END_PROMPT}
_ENDS = {end: begin for begin, end in _REGIONS.items()}


class SourceError(ValueError):
    """A notebook source that cannot be built; the message says where and what to change."""


@dataclass(frozen=True)
class SourceCell:
    """One cell of a source, includes expanded, both versions still in it."""

    kind: str  # "markdown" or "code"
    text: str
    tags: tuple[str, ...]

    def version(self, solved: bool) -> str:
        """The cell's text in the solved copy (``solved``) or in the learner copy."""
        if self.kind != "code":
            return self.text
        learner, solution = split_versions(self.text)
        return solution if solved else learner


def expand_includes(text: str, shared: Path, root: Path, *, where: str = "") -> str:
    """Replace every ``# INCLUDE target`` line of ``text`` with the target file's text."""
    out: list[str] = []
    for line in text.split("\n"):
        if not line.startswith(INCLUDE):
            out.append(line)
            continue
        target = line[len(INCLUDE) :].strip()
        path = root / target if "/" in target else shared / f"{target}.py"
        if not path.is_file():
            raise SourceError(
                f"{where}: '{line.strip()}' names {path}, which does not exist. Use a name "
                f"of a file in {shared} (without .py) or a path from {root}."
            )
        out.append(path.read_text().rstrip("\n"))
    return "\n".join(out)


def split_versions(text: str, *, where: str = "") -> tuple[str, str]:
    """The learner and the solved version of a code cell's text (marker lines dropped)."""
    learner: list[str] = []
    solved: list[str] = []
    open_region: str | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        marker = line.strip()
        if marker in _REGIONS:
            if open_region is not None:
                raise SourceError(
                    f"{where} line {number}: '{marker}' inside '{open_region}'; close it with "
                    f"'{_REGIONS[open_region]}' first."
                )
            open_region = marker
            continue
        if marker in _ENDS:
            if open_region != _ENDS[marker]:
                raise SourceError(
                    f"{where} line {number}: '{marker}' without '{_ENDS[marker]}' before it."
                )
            open_region = None
            continue
        if open_region != BEGIN_SOLUTION:
            learner.append(line)
        if open_region != BEGIN_PROMPT:
            solved.append(line)
    if open_region is not None:
        raise SourceError(f"{where}: '{open_region}' is never closed ('{_REGIONS[open_region]}').")
    return _tidy(learner), _tidy(solved)


def has_versions(text: str) -> bool:
    """True if a code cell's text has a solution or a prompt region."""
    return any(line.strip() in _REGIONS for line in text.split("\n"))


def _tidy(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n")


def read_source(path: Path, shared: Path, root: Path) -> list[SourceCell]:
    """The cells of one source file, includes expanded and checked."""
    notebook = jupytext.read(path, fmt="md:myst")
    cells: list[SourceCell] = []
    for index, cell in enumerate(notebook.cells):
        where = f"{path.name}, cell {index + 1}"
        tags = tuple(cell.get("metadata", {}).get("tags", []))
        text = cell.source
        if cell.cell_type == "code":
            text = expand_includes(text, shared, root, where=where)
            split_versions(text, where=where)  # raises on unbalanced markers
            if has_versions(text) and EXERCISE not in tags:
                raise SourceError(
                    f"{where}: this cell has solution or prompt markers; add the tag "
                    f"'{EXERCISE}' to it (:tags: [{EXERCISE}])."
                )
        cells.append(SourceCell(cell.cell_type, text.strip("\n"), tags))
    return cells


def to_notebook(name: str, cells: list[SourceCell], solved: bool) -> nbformat.NotebookNode:
    """One copy of a notebook, without outputs; cell ids are stable (``NN-index``)."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        },
        "language_info": {"name": "python"},
    }
    for index, cell in enumerate(cells):
        text = cell.version(solved)
        if cell.kind == "markdown":
            new = nbformat.v4.new_markdown_cell(text)
        else:
            new = nbformat.v4.new_code_cell(text)
        new.id = f"{name[:2]}-{index:02d}"
        if cell.tags:
            new.metadata["tags"] = list(cell.tags)
        notebook.cells.append(new)
    return notebook
