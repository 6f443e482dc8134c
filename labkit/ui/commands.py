"""The step commands of the ``labkit`` CLI: ``check``, ``solve``, ``reset`` and ``hint``.

``labkit check lab1.step3`` prints the same report a notebook shows (as text);
``labkit check --all --json`` checks every step for CI and instructors. Exit codes: 0 when
every checked step is done, 2 when something is not done yet, 1 when labkit could not run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from labkit.checks.report import for_terminal

if TYPE_CHECKING:
    from labkit.session import Lab

NOT_DONE = 2


def _lab(args: argparse.Namespace) -> Lab:
    from labkit.session import Lab

    return Lab(
        args.backend,
        region=args.region,
        port=getattr(args, "port", None),
        data_dir=args.data_dir,
        prefix=args.prefix,
    )


def _quiet_provisioning(lab: Lab, quiet: bool) -> None:
    if quiet:
        from labkit.lab.progress import SilentProgress

        lab.workshop.progress = SilentProgress()


def check_command(args: argparse.Namespace) -> int:
    lab = _lab(args)
    if args.all or (args.step is None and args.json):
        reports = lab.check_all()
        if args.json:
            print(json.dumps(reports.to_dict(), indent=2))
        else:
            print(for_terminal(str(reports)) if args.verbose else reports.summary())
        return 0 if reports.passed else NOT_DONE
    report = lab.check(args.step)
    print(json.dumps(report.to_dict(), indent=2) if args.json else for_terminal(str(report)))
    return 0 if report.passed else NOT_DONE


def solve_command(args: argparse.Namespace) -> int:
    lab = _lab(args)
    _quiet_provisioning(lab, args.quiet)
    report = lab.solve(args.step)
    print(json.dumps(report.to_dict(), indent=2) if args.json else for_terminal(str(report)))
    return 0 if report.passed else NOT_DONE


def reset_command(args: argparse.Namespace) -> int:
    lab = _lab(args)
    _quiet_provisioning(lab, args.quiet)
    change = lab.reset(args.step, confirm=args.yes)
    change.terminal = True
    if args.json:
        document = {"step": change.step, "action": change.action, "changes": change.changes}
        document["needs_confirmation"] = change.needs_confirmation
        print(json.dumps({**document, "text": change.text()}, indent=2))
    else:
        print(change.text())
    return NOT_DONE if change.needs_confirmation else 0


def hint_command(args: argparse.Namespace) -> int:
    lab = _lab(args)
    hint = lab.hint(args.step)
    if args.json:
        document = {"step": hint.step, "tier": hint.tier, "name": hint.name, "text": hint.text}
        print(json.dumps({**document, "last": hint.last}, indent=2))
    else:
        print(for_terminal(str(hint)))
    return 0


def add_step_commands(commands: Any, with_data_dir: Callable[[Any], Any]) -> None:
    """Add ``check``, ``solve``, ``reset`` and ``hint`` to the ``labkit`` parser."""

    def common(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        with_data_dir(sub)
        sub.add_argument(
            "--backend", choices=("local", "aws"), default="local", help="where the lab runs"
        )
        sub.add_argument("--region", help="AWS region (default: the backend's)")
        sub.add_argument("--port", type=int, help="the local cloud's port ($LABKIT_PORT)")
        sub.add_argument("--prefix", help="name prefix (default: '' local, 'labkit-' aws)")
        return sub

    check = common(
        commands.add_parser("check", help="check a step (or --all) and say what is left to do")
    )
    check.add_argument("step", nargs="?", help="e.g. lab1.step3 (default: the current step)")
    check.add_argument("--all", action="store_true", help="check every step")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.add_argument("-v", "--verbose", action="store_true", help="with --all: every item")
    check.set_defaults(run=_safe(check_command))

    solve = common(
        commands.add_parser("solve", help="apply a step's reference solution (catch up)")
    )
    solve.add_argument("step", help="e.g. lab1.step2")
    solve.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    solve.add_argument("--json", action="store_true", help="machine-readable output")
    solve.set_defaults(run=_safe(solve_command))

    reset = common(
        commands.add_parser(
            "reset", help="put a step back to its start (lists what it removes; --yes to do it)"
        )
    )
    reset.add_argument("step", help="e.g. lab1.step3")
    reset.add_argument(
        "-y", "--yes", action="store_true", help="remove your work of later steps without asking"
    )
    reset.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    reset.add_argument("--json", action="store_true", help="machine-readable output")
    reset.set_defaults(run=_safe(reset_command))

    hint = common(
        commands.add_parser("hint", help="the next hint for a step: nudge, more, then the answer")
    )
    hint.add_argument("step", nargs="?", help="e.g. lab2.step2 (default: the current step)")
    hint.add_argument("--json", action="store_true", help="machine-readable output")
    hint.set_defaults(run=_safe(hint_command))


def _safe(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """The command, with a ``ValueError`` (an unknown step …) as a one-line message."""

    def guarded(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except ValueError as error:
            print(f"labkit: {error}", file=sys.stderr)
            return 1

    return guarded
