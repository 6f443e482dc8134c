"""labkit: a workshop kit for serverless stream processing with DynamoDB Streams and Lambda.

``Lab()`` connects to the local cloud (or AWS) and has every verb a notebook needs. The
functions :func:`check`, :func:`solve` and :func:`reset` do the same on a default ``Lab()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .cloud.control import IdleTimeout
from .session import Lab

if TYPE_CHECKING:
    from .checks.report import Report
    from .ui.steps import StepChange

__all__ = ["IdleTimeout", "Lab", "check", "reset", "solve"]
__version__ = "0.1.0"

_default: Lab | None = None


def _lab() -> Lab:
    global _default
    if _default is None:
        _default = Lab()
    return _default


def check(step: str | None = None) -> Report:
    """Check a step on the default lab (``Lab()``); see :meth:`Lab.check`."""
    return _lab().check(step)


def solve(step: str) -> Report:
    """Apply a step's reference solution on the default lab; see :meth:`Lab.solve`."""
    return _lab().solve(step)


def reset(step: str) -> StepChange:
    """Put a step back to its start on the default lab; see :meth:`Lab.reset`."""
    return _lab().reset(step)
