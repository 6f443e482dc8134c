"""A room of 400 learners against the instructor server, with Locust (headless, loopback only).

Phases, each bounded in time:

1. **join**: 400 participants join, spawned at 40 a second (goal: all in within 10 s);
2. **steady**: heartbeats every 15 s and about one check per participant per minute, with 25
   pages open on the live event stream;
3. **bursts**: 400 checks within 5 s, three times;
4. **offline**: no participant reaches the server for ``--offline`` seconds (default 300, the
   five minutes of the issue) while each keeps recording checks into its own queue;
5. **reconnect**: every participant comes back within 10 s and sends its queue in batches;
6. **drain**: the last queued events are sent, then the server's events are compared with
   what the participants made.

It reports ingest latency (a sync that carries events, request to stored reply: goal p95 under
200 ms), page staleness (from sending an event to a page receiving the row that shows it: goal
p95 under 2 s), the server's memory over the run, and lost and duplicated events (goal zero),
into ``bench/results/instructor.json``.

Run: .venv/bin/python bench/bench_instructor.py [--offline 300] [--participants 400]
"""

from __future__ import annotations

# Locust patches the standard library for gevent first; everything below runs in greenlets.
import locust  # noqa: F401  isort: skip

import argparse
import csv
import io
import json
import os
import random
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, ClassVar

import gevent
import psutil
import requests
from locust import FastHttpUser, constant, task
from locust.env import Environment

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_results

from labkit.instructor.testing import room_server

STEPS = ("lab1.step1", "lab1.step2", "lab1.step3", "lab2.step1", "lab2.step2")
HEARTBEAT = 15.0
CHECK_EVERY = 60.0
PAGES = 25
_EVENT_IN_ROW = re.compile(r'data-ev="([^"]*)"')


class Run:
    """What the phases share: the room, the phase, and every measurement."""

    room: Any = None
    phase = "join"
    burst = 0
    phase_started = 0.0
    made: ClassVar[dict[tuple[int, str], float]] = {}  # (participant, event id) -> made at
    sent_at: ClassVar[dict[str, float]] = {}  # event id -> when the request carrying it started
    stale: ClassVar[list[float]] = []
    ingest: ClassVar[list[float]] = []
    heartbeat: ClassVar[list[float]] = []
    joins: ClassVar[list[tuple[float, float]]] = []  # (started, finished)
    failures: ClassVar[list[str]] = []
    accepted = 0
    duplicates_reported = 0
    memory: ClassVar[list[tuple[float, float]]] = []
    server_cpu: ClassVar[list[float]] = []
    ingest_in_server: ClassVar[list[float]] = []  # the server's own Server-Timing
    reconnect_done: ClassVar[list[float]] = []
    offline: float = 300.0
    learners: ClassVar[list[Any]] = []


def _check(step: str) -> dict[str, Any]:
    passed = random.random() < 0.3
    items = [
        {"label": "StateTable exists", "status": "pass", "code": ""},
        {"label": f"{step}: the stream is configured", "status": "pass" if passed else "fail",
         "code": "" if passed else "stream-missing"},
    ]  # fmt: skip
    return {"id": uuid.uuid4().hex, "kind": "check", "step": step, "at": time.time(),
            "data": {"passed": passed, "items": items}}  # fmt: skip


class Learner(FastHttpUser):
    """One participant: joins, keeps an outbox, sends it with its heartbeat."""

    wait_time = constant(0.25)

    def on_start(self) -> None:
        started = time.time()
        with self.client.post(
            "/api/join",
            json={"code": Run.room.code, "name": f"learner-{uuid.uuid4().hex[:6]}"},
            name="join",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"join {response.status_code}")
                Run.failures.append(f"join {response.status_code}")
                self.token = ""
                return
            answer = response.json()
        Run.joins.append((started, time.time()))
        Run.learners.append(self)
        self.token = answer["token"]
        self.participant = answer["participant"]
        self.queue: list[dict[str, Any]] = []
        self.step = random.choice(STEPS[:3])
        now = time.time()
        self.next_beat = now + random.uniform(0, HEARTBEAT)
        self.next_check = now + random.uniform(0, CHECK_EVERY)
        self.burst_seen = 0
        self.burst_at = 0.0
        self.back_at = 0.0
        self.came_back = False

    def _record(self) -> None:
        event = _check(self.step)
        self.queue.append(event)
        Run.made[(self.participant, event["id"])] = time.time()

    def _sync(self) -> bool:
        batch = self.queue[:100]
        started = time.time()
        for event in batch:
            Run.sent_at[event["id"]] = started
        name = "sync with events" if batch else "heartbeat"
        with self.client.post(
            "/api/sync",
            json={"events": batch},
            headers={"Authorization": f"Bearer {self.token}"},
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"sync {response.status_code}")
                Run.failures.append(f"sync {response.status_code} {response.error!r}"[:120])
                return False
            answer = response.json()
            timing = response.headers.get("Server-Timing", "dur=0").rpartition("dur=")[2]
        elapsed = time.time() - started
        (Run.ingest if batch else Run.heartbeat).append(elapsed)
        if batch:
            Run.ingest_in_server.append(float(timing) / 1000)
        Run.accepted += answer["accepted"]
        Run.duplicates_reported += answer["duplicates"]
        del self.queue[: len(batch)]
        self.next_beat = time.time() + HEARTBEAT
        return True

    @task
    def tick(self) -> None:
        if not self.token:
            return
        now = time.time()
        if now >= self.next_check and Run.phase != "drain":  # about one check a minute
            self._record()
            self.next_check = now + random.uniform(0.5, 1.5) * CHECK_EVERY
        if Run.phase == "offline":
            return
        if Run.phase == "reconnect" and not self.came_back:
            if not self.back_at:
                self.back_at = Run.phase_started + random.uniform(0, 9.0)
            if now < self.back_at:
                return
            while self.queue and self._sync():
                pass
            self.came_back = True
            Run.reconnect_done.append(time.time() - Run.phase_started)
            return
        if Run.burst != self.burst_seen:
            self.burst_seen = Run.burst
            self.burst_at = Run.phase_started + random.uniform(0, 4.5)
        if self.burst_at and now >= self.burst_at:
            self.burst_at = 0.0
            self._record()
        if self.queue or now >= self.next_beat:
            self._sync()


def watch_page(key: str, stop: gevent.event.Event) -> None:
    """One open instructor page: follows the event stream, notes when each event shows."""
    url = f"{Run.room.url}/room/events?key={key}"
    shown: set[str] = set()  # a row is sent again when only "last seen" changes
    while not stop.is_set():
        try:
            with requests.get(url, stream=True, timeout=(5, 30)) as response:
                first = True  # the snapshot on connecting shows old events: not a delay
                for line in response.iter_lines(decode_unicode=True):
                    if stop.is_set():
                        return
                    if not line or not line.startswith("data:"):
                        continue
                    seen = time.time()
                    update = json.loads(line[5:])
                    for html in update.get("rows", {}).values():
                        found = _EVENT_IN_ROW.search(html)
                        if found is None or found.group(1) in shown:
                            continue
                        shown.add(found.group(1))
                        sent = Run.sent_at.get(found.group(1))
                        if sent is not None and not first:
                            Run.stale.append(seen - sent)
                    first = False
        except (requests.RequestException, ValueError) as error:
            Run.failures.append(f"page stream: {type(error).__name__}")
            gevent.sleep(1)


def sample_memory(pid: int, stop: gevent.event.Event, started: float) -> None:
    process = psutil.Process(pid)
    while not stop.is_set():
        Run.memory.append((round(time.time() - started, 1), process.memory_info().rss / 2**20))
        times = process.cpu_times()
        Run.server_cpu[:] = [times.user + times.system]
        gevent.sleep(1.0)


def _phase(name: str) -> None:
    Run.phase = name
    Run.phase_started = time.time()
    print(f"[{time.strftime('%H:%M:%S')}] {name}", flush=True)


def _p(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=400)
    parser.add_argument("--offline", type=float, default=300.0, help="seconds offline")
    parser.add_argument("--steady", type=float, default=60.0, help="seconds of steady load")
    parser.add_argument("--no-write", action="store_true", help="print, do not write results")
    args = parser.parse_args()
    Run.offline = args.offline
    load_before = os.getloadavg()
    begun = time.time()
    with tempfile.TemporaryDirectory() as folder, room_server(Path(folder) / "room") as room:
        Run.room = room
        stop = gevent.event.Event()
        sampler = gevent.spawn(sample_memory, room.pid, stop, begun)
        environment = Environment(user_classes=[Learner], host=room.url)
        runner = environment.create_local_runner()
        deadline = time.time() + 60 + args.steady + 60 + args.offline + 120

        _phase("join")
        runner.start(args.participants, spawn_rate=args.participants / 10)
        while len(Run.joins) + len(Run.failures) < args.participants and time.time() < deadline:
            gevent.sleep(0.1)
        joined_in = max(f for _, f in Run.joins) - min(s for s, _ in Run.joins)

        pages = [gevent.spawn(watch_page, room.helper_key if n % 5 else room.instructor_key, stop)
                 for n in range(PAGES)]  # fmt: skip
        _phase("steady")
        gevent.sleep(args.steady)
        for burst in range(1, 4):
            _phase(f"burst {burst}")
            Run.burst = burst
            gevent.sleep(10)
        _phase("offline")
        gevent.sleep(args.offline)
        _phase("reconnect")
        while len(Run.reconnect_done) < len(Run.joins) and time.time() < deadline:
            gevent.sleep(0.1)
        reconnected_in = max(Run.reconnect_done, default=0.0)
        _phase("drain")
        while any(learner.queue for learner in Run.learners) and time.time() < deadline:
            gevent.sleep(0.2)  # nothing new is made now; what is queued goes out
        waiting = sum(len(learner.queue) for learner in Run.learners)
        runner.quit()
        stop.set()
        gevent.joinall([*pages, sampler], timeout=35)
        stats = environment.stats
        events_csv = requests.get(
            f"{room.url}/export/events.csv?key={room.instructor_key}", timeout=60
        ).text
        stored = [(int(r[1]), r[3]) for r in list(csv.reader(io.StringIO(events_csv)))[1:]]
    made = set(Run.made)
    stored_set = set(stored)
    lost = len(made - stored_set)
    duplicated = len(stored) - len(stored_set)
    memory = [m for _, m in Run.memory]
    timeline = [
        {"t": t, "mb": round(m, 1)} for t, m in Run.memory[:: max(1, len(Run.memory) // 40)]
    ]

    def locust_p95(name: str) -> float | None:
        entry = stats.get(name, "POST")
        return float(entry.get_response_time_percentile(0.95)) if entry.num_requests else None

    results = {
        "conditions": {
            "participants": args.participants,
            "pages": PAGES,
            "steady_seconds": args.steady,
            "offline_seconds": args.offline,
            "offline_compressed": args.offline < 300,
            "heartbeat_seconds": HEARTBEAT,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "note": "one 2-core machine shared with other work; Locust and the 25 page "
            "streams run on the same machine as the server, all over loopback",
            "wall_seconds": round(time.time() - begun, 1),
            "server_cpu_seconds": round(Run.server_cpu[0], 1) if Run.server_cpu else None,
            "bench_cpu_seconds": round(sum(psutil.Process().cpu_times()[:2]), 1),
        },
        "join": {"joined": len(Run.joins), "seconds_for_all": round(joined_in, 2), "goal_s": 10},
        "ingest_ms": {
            "requests": len(Run.ingest),
            "p50": _p(Run.ingest, 0.5),
            "p95": _p(Run.ingest, 0.95),
            "p99": _p(Run.ingest, 0.99),
            "max": _p(Run.ingest, 1.0),
            "locust_p95": locust_p95("sync with events"),
            "in_server_p50": _p(Run.ingest_in_server, 0.5),
            "in_server_p95": _p(Run.ingest_in_server, 0.95),
            "goal_p95": 200,
        },
        "heartbeat_ms": {"requests": len(Run.heartbeat), "p95": _p(Run.heartbeat, 0.95)},
        "page_staleness_ms": {
            "samples": len(Run.stale),
            "p50": _p(Run.stale, 0.5),
            "p95": _p(Run.stale, 0.95),
            "max": _p(Run.stale, 1.0),
            "goal_p95": 2000,
        },
        "reconnect": {
            "seconds_until_all_back": round(reconnected_in, 2),
            "goal_s": 10,
        },
        "events": {
            "made": len(made),
            "stored": len(stored),
            "lost": lost,
            "duplicated": duplicated,
            "accepted_replies": Run.accepted,
            "duplicates_reported": Run.duplicates_reported,
            "still_queued": waiting,
            "goal_lost_and_duplicated": 0,
        },
        "server_memory_mb": {
            "start": round(memory[0], 1) if memory else None,
            "max": round(max(memory), 1) if memory else None,
            "end": round(memory[-1], 1) if memory else None,
            "timeline": timeline,
        },
        "failures": sorted(set(Run.failures))[:20],
        "failure_count": len(Run.failures),
    }
    print(json.dumps({k: v for k, v in results.items() if k != "server_memory_mb"}, indent=2))
    print("memory MB:", results["server_memory_mb"]["start"], results["server_memory_mb"]["max"],
          results["server_memory_mb"]["end"])  # fmt: skip
    if not args.no_write:
        print(write_results("instructor", results))
    return 0 if lost == 0 and duplicated == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
