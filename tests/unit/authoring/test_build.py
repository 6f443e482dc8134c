"""The notebook build: markers, includes, the two copies, and telling when they are stale."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from labkit.authoring import Project, SourceError, split_versions, stale, write

ROOT = Path(__file__).resolve().parents[3]

SOURCE = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3 (ipykernel)
  language: python
  name: python3
---

# A notebook

```{code-cell} ipython3
# INCLUDE setup
lab
```

## Exercise

```{code-cell} ipython3
:tags: [exercise, nbval-ignore-output]

answer = None
# BEGIN PROMPT
# Your code here
# END PROMPT
# BEGIN SOLUTION
answer = 42
# END SOLUTION
answer
```
"""


@pytest.fixture
def project(tmp_path: Path) -> Project:
    sources = tmp_path / "solutions" / "sources"
    (sources / "_shared").mkdir(parents=True)
    (sources / "_shared" / "setup.py").write_text("import labkit\n\nlab = labkit.Lab()\n")
    (sources / "00-demo.md").write_text(SOURCE)
    return Project(tmp_path)


def test_markers_split_the_two_versions() -> None:
    """Prompt lines are only in the learner copy, solution lines only in the solved copy."""
    learner, solved = split_versions(
        "x = 1\n# BEGIN PROMPT\nx = 0\n# END PROMPT\n# BEGIN SOLUTION\nx = 2\n# END SOLUTION\nx"
    )
    assert learner == "x = 1\nx = 0\nx"
    assert solved == "x = 1\nx = 2\nx"


@pytest.mark.parametrize(
    "text",
    [
        "# BEGIN SOLUTION\nx = 1",
        "# END SOLUTION",
        "# BEGIN SOLUTION\n# BEGIN PROMPT\n# END PROMPT\n# END SOLUTION",
    ],
)
def test_unbalanced_markers_are_an_error(text: str) -> None:
    """A region that is not closed, or closed without being opened, says what to fix."""
    with pytest.raises(SourceError, match=r"SOLUTION|PROMPT"):
        split_versions(text, where="x.md, cell 1")


def test_build_writes_both_copies_with_setup_included(project: Project) -> None:
    """The learner copy has the prompt, the solved copy the solution; both get the set-up."""
    write(project)
    learner = nbformat.read(project.built("00-demo", False), as_version=4)
    solved = nbformat.read(project.built("00-demo", True), as_version=4)
    assert learner.cells[1].source == "import labkit\n\nlab = labkit.Lab()\nlab"
    assert learner.cells[3].source == "answer = None\n# Your code here\nanswer"
    assert solved.cells[3].source == "answer = None\nanswer = 42\nanswer"
    assert learner.cells[3].metadata["tags"] == ["exercise", "nbval-ignore-output"]
    assert [c.id for c in learner.cells] == ["00-00", "00-01", "00-02", "00-03"]
    assert stale(project) == []


def test_a_changed_source_makes_both_copies_stale(project: Project) -> None:
    """Editing a source makes --check report the learner and the solved copy."""
    write(project)
    source = project.source("00-demo")
    source.write_text(source.read_text().replace("answer = 42", "answer = 43"))
    assert stale(project) == [project.built("00-demo", True)]
    source.write_text(source.read_text().replace("# Your code here", "# Yours"))
    assert stale(project) == [project.built("00-demo", False), project.built("00-demo", True)]


def test_markers_without_the_exercise_tag_are_refused(project: Project) -> None:
    """A cell with solution markers must be tagged exercise."""
    source = project.source("00-demo")
    source.write_text(source.read_text().replace("exercise, ", ""))
    with pytest.raises(SourceError, match="exercise"):
        write(project)


def test_a_missing_include_names_the_file(project: Project) -> None:
    """# INCLUDE of a file that does not exist names the file it looked for."""
    source = project.source("00-demo")
    source.write_text(source.read_text().replace("# INCLUDE setup", "# INCLUDE nope"))
    with pytest.raises(SourceError, match=r"nope\.py"):
        write(project)


def test_solved_copies_keep_their_outputs_when_unchanged(project: Project) -> None:
    """Building again leaves an unchanged solved copy (and its outputs) as it is."""
    write(project)
    path = project.built("00-demo", True)
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", text="hello\n")]
    nbformat.write(notebook, path)
    assert write(project) == []
    assert nbformat.read(path, as_version=4).cells[1].outputs[0].text == "hello\n"


def test_the_kits_notebooks_are_built_from_their_sources() -> None:
    """`python -m labkit.authoring build --check` passes on the kit: nothing is stale."""
    done = subprocess.run(
        [sys.executable, "-m", "labkit.authoring", "build", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
