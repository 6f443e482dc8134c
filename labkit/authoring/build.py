"""Where sources and built notebooks live, writing them, and telling when they are stale."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .source import SourceError, read_source, to_notebook

_SOURCE_NAME = re.compile(r"^\d\d-[\w-]+$")


@dataclass(frozen=True)
class Project:
    """A checkout of the kit: its sources and the two folders of built notebooks."""

    root: Path

    @classmethod
    def find(cls, start: Path | None = None) -> Project:
        """The project around ``start`` (the current folder), else the one this package is in."""
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / "solutions" / "sources").is_dir():
                return cls(folder)
        package_root = Path(__file__).resolve().parents[2]
        if (package_root / "solutions" / "sources").is_dir():
            return cls(package_root)
        raise SourceError(
            f"No solutions/sources/ folder in {here} or above it: run this from a checkout "
            "of the kit, or pass --root."
        )

    @property
    def sources(self) -> Path:
        return self.root / "solutions" / "sources"

    @property
    def shared(self) -> Path:
        return self.sources / "_shared"

    def names(self) -> list[str]:
        """Every notebook with a source, in order (``00-welcome``, ``01-…``, …)."""
        return sorted(p.stem for p in self.sources.glob("*.md") if _SOURCE_NAME.match(p.stem))

    def select(self, patterns: list[str] | None) -> list[str]:
        """The notebooks matching ``patterns`` (names, globs or number prefixes); all if none."""
        every = self.names()
        if not patterns:
            return every
        chosen: list[str] = []
        for pattern in patterns:
            stem = Path(pattern).stem if pattern.endswith((".md", ".ipynb")) else pattern
            found = [
                n for n in every if n == stem or fnmatch.fnmatch(n, stem) or n.startswith(stem)
            ]
            if not found:
                raise SourceError(
                    f"No notebook source matches {pattern!r}; the sources are: {', '.join(every)}."
                )
            chosen.extend(n for n in found if n not in chosen)
        return [n for n in every if n in chosen]

    def source(self, name: str) -> Path:
        return self.sources / f"{name}.md"

    def built(self, name: str, solved: bool) -> Path:
        folder = self.root / ("solutions" if solved else "notebooks")
        return folder / f"{name}.ipynb"

    def render(self, name: str, solved: bool) -> nbformat.NotebookNode:
        """The notebook as the source says it is, without outputs."""
        cells = read_source(self.source(name), self.shared, self.root)
        return to_notebook(name, cells, solved)


def cell_signature(notebook: nbformat.NotebookNode) -> list[tuple[str, str, list[str]]]:
    """What makes two copies the same notebook: each cell's kind, text and tags."""
    return [
        (c.cell_type, c.source, list(c.get("metadata", {}).get("tags", []))) for c in notebook.cells
    ]


def stale(project: Project, names: list[str] | None = None) -> list[Path]:
    """Built notebooks whose cells differ from their source (or that are missing)."""
    found: list[Path] = []
    for name in project.select(names):
        for solved in (False, True):
            path = project.built(name, solved)
            if not path.exists():
                found.append(path)
                continue
            on_disk = nbformat.read(path, as_version=4)
            if cell_signature(on_disk) != cell_signature(project.render(name, solved)):
                found.append(path)
    return found


def write(project: Project, names: list[str] | None = None) -> list[Path]:
    """Write the learner copies, and the solved copies whose cells changed; return the latter.

    A solved copy whose cells are unchanged keeps its outputs. One that changed is written
    without outputs: run the build with ``--execute`` to give it outputs again.
    """
    unexecuted: list[Path] = []
    for name in project.select(names):
        learner = project.built(name, False)
        learner.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(project.render(name, False), learner)
        solved_path = project.built(name, True)
        solved = project.render(name, True)
        if solved_path.exists():
            on_disk = nbformat.read(solved_path, as_version=4)
            if cell_signature(on_disk) == cell_signature(solved):
                continue
        nbformat.write(solved, solved_path)
        unexecuted.append(solved_path)
    return unexecuted
