"""Run the demo's processes, each with its own log file, and stop every one of them by pid.

Children start in their own session, so a Ctrl-C in the terminal reaches only the
supervisor, which then stops them in order (vehicles, aggregator, routers): SIGTERM, a
bounded wait, SIGKILL for the ones that do not listen. The DESIGN trap this guards against
is a child left behind holding a port, or a session that never closes. Starting, waiting and
stopping are telemetry.process's (shared with the bench and the tests); this layer knows the
demo's parts, their log names and the stop order.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from telemetry.demo.plan import Part, PartKind
from telemetry.errors import TelemetryError
from telemetry.process import poll_until, spawn_logged, stop_processes

__all__ = ["Child", "PartFailed", "Supervisor", "find_line"]

_log = logging.getLogger(__name__)
#: Stop order: what uses the routers goes before them.
_STOP_STAGES = (
    (PartKind.TOOL, PartKind.SENSOR_SIM, PartKind.BRIDGE, PartKind.RMW_ZENOH_SIM),
    (PartKind.AGGREGATOR, PartKind.RECORDER),
    (PartKind.ROUTER,),
)


class PartFailed(TelemetryError):
    """A part did not come up: says which, why, and where its log is."""


@dataclass
class Child:
    part: Part
    process: subprocess.Popen[bytes]
    log_path: Path
    started_s: float
    reported_exit: bool = field(default=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 8) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.rstrip().splitlines()[-lines:])


class Supervisor:
    """Starts parts as `python -m <module>` children; `stop_all` ends every one it started."""

    def __init__(self, log_dir: Path, python: str = sys.executable) -> None:
        self.log_dir = log_dir
        self._python = python
        self.children: list[Child] = []

    def start(self, part: Part) -> Child:
        log_path = self.log_dir / part.log_name
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **part.env}
        process = spawn_logged([self._python, "-m", part.module, *part.args], log_path, env)
        child = Child(part, process, log_path, time.monotonic())
        self.children.append(child)
        _log.debug("started %s (pid %d): %s", part.name, process.pid, " ".join(part.args))
        return child

    def wait_for_line(self, child: Child, text: str, timeout_s: float) -> str:
        """The first log line containing `text`; PartFailed if the child exits or time runs out."""
        return self.wait_until(child, lambda: find_line(child.log_path, text), timeout_s, f"its line {text!r}")

    def wait_until(self, child: Child, found: Callable[[], str | None], timeout_s: float, what: str,
                   interval_s: float = 0.05) -> str:
        """`found()`'s first answer; PartFailed if the child exits first or `timeout_s` passes."""
        return self.wait_for_any([child], found, timeout_s, what, interval_s)

    def wait_for_any(self, children: list[Child], found: Callable[[], str | None], timeout_s: float, what: str,
                     interval_s: float = 0.05) -> str:
        """`found()`'s first answer while all of `children` run; PartFailed naming the one that
        exited, or the last of them when `timeout_s` passes."""
        def probe() -> str | None:
            result = found()
            if result is not None:
                return result
            for child in children:
                if child.process.poll() is not None:
                    raise self.failure(child, f"exited with code {child.process.returncode} before {what}")
            return None

        result = poll_until(probe, timeout_s, interval_s)
        if result is None:
            raise self.failure(children[-1], f"not ready after {timeout_s:g} s (waiting for {what})")
        return result

    def failure(self, child: Child, problem: str) -> PartFailed:
        tail = child.log_tail()
        indented = "".join(f"\n    {line}" for line in tail.splitlines())
        return PartFailed(f"{child.part.name} (pid {child.pid}) {problem}; its log: {child.log_path}{indented}")

    def exited(self) -> list[Child]:
        """Children that exited since the last call (each reported once)."""
        gone = [c for c in self.children if not c.reported_exit and c.process.poll() is not None]
        for child in gone:
            child.reported_exit = True
        return gone

    def stop_all(self, timeout_s: float = 5.0) -> dict[str, int]:
        """SIGTERM, wait, SIGKILL, stage by stage; returns every child's exit code by name."""
        codes: dict[str, int] = {}
        for kinds in _STOP_STAGES:
            stage = [c for c in reversed(self.children) if c.part.kind in kinds]
            names = [c.part.name for c in stage]
            codes.update(zip(names, stop_processes([c.process for c in stage], timeout_s, names), strict=True))
        return codes


def find_line(path: Path, text: str) -> str | None:
    """The first line of the log at `path` that contains `text`; None when none does (yet)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as log:
            return next((line.rstrip("\n") for line in log if text in line), None)
    except FileNotFoundError:
        return None
