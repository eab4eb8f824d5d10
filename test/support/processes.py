"""Child processes for integration tests: start by module, wait for output, always stop by pid.

Tests never sleep blindly: they wait for a line the child prints (with a timeout) and fail
with everything the child wrote so far, which is what one needs to see why it did not come
up. Every child is stopped by its own pid, SIGTERM first, then SIGKILL after a timeout,
because a Zenoh process that does not exit cleanly can hang forever.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

__all__ = ["REPO_ROOT", "ChildProcess", "ProcessGroup", "free_port", "wait_until"]

#: The source checkout; children run from here so `python -m telemetry...` imports this tree.
REPO_ROOT = Path(__file__).resolve().parents[2]

LineMatch = str | Callable[[str], bool]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it for a socket bound to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout_s: float, interval_s: float = 0.02) -> bool:
    """Poll `condition` until it holds (True) or `timeout_s` passes (False); never a blind sleep."""
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)


class _LineCollector:
    """Reads one pipe in a thread and keeps every line, so waiters can look back and ahead."""

    def __init__(self, pipe: IO[str], name: str) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._read, args=(pipe,), name=name, daemon=True)
        self._thread.start()

    def _read(self, pipe: IO[str]) -> None:
        for line in pipe:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def wait_for(self, match: Callable[[str], bool], deadline: float) -> str | None:
        """The first line (from the start) that matches, or None at the deadline or on EOF."""
        checked = 0
        with self._changed:
            while True:
                for line in self.lines[checked:]:
                    if match(line):
                        return line
                checked = len(self.lines)
                remaining = deadline - time.monotonic()
                if self._closed or remaining <= 0:
                    return None
                self._changed.wait(remaining)

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)


class ChildProcess:
    """One child started with pipes on stdout and stderr; `stop()` ends it by pid."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], cwd: Path) -> None:
        self.name = name
        self.argv = argv
        self._popen = subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert self._popen.stdout is not None and self._popen.stderr is not None
        self._stdout = _LineCollector(self._popen.stdout, f"{name}-stdout")
        self._stderr = _LineCollector(self._popen.stderr, f"{name}-stderr")

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        """None while running."""
        return self._popen.poll()

    def wait_for_line(self, match: LineMatch, timeout_s: float = 10.0, stream: str = "stdout") -> str:
        """The first line containing `match` (or for which it is true); fails with the output.

        `stream` is "stdout" (ready lines) or "stderr" (log lines).
        """
        predicate = (lambda line: match in line) if isinstance(match, str) else match
        collector = {"stdout": self._stdout, "stderr": self._stderr}[stream]
        line = collector.wait_for(predicate, time.monotonic() + timeout_s)
        if line is None:
            state = "running" if self.returncode is None else f"exited with {self.returncode}"
            raise AssertionError(
                f"{self.name} ({state}) wrote no {stream} line matching {match!r} within {timeout_s} s\n"
                f"{self.output()}"
            )
        return line

    def wait_exit(self, timeout_s: float) -> int | None:
        """The exit code, or None if it still runs after `timeout_s`."""
        try:
            return self._popen.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout_s: float = 5.0) -> int:
        """SIGTERM, wait up to `timeout_s`, then SIGKILL; the exit code (negative: the signal)."""
        if self._popen.poll() is None:
            self.send_signal(signal.SIGTERM)
            if self.wait_exit(timeout_s) is None:
                self.kill()
        return self._finish()

    def kill(self) -> int:
        """SIGKILL now: for tests that need a process to vanish without cleaning up."""
        if self._popen.poll() is None:
            self.send_signal(signal.SIGKILL)
        return self._finish()

    def send_signal(self, signum: signal.Signals) -> None:
        """Signal the child by pid, unless it already exited."""
        try:
            os.kill(self._popen.pid, signum)
        except ProcessLookupError:
            pass  # it exited between poll() and kill(); wait() reaps it

    def _finish(self) -> int:
        code = self._popen.wait()
        self._stdout.join(2.0)
        self._stderr.join(2.0)
        return code

    def output(self) -> str:
        """Everything the child wrote so far, for failure messages."""
        stdout = "\n".join(self._stdout.lines)
        stderr = "\n".join(self._stderr.lines)
        return f"--- {self.name} stdout ---\n{stdout}\n--- {self.name} stderr ---\n{stderr}"


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
