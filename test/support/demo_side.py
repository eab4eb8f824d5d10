"""`telemetry demo` as a child of a test: its progress lines, the pids it reports, cleanup.

The demo starts its own children in their own sessions and stops them itself; the test
checks that by pid after the demo exits, and stops any left behind (by pid) so a failing
test never leaves a fleet running.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
from pathlib import Path

from support.processes import ChildProcess, ProcessGroup

__all__ = ["DemoRun", "alive", "start_demo"]

_PID = re.compile(r"\(pid (\d+)\)")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class DemoRun:
    """One `python -m telemetry.cli demo ...` child."""

    def __init__(self, process: ChildProcess) -> None:
        self.process = process

    def pids(self) -> dict[str, int]:
        """Part name -> pid, from the progress lines (`rover-01 sensor_sim  start (pid 123)`)."""
        found: dict[str, int] = {}
        for line in self.process.output().splitlines():
            match = _PID.search(line)
            if match and "] " in line:
                name = line.split("] ", 1)[1].split("  ")[0].strip()
                found.setdefault(name, int(match[1]))
        return found

    def leftovers(self) -> dict[str, int]:
        return {name: pid for name, pid in self.pids().items() if alive(pid)}

    def kill_leftovers(self) -> None:
        for pid in self.leftovers().values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def start_demo(processes: ProcessGroup, config: Path, *args: str, log_dir: Path) -> DemoRun:
    child = processes.start_module("telemetry.cli", "demo", "--config", str(config), "--log-dir", str(log_dir),
                                   *args, name="demo")
    return DemoRun(child)
