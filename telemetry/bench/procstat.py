"""CPU seconds and memory of a process, from /proc (Linux): what each hop costs."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cpu_seconds", "rss_mb"]

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` so far; 0.0 when it is gone."""
    try:
        with Path(f"/proc/{pid}/stat").open(encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14 and 15)


def rss_mb(pid: int) -> float:
    try:
        with Path(f"/proc/{pid}/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
