"""The ``labkit`` command: ``labkit up | down | status | score | template | check | solve |
reset | hint``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .cloud import control
from .cloud.settings import DEFAULT_PORT, default_data_dir, default_port


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir).expanduser() if args.data_dir else default_data_dir()


def _up(args: argparse.Namespace) -> int:
    info = control.start(args.port or default_port(), _data_dir(args))
    if info.already_running:
        print(f"The local cloud is already running (pid {info.pid}).")
    else:
        print(f"The local cloud is running (pid {info.pid}, data in {info.data_dir}).")
    print(f"endpoint: {info.endpoint}")
    return 0


def _down(args: argparse.Namespace) -> int:
    if control.stop(_data_dir(args)):
        print("The local cloud has stopped; its state is saved and comes back with `labkit up`.")
    else:
        print(f"No local cloud is running for {_data_dir(args)}.")
    return 0


def _status(args: argparse.Namespace) -> int:
    document = control.status(_data_dir(args))
    if args.json:
        print(json.dumps({"running": document is not None, **(document or {})}, indent=2))
        return 0 if document else 3
    if document is None:
        print(f"The local cloud is not running (data dir {_data_dir(args)}). Start it: labkit up")
        return 3
    print(f"running   pid {document['pid']}, up {document['uptime_seconds']} s")
    print(f"endpoint: {document['endpoint']}")
    print(f"data dir  {document['data_dir']}")
    functions = document.get("functions") or {}
    for name, figures in sorted(functions.items()):
        summary = ", ".join(f"{key} {value}" for key, value in figures.items())
        print(f"function  {name}: {summary}")
    for mapping in (document.get("event_source_mappings") or {}).values():
        print(_mapping_line(mapping))
    return 0


def _mapping_line(mapping: dict[str, Any]) -> str:
    function = str(mapping.get("function_arn", "")).rsplit(":", 1)[-1]
    source = str(mapping.get("event_source_arn", "")).split(":", 5)[-1]
    parts = [
        str(mapping.get("state")),
        f"iterator age {float(mapping.get('iterator_age_ms') or 0):.0f} ms",
        f"last result {mapping.get('last_processing_result')}",
    ]
    counters = mapping.get("counters") or {}
    parts.extend(f"{key} {value}" for key, value in sorted(counters.items()))
    return f"mapping   {source} -> {function}: " + ", ".join(parts)


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
        "--port", type=int, help=f"port on 127.0.0.1 (default: $LABKIT_PORT or {DEFAULT_PORT})"
    )
    up.set_defaults(run=_up)
    with_data_dir(
        commands.add_parser("down", help="stop the local cloud, saving its state")
    ).set_defaults(run=_down)
    status = with_data_dir(
        commands.add_parser("status", help="is the local cloud running, and how is it doing")
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(run=_status)
    _add_lab_commands(commands, with_data_dir)
    _add_replication_commands(commands, with_data_dir)
    from .ui.commands import add_step_commands

    add_step_commands(commands, with_data_dir)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except control.CloudError as error:
        print(f"labkit: {error}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
