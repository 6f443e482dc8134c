"""One round of the reference lab's size (10,000 trades) on a fresh local cloud: time, exactness
and where the CPU goes.

A fresh local cloud, the finished lab in lab-1 mode (no failures); each round is one burst of
trades, timed from the first PutRecords until ``wait_idle`` says every function and mapping
has caught up, with every aggregate key checked (goal: the median of 5 rounds ≤ 30 s).

With ``--profile`` one more round runs under py-spy (sampling the cloud process and every
worker; samples of threads waiting on a lock, a queue, a socket or a sleep are left out), and
the samples are sorted into where a round's CPU goes: the cloud's request path (HTTP server,
front, routing, Flask/werkzeug, response building), moto (DynamoDB's storage and expressions),
the stream and mapping engine, the Lambda runtime's parent side, snapshots, and the function
workers. Each round also records the CPU seconds of the cloud process and of its workers.

Run ``python bench/bench_round.py`` (a few minutes on 2 cores; ``--quick`` for a smoke run).
Results go to ``bench/results/round.json``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import summary
from common import write_results

from labkit.lab.names import LabSettings
from labkit.testing import local_cloud

ROUND_GOAL_S = 30.0

# A cloud sample belongs to the first category with a marker in its stack (innermost frame
# first); a sample of any other process (a function worker) is "function workers".
CATEGORIES = (
    ("moto (DynamoDB engine)", ("moto/", "labkit/cloud/moto_speedups", "labkit/cloud/patches")),
    ("stream and mapping engine", ("labkit/esm/", "labkit/cloud/ddb_streams", "esm_service")),
    ("Lambda runtime (parent side)", ("labkit/runtime/", "lambda_service")),
    ("snapshots", ("labkit/cloud/snapshot",)),
    ("cloud request path", ("cheroot", "werkzeug", "flask", "labkit/cloud/", "http/", "socket")),
)
WORKERS = "function workers"
# Leaf frames of a thread that waits rather than works.
IDLE = (
    "Condition.wait",
    "Event.wait",
    "Queue.get",
    "select (selectors",
    "EpollSelector.select",
    ".poll (",
    "sleep",
    "SocketIO.readinto",
    "socket.accept",
    "_wait_for_tstate_lock",
    "read_frame",
    "_read_exact",
)
OTHER = "the rest (cloud)"


def classify(stack: str) -> str:
    """The category of one collapsed py-spy stack (frames outermost first, ';'-separated)."""
    frames = stack.split(";")
    if "labkit.cloud.server" not in frames[0]:
        return WORKERS
    for frame in reversed(frames[1:]):
        for name, markers in CATEGORIES:
            if any(marker in frame for marker in markers):
                return name
    return OTHER


def cpu_breakdown(collapsed: Path) -> dict[str, Any]:
    """Sample shares per category from a py-spy ``--format raw`` file; idle samples left out."""
    counts: collections.Counter[str] = collections.Counter()
    top: collections.Counter[str] = collections.Counter()
    for line in collapsed.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack or not number.isdigit():
            continue
        if any(marker in stack.split(";")[-1] for marker in IDLE):
            continue
        counts[classify(stack)] += int(number)
        leaf = stack.split(";")[-1]
        top[leaf] += int(number)
    total = sum(counts.values()) or 1
    return {
        "samples": total,
        "percent": {name: round(100 * n / total, 1) for name, n in counts.most_common()},
        "hottest_frames": [
            {"frame": frame, "percent": round(100 * n / total, 1)}
            for frame, n in top.most_common(25)
        ],
    }


def cpu_split(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) so far: the cloud process's own, and its workers' (live ones
    and those it has reaped)."""
    cloud = psutil.Process(pid)
    own = cloud.cpu_times()
    workers = own.children_user + own.children_system
    for child in cloud.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            times = child.cpu_times()
            workers += times.user + times.system
    return {"cloud": own.user + own.system, "workers": workers}


def load() -> dict[str, float]:
    one, five, fifteen = os.getloadavg()
    return {"1min": round(one, 2), "5min": round(five, 2), "15min": round(fifteen, 2)}


def run(settings: LabSettings, messages: int, rounds: int, profile: bool) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="labkit-bench-") as directory,
        local_cloud(Path(directory) / "cloud") as cloud,
    ):
        workshop = cloud.workshop(settings=settings)
        workshop.reset("lab1.step3", solved=True, confirm=True)
        scores = workshop.scoreboard(switch_to_lab2=False)
        results = []
        for number in range(rounds):
            cpu = cpu_split(cloud.pid)
            result = scores.play_round(messages=messages, seed=number, timeout=3600)
            after = cpu_split(cloud.pid)
            results.append(
                {
                    **summary(result),
                    "cpu_seconds": {key: round(after[key] - cpu[key], 2) for key in after},
                }
            )
            print(
                f"  round {number + 1}/{rounds}: {result.drain_seconds:.1f} s, "
                f"exact={result.exact} (load {os.getloadavg()[0]:.2f})",
                flush=True,
            )
        breakdown = None
        if profile:
            breakdown = profiled_round(scores, cloud.pid, messages, Path(directory))
    times = [r["seconds"] for r in results]
    return {
        "messages_per_round": messages,
        "rounds": results,
        "median_round_seconds": round(statistics.median(times), 2),
        "goal_round_seconds": ROUND_GOAL_S,
        "meets_goal": statistics.median(times) <= ROUND_GOAL_S,
        "all_exact": all(r["exact"] for r in results),
        "cpu_breakdown": breakdown,
    }


def profiled_round(scores: Any, pid: int, messages: int, directory: Path) -> dict[str, Any]:
    """One more round with py-spy sampling the cloud and its workers."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out = directory / "round.raw"
    recorder = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--rate",
            "100",
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    result = scores.play_round(messages=messages, seed=99, timeout=3600)
    recorder.send_signal(signal.SIGINT)
    recorder.wait(timeout=60)
    breakdown = cpu_breakdown(out) if out.exists() else {"error": "py-spy wrote nothing"}
    return {"round": summary(result), **breakdown}


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="one more round under py-spy")
    parser.add_argument("--label", default="round", help="results file name")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 1,000")
    args = parser.parse_args(argv)
    if args.quick:
        args.messages, args.rounds = 1_000, 2
    results = {
        "load_before": load(),
        **run(LabSettings.for_backend("local"), args.messages, args.rounds, args.profile),
        "load_after": load(),
    }
    path = write_results(args.label, results)
    print(
        f"round of {args.messages}: median {results['median_round_seconds']} s "
        f"(goal {ROUND_GOAL_S} s), exact={results['all_exact']}; results: {path}"
    )
    if results["cpu_breakdown"]:
        print(results["cpu_breakdown"].get("percent"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
