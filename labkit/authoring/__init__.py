"""Build the workshop's notebooks from their sources.

Each notebook has one source, ``solutions/sources/NN-name.md``: jupytext MyST Markdown that reads
as the notebook itself. The build writes two copies of it:

* ``notebooks/NN-name.ipynb``, the learner copy: exercise cells keep their prompt, no solution
  and no outputs;
* ``solutions/NN-name.ipynb``, the solved copy: exercise cells hold the solution, and
  ``--execute`` runs it on a fresh local cloud so that it carries the outputs nbval compares
  against.

    python -m labkit.authoring build                 # write both copies of every notebook
    python -m labkit.authoring build --execute 03-*  # ... and run the solved copies
    python -m labkit.authoring build --check         # exit 1 when a built notebook is stale

The markers, the tags and the includes are described in ``solutions/sources/README.md``.
"""

from __future__ import annotations

from .build import Project, stale, write
from .execute import execute
from .source import SourceError, expand_includes, split_versions

__all__ = [
    "Project",
    "SourceError",
    "execute",
    "expand_includes",
    "split_versions",
    "stale",
    "write",
]
