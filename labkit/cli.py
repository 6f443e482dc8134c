"""The ``labkit`` command: ``labkit up | down | status | score | template | check | solve |
reset | hint``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from .cloud import control
from .cloud.settings import DEFAULT_PORT, DEFAULT_REGION, default_data_dir


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir).expanduser() if args.data_dir else default_data_dir()


def _up(args: argparse.Namespace) -> int:
    info = control.start(args.port, _data_dir(args), cors_origins=args.cors_origins)
    if info.already_running:
        print(f"The local cloud is already running (pid {info.pid}).")
        if args.cors_origins:
            print(
                "To change the web origins it answers, stop it (labkit down) and start it "
                "again with --cors-origin."
            )
    else:
        print(f"The local cloud is running (pid {info.pid}, data in {info.data_dir}).")
    print(f"endpoint: {info.endpoint}")
    return 0


def _env(args: argparse.Namespace) -> int:
    import shlex

    from .cloud.auth_keys import learner_credentials
    from .cloud.client_env import boto3_environment, cleared_variables

    running = control.find_running(_data_dir(args).expanduser().resolve())
    if running is None:
        print(
            f"labkit: the local cloud is not running (data dir {_data_dir(args)}). "
            "Start it: labkit up",
            file=sys.stderr,
        )
        return 3
    variables = boto3_environment(
        running.endpoint, learner_credentials(running.data_dir), args.region or DEFAULT_REGION
    )
    print('# The local cloud\'s endpoint and your credentials for it: eval "$(labkit env)"')
    for name, value in variables.items():
        print(f"export {name}={shlex.quote(value)}")
    print(f"unset {' '.join(cleared_variables())}")
    return 0


def _down(args: argparse.Namespace) -> int:
    if control.stop(_data_dir(args)):
        print("The local cloud has stopped; its state is saved and comes back with `labkit up`.")
    else:
        print(f"No local cloud is running for {_data_dir(args)}.")
    return 0


#: ``labkit status`` fits this many columns (wider cells are shortened with …).
STATUS_WIDTH = 100


def _status(args: argparse.Namespace) -> int:
    from .ui.room_commands import room_status
    from .ui.room_commands import status_lines as room_lines

    document = control.status(_data_dir(args))
    if args.json:
        room = {"room": room_status(_data_dir(args))}
        print(json.dumps({"running": document is not None, **(document or {}), **room}, indent=2))
        return 0 if document else 3
    for line in room_lines(_data_dir(args)):
        print(line)
    if document is None:
        print(f"The local cloud is not running (data dir {_data_dir(args)}). Start it: labkit up")
        return 3
    print("\n".join(status_lines(document, verbose=args.verbose)))
    return 0


def _duration(seconds: float) -> str:
    whole = int(seconds)
    if whole < 120:
        return f"{whole} s"
    if whole < 7200:
        return f"{whole // 60} min"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _source_name(arn: str) -> str:
    """``…:table/StateTable/stream/2024…`` -> ``StateTable stream``; Kinesis: the stream name."""
    if ":table/" in arn:
        return arn.split(":table/", 1)[1].split("/stream/", 1)[0] + " stream"
    return arn.rsplit("/", 1)[-1] if "/" in arn else arn


def status_lines(document: dict[str, Any], *, verbose: bool = False) -> list[str]:
    """``labkit status`` as lines of at most :data:`STATUS_WIDTH` characters: a headline, a
    table of functions and a table of mappings; ``verbose`` adds every counter."""
    from .ui.html import text_table

    out = [
        f"The local cloud is running: pid {document['pid']}, up "
        f"{_duration(float(document.get('uptime_seconds') or 0))}.",
        f"endpoint  {document['endpoint']}",
        f"data dir  {document['data_dir']}",
    ]
    memory = document.get("memory")
    if memory:
        out.append(_memory_line(memory))
    functions = document.get("functions") or {}
    rows: list[tuple[str, ...]] = []
    if functions:
        for name, f in sorted(functions.items()):
            last = f.get("last_duration_ms")
            rows.append(
                (
                    _fit(name, 30),
                    f"{int(f.get('invocations') or 0):,}",
                    f"{int(f.get('errors') or 0):,}",
                    f"{int(f.get('throttles') or 0):,}",
                    f"{f.get('busy_workers', 0)} busy, {f.get('warm_workers', 0)} warm",
                    "" if last is None else f"{float(last):,.0f} ms",
                    _fit(str(f.get("last_error_type") or ""), 20),
                )
            )
        headers: tuple[str, ...] = (
            "function",
            "calls",
            "errors",
            "throttles",
            "workers",
            "last",
            "last error",
        )
        out += ["", *text_table(headers, rows, align=_RIGHT_NUMBERS).split("\n")]
    mappings = list((document.get("event_source_mappings") or {}).values())
    if mappings:
        rows = []
        for m in mappings:
            function = str(m.get("function_arn", "")).rsplit(":", 1)[-1]
            counters = m.get("counters") or {}
            rows.append(
                (
                    _fit(f"{_source_name(str(m.get('event_source_arn', '')))} → {function}", 44),
                    str(m.get("state", "")),
                    f"{float(m.get('iterator_age_ms') or 0):,.0f} ms",
                    f"{int(counters.get('invocations') or 0):,}",
                    f"{int(counters.get('invocation_errors') or 0):,}",
                    _fit(str(m.get("last_processing_result") or ""), 14),
                )
            )
        headers = ("mapping", "state", "age", "batches", "failed", "last result")
        out += ["", *text_table(headers, rows, align=_MAPPING_ALIGN).split("\n")]
    if verbose:
        for name, figures in sorted(functions.items()):
            out += ["", f"function {name}"]
            out += [f"  {key:<20} {value}" for key, value in figures.items()]
        for m in mappings:
            source = _source_name(str(m.get("event_source_arn", "")))
            out += ["", f"mapping {m.get('uuid', '')} ({source})"]
            for key in ("event_source_arn", "function_arn", "last_processing_result"):
                out.append(f"  {key:<20} {m.get(key, '')}")
            out += [
                f"  {key:<20} {value:,}" for key, value in sorted((m.get("counters") or {}).items())
            ]
    else:
        out += ["", "Every counter: labkit status -v (or --json)."]
    return [_fit(line, STATUS_WIDTH) for line in out]


def _memory_line(memory: dict[str, Any]) -> str:
    """The cloud's and its workers' memory: PSS (shared pages once) beside RSS."""
    workers = memory.get("total") or {}
    cloud = memory.get("cloud") or {}
    every = memory.get("all") or {}
    return (
        f"memory    {float(every.get('pss_mb') or 0):,.0f} MB in all (PSS): cloud "
        f"{float(cloud.get('pss_mb') or 0):,.0f} MB, {int(workers.get('processes') or 0)} "
        f"worker processes {float(workers.get('pss_mb') or 0):,.0f} MB "
        f"(RSS {float(every.get('rss_mb') or 0):,.0f} MB)"
    )


_RIGHT_NUMBERS = ("left", "right", "right", "right", "left", "right", "left")
_MAPPING_ALIGN = ("left", "left", "right", "right", "right", "left")


def _score(args: argparse.Namespace) -> int:
    from .lab.commands import CommandError, open_workshop, read_board

    try:
        workshop = open_workshop(
            args.backend, _data_dir(args), region=args.region, prefix=args.prefix
        )
        board = read_board(workshop)
    except CommandError as error:
        print(f"labkit: {error}", file=sys.stderr)
        return error.code
    if args.json:
        print(json.dumps(board.to_dict(), indent=2))
    else:
        print("\n".join(board.lines()))
    return 0


def _template(args: argparse.Namespace) -> int:
    from .lab.commands import CommandError, template_text

    try:
        text = template_text(
            backend=args.backend,
            prefix=args.prefix,
            step=args.step,
            solved=args.solved,
            code=args.code,
            shards=args.shards,
        )
    except CommandError as error:
        print(f"labkit: {error}", file=sys.stderr)
        return error.code
    if args.output:
        Path(args.output).write_text(text)
        print(f"Wrote the CloudFormation template to {args.output}.")
    else:
        sys.stdout.write(text)
    return 0


def _logfiles(args: argparse.Namespace) -> int:
    from .lab.replication import logdata

    for path in logdata.write(args.dir).values():
        print(path)
    return 0


def _load_logfile(args: argparse.Namespace) -> int:
    from .lab.commands import CommandError, open_workshop
    from .lab.replication.loader import load_logfile

    try:
        workshop = open_workshop(
            args.backend, _data_dir(args), region=args.region, prefix=args.prefix
        )
        result = load_logfile(workshop.client("dynamodb"), args.table, args.file)
    except CommandError as error:
        print(f"labkit: {error}", file=sys.stderr)
        return error.code
    except ValueError as error:
        print(f"labkit: {error}", file=sys.stderr)
        return 2
    print(result)
    return 0


def _add_replication_commands(commands: Any, with_data_dir: Any) -> None:
    """``labkit logfiles`` and ``labkit load-logfile`` (lab 3)."""
    files = commands.add_parser("logfiles", help="write lab 3's two web-log files (CSV)")
    files.add_argument("--dir", default="data", help="folder to write them to (default: data)")
    files.set_defaults(run=_logfiles)
    load = with_data_dir(
        commands.add_parser("load-logfile", help="put every row of a web-log file into a table")
    )
    load.add_argument("table", help="the table to load into (e.g. logfile)")
    load.add_argument("file", help="a web-log CSV file (see: labkit logfiles)")
    load.add_argument(
        "--backend", choices=("local", "aws"), default="local", help="where the lab runs"
    )
    load.add_argument("--region", help="AWS region (default: the local cloud's, or AWS_REGION)")
    load.add_argument("--prefix", help="name prefix of the lab (default: '' local, 'labkit-' aws)")
    load.set_defaults(run=_load_logfile)


def _add_lab_commands(commands: Any, with_data_dir: Any) -> None:
    """``labkit score`` and ``labkit template``."""
    score = with_data_dir(
        commands.add_parser("score", help="show the scoreboard: total, lab 2 mode, recent rounds")
    )
    score.add_argument("--json", action="store_true", help="machine-readable output")
    score.add_argument(
        "--backend", choices=("local", "aws"), default="local", help="where the lab runs"
    )
    score.add_argument("--region", help="AWS region (default: the local cloud's, or AWS_REGION)")
    score.add_argument("--prefix", help="name prefix of the lab (default: '' local, 'labkit-' aws)")
    score.set_defaults(run=_score)

    template = commands.add_parser(
        "template", help="write the lab as a CloudFormation template (JSON)"
    )
    template.add_argument("-o", "--output", help="file to write (default: standard output)")
    template.add_argument(
        "--step", help="the lab at the start of this step (default: the finished lab)"
    )
    template.add_argument(
        "--solved", action="store_true", help="with --step: the step's solution instead"
    )
    template.add_argument(
        "--code",
        choices=("s3", "inline"),
        default="s3",
        help="function code from S3 zips (parameters) or an inline placeholder",
    )
    template.add_argument(
        "--backend",
        choices=("local", "aws"),
        default="aws",
        help="whose defaults to use for names and shards (default: aws)",
    )
    template.add_argument("--prefix", help="name prefix (default: 'labkit-' for aws)")
    template.add_argument("--shards", type=int, help="shards of IncomingDataStream")
    template.set_defaults(run=_template)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labkit", description="Run the DynamoDB Streams + Lambda workshop."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def with_data_dir(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument(
            "--data-dir",
            help="where the local cloud keeps its state "
            f"(default: $LABKIT_DATA_DIR or {default_data_dir()})",
        )
        return sub

    up = with_data_dir(commands.add_parser("up", help="start the local cloud in the background"))
    up.add_argument(
        "--port",
        type=int,
        help=f"port on 127.0.0.1 (default: $LABKIT_PORT or {DEFAULT_PORT}; a free one, "
        "remembered in the data dir, if that is taken)",
    )
    up.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        dest="cors_origins",
        metavar="URL",
        help="a web origin (e.g. http://localhost:3000) whose pages may call the cloud; "
        "repeatable (default: none)",
    )
    up.set_defaults(run=_up)
    env = with_data_dir(
        commands.add_parser(
            "env", help="print export lines (endpoint, credentials, region) for a terminal"
        )
    )
    env.add_argument("--region", help=f"region to print (default: {DEFAULT_REGION})")
    env.set_defaults(run=_env)
    with_data_dir(
        commands.add_parser("down", help="stop the local cloud, saving its state")
    ).set_defaults(run=_down)
    status = with_data_dir(
        commands.add_parser("status", help="is the local cloud running, and how is it doing")
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("-v", "--verbose", action="store_true", help="every counter as well")
    status.set_defaults(run=_status)
    _add_lab_commands(commands, with_data_dir)
    _add_replication_commands(commands, with_data_dir)
    from .ui.commands import add_step_commands

    add_step_commands(commands, with_data_dir)
    from .ui.room_commands import add_room_commands

    add_room_commands(commands, with_data_dir)
    return parser


#: The exit status of a command whose reader went away (``labkit status | head``): 128 + SIGPIPE.
BROKEN_PIPE = 141


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader of our output stopped (``| head``): stop quietly. Point stdout at
        # /dev/null so that the interpreter's own flush at exit does not complain again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE
    except control.CloudError as error:
        print(f"labkit: {error}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
