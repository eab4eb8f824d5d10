"""The tests' face of telemetry.process: start children by module, wait for output, stop by pid.

Tests never sleep blindly: they wait for a line the child prints (with a timeout) and fail
with everything the child wrote so far, which is what one needs to see why it did not come
up. Starting, line waiting and stopping (SIGTERM, then SIGKILL after a timeout, by pid) are
telemetry.process's, shared with the demo and the bench; this layer adds the checkout's
environment, assertion messages and the per-test group the `processes` fixture stops.
`wait_until` is the one polling helper every wait in test/ is built on.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from telemetry.process import PipedChild, poll_until, wait_until

__all__ = ["REPO_ROOT", "ChildProcess", "ProcessGroup", "free_port", "poll_until", "wait_until"]

#: The source checkout; children run from here so `python -m telemetry...` imports this tree.
REPO_ROOT = Path(__file__).resolve().parents[2]

LineMatch = str | Callable[[str], bool]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it for a socket bound to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class ChildProcess(PipedChild):
    """A PipedChild whose line waits fail the test with everything the child wrote."""

    def wait_for_line(self, match: LineMatch, timeout_s: float = 10.0, stream: str = "stdout") -> str:
        """The first line containing `match` (or for which it is true); fails with the output.

        `stream` is "stdout" (ready lines) or "stderr" (log lines).
        """
        predicate = (lambda line: match in line) if isinstance(match, str) else match
        line = self.find_line(predicate, timeout_s, stream)
        if line is None:
            state = "running" if self.returncode is None else f"exited with {self.returncode}"
            raise AssertionError(
                f"{self.name} ({state}) wrote no {stream} line matching {match!r} within {timeout_s} s\n"
                f"{self.output()}"
            )
        return line


class ProcessGroup:
    """The children of one test; `stop_all()` (run by a fixture finaliser) ends each by pid."""

    def __init__(self, env: Mapping[str, str] | None = None, cwd: Path = REPO_ROOT) -> None:
        base = dict(os.environ if env is None else env)
        base["PYTHONUNBUFFERED"] = "1"
        base["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), base.get("PYTHONPATH", "")) if p)
        self._env = base
        self._cwd = cwd
        self.children: list[ChildProcess] = []

    def start_module(
        self, module: str, *args: str, name: str | None = None, env: Mapping[str, str] | None = None
    ) -> ChildProcess:
        """Run `python -m module args...` with this interpreter; `env` adds to the group's."""
        child = ChildProcess(
            name or module, [sys.executable, "-m", module, *args], {**self._env, **(env or {})}, self._cwd
        )
        self.children.append(child)
        return child

    def stop_all(self, timeout_s: float = 5.0) -> list[tuple[str, int]]:
        """Stop every child, newest first (clients before the routers they use)."""
        return [(child.name, child.stop(timeout_s)) for child in reversed(self.children)]
