"""``python -m labkit.authoring build [--execute] [--check] [NAMES...]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .build import Project, stale, write
from .execute import execute
from .source import SourceError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m labkit.authoring",
        description="Build notebooks/ and solutions/ from solutions/sources/*.md.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write the learner and the solved copies")
    build.add_argument("names", nargs="*", help="notebooks to build (e.g. 03 or 03-*); all if none")
    build.add_argument("--execute", action="store_true", help="run the solved copies for outputs")
    build.add_argument("--check", action="store_true", help="only report stale notebooks (exit 1)")
    build.add_argument("--root", type=Path, help="the kit's checkout (default: found from here)")
    args = parser.parse_args(argv)
    try:
        project = Project(args.root.resolve()) if args.root else Project.find()
        if args.check:
            outdated = stale(project, args.names)
            for path in outdated:
                print(f"stale: {path.relative_to(project.root)}")
            if outdated:
                print("Run: python -m labkit.authoring build --execute")
            return 1 if outdated else 0
        unexecuted = write(project, args.names)
        if args.execute:
            execute(project, args.names)
        elif unexecuted:
            shown = ", ".join(str(p.relative_to(project.root)) for p in unexecuted)
            print(f"written without outputs: {shown}; add --execute to run them.")
    except SourceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
