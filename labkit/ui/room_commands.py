"""``labkit instructor serve`` and ``labkit join``: run a room, and join one from a terminal."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labkit.cloud.settings import default_data_dir

if TYPE_CHECKING:
    from labkit.instructor.server import ServeInfo


def serve_command(args: argparse.Namespace) -> int:
    from labkit.instructor.server import open_session, run

    data_dir = (
        Path(args.data_dir).expanduser() if args.data_dir else default_data_dir() / "instructor"
    )
    info = open_session(
        data_dir,
        args.host,
        args.port,
        title=args.title,
        hours=args.hours,
        new=args.new,
        public_host=args.public_host,
    )
    ends = time.strftime("%H:%M", time.localtime(info.expires))
    print(
        f"{'Reopened' if info.reopened else 'Created'} the room (data in {data_dir}, until {ends})."
    )
    print(f"join code:   {info.code}")
    print(f'learners:    lab.join("{info.code}", name="...", server="{info.join_url}")')
    print(f"             labkit join {info.code} --name ... --server {info.join_url}")
    print(f"instructor:  {info.instructor_url}")
    print(f"helpers:     {info.helper_url}   (read-only)")
    warning = exposure_warning(info)
    if warning:
        print(warning, file=sys.stderr)
    sys.stdout.flush()
    run(info)
    return 0


def exposure_warning(info: ServeInfo) -> str:
    """What to tell an instructor who serves beyond this machine (empty on loopback)."""
    if not info.exposed:
        return ""
    return (
        f"warning: listening on {info.host}: anyone who can reach this machine on port "
        f"{info.port} (everyone on this network, maybe more) can reach the join API and try "
        "codes. Keep the instructor URL to yourself; use --host 127.0.0.1 on a laptop that "
        "only you use, or put the server behind your JupyterHub's proxy."
    )


def join_command(args: argparse.Namespace) -> int:
    from labkit.instructor.learner import JoinError, Membership, default_server
    from labkit.ui.room import room_lines

    data_dir = Path(args.data_dir).expanduser() if args.data_dir else default_data_dir()
    membership = Membership(data_dir)
    try:
        membership.join(args.code, args.name, args.server or default_server())
    except JoinError as error:
        print(f"labkit: {error}", file=sys.stderr)
        return 1
    membership.stop()
    membership.sync_now()
    print("\n".join(room_lines(membership.status())))
    return 0


def room_status(data_dir: Path) -> dict[str, Any] | None:
    from labkit.instructor.learner import Membership

    return Membership(data_dir).status()


def status_lines(data_dir: Path) -> list[str]:
    """The room lines of ``labkit status`` (empty when not in a room)."""
    from labkit.instructor.learner import Membership
    from labkit.ui.room import room_lines

    return room_lines(Membership(data_dir).status())


def add_room_commands(commands: Any, with_data_dir: Any) -> None:
    instructor = commands.add_parser("instructor", help="run an instructor-led room")
    sub = instructor.add_subparsers(dest="instructor_command", required=True)
    serve = sub.add_parser("serve", help="serve the room: the instructor's page and the join API")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: loopback)"
    )
    serve.add_argument("--port", type=int, default=4600, help="port (default: 4600)")
    serve.add_argument("--data-dir", help="where the room is kept (default: ~/.labkit/instructor)")
    serve.add_argument("--title", default="labkit workshop", help="the session's title")
    serve.add_argument("--hours", type=float, default=12.0, help="how long the session lasts")
    serve.add_argument("--new", action="store_true", help="start a new session (new code)")
    serve.add_argument("--public-host", help="host name to print in the URLs")
    serve.set_defaults(run=serve_command)

    join = with_data_dir(commands.add_parser("join", help="join an instructor's room"))
    join.add_argument("code", help="the room code, e.g. HQ4T-9KZP")
    join.add_argument("--name", required=True, help="your name or table, as the instructor sees it")
    join.add_argument("--server", help="the instructor's server ($LABKIT_INSTRUCTOR)")
    join.set_defaults(run=join_command)
