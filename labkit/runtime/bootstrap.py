"""How the runtime starts its own Python processes (cold workers and the fork server's
template): the interpreter, and the source that loads ``labkit.runtime`` modules on their own.

Standard library only.
"""

from __future__ import annotations

import sys
from pathlib import Path


def package_dir() -> Path:
    """The ``labkit`` package's folder."""
    return Path(__file__).resolve().parents[1]


def interpreter_command() -> list[str]:
    """The current interpreter in safe-path mode, running the code that follows."""
    return [sys.executable, "-P", "-c"]


def bootstrap_source(imports: str, call: str) -> str:
    """Python source (for ``-c``) that runs ``imports`` then ``call`` without running
    labkit/__init__.py (which pulls in the whole kit): stand-in package modules point at the
    source folders (``sys.argv[1]``), and are dropped again once the modules are loaded, so user
    code sees an ordinary sys.modules."""
    return (
        "import sys, types\n"
        "root = sys.argv[1]\n"
        'for name, path in (("labkit", root), ("labkit.runtime", root + "/runtime")):\n'
        "    stub = types.ModuleType(name)\n"
        "    stub.__path__ = [path]\n"
        "    sys.modules[name] = stub\n"
        f"{imports}\n"
        'del sys.modules["labkit"], sys.modules["labkit.runtime"]\n'
        f"{call}\n"
    )
