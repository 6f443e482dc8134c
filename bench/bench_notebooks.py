"""How long the notebook suites take: the solved notebooks under strict nbval and the learner
notebooks under --nbval-lax, run at the same time as in the test suite.

Writes bench/results/notebooks.json. Goal: both suites done within 3 minutes on a 2-core
machine (the wall time of the slower one, since they run side by side).
Run: .venv/bin/python bench/bench_notebooks.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from common import write_results  # noqa: E402

from tests.notebooks.test_notebooks import NAMES, run_suites  # noqa: E402

GOAL_SECONDS = 180.0


def main() -> int:
    suites = run_suites()
    wall = max(s.seconds for s in suites.values())
    results = {
        "goal_seconds": GOAL_SECONDS,
        "wall_seconds": round(wall, 1),
        "within_goal": wall <= GOAL_SECONDS,
        "suites": {
            name: {
                "seconds": round(s.seconds, 1),
                "passed": s.returncode == 0,
                "notebooks": len(NAMES),
                "steps_done": sorted(k for k, v in s.checks.items() if v.get("passed")),
                "cloud_left_running": s.cloud_left_running,
            }
            for name, s in suites.items()
        },
    }
    path = write_results("notebooks", results)
    for name, s in suites.items():
        print(f"{name:8} {s.seconds:6.1f} s  {'passed' if s.returncode == 0 else 'FAILED'}")
    print(f"wall     {wall:6.1f} s  (goal {GOAL_SECONDS:.0f} s) -> {path.relative_to(ROOT)}")
    return 0 if all(s.returncode == 0 for s in suites.values()) and wall <= GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
