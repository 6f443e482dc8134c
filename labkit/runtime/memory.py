"""How much memory processes use, with shared pages counted once.

RSS counts every page a process maps, so workers forked from one template each seem to hold the
template's imports. PSS splits each shared page between the processes that share it (so the PSS
of a group of processes adds up to what the group really costs); USS is what a process holds
alone (what stopping it would give back).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import psutil

_MB = 2**20


def process_memory(pid: int) -> dict[str, float]:
    """RSS, PSS and USS of one process in MB (zeros once it is gone)."""
    with contextlib.suppress(psutil.Error, OSError):
        info = psutil.Process(pid).memory_full_info()
        return {
            "rss_mb": round(info.rss / _MB, 1),
            "pss_mb": round(getattr(info, "pss", info.uss) / _MB, 1),
            "uss_mb": round(info.uss / _MB, 1),
        }
    return {"rss_mb": 0.0, "pss_mb": 0.0, "uss_mb": 0.0}


def group_memory(pids: Iterable[int]) -> dict[str, float]:
    """Processes together: their count, summed RSS, PSS (shared pages once) and USS, in MB."""
    figures = [process_memory(pid) for pid in pids]
    total = {key: round(sum(f[key] for f in figures), 1) for key in ("rss_mb", "pss_mb", "uss_mb")}
    return {"processes": len(figures), **total}
