"""A child whose stdout and stderr are read line by line, so a caller waits for a line.

A thread per pipe keeps every line (waiters look back as well as ahead, and a failure can show
everything the child wrote); the pipes never fill, so a chatty child never blocks on a write.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

from telemetry.process.child import signal_pid, stop_processes

__all__ = ["LineCollector", "PipedChild"]


class LineCollector:
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


class PipedChild:
    """One child started with pipes on stdout and stderr; `stop()` ends it by pid."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> None:
        self.name = name
        self.argv = list(argv)
        self._popen = subprocess.Popen(
            self.argv, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
        )
        assert self._popen.stdout is not None and self._popen.stderr is not None
        self._streams = {"stdout": LineCollector(self._popen.stdout, f"{name}-stdout"),
                         "stderr": LineCollector(self._popen.stderr, f"{name}-stderr")}

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        """None while running."""
        return self._popen.poll()

    def lines(self, stream: str = "stdout") -> list[str]:
        """Every line the child wrote to `stream` ("stdout" or "stderr") so far."""
        return self._streams[stream].lines

    def find_line(self, match: Callable[[str], bool], timeout_s: float, stream: str = "stdout") -> str | None:
        """The first line on `stream` for which `match` is true, or None after `timeout_s` or at EOF."""
        return self._streams[stream].wait_for(match, time.monotonic() + timeout_s)

    def wait_exit(self, timeout_s: float) -> int | None:
        """The exit code, or None if it still runs after `timeout_s`."""
        try:
            return self._popen.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout_s: float = 5.0) -> int:
        """SIGTERM, wait up to `timeout_s`, then SIGKILL; the exit code (negative: the signal)."""
        stop_processes([self._popen], timeout_s, [self.name])
        return self._finish()

    def kill(self) -> int:
        """SIGKILL now: for a process that must vanish without cleaning up."""
        signal_pid(self._popen, signal.SIGKILL)
        return self._finish()

    def send_signal(self, signum: signal.Signals) -> None:
        """Signal the child by pid, unless it already exited."""
        signal_pid(self._popen, signum)

    def _finish(self) -> int:
        code = self._popen.wait()
        for collector in self._streams.values():
            collector.join(2.0)
        return code

    def output(self) -> str:
        """Everything the child wrote so far, for failure messages."""
        stdout, stderr = ("\n".join(self.lines(stream)) for stream in ("stdout", "stderr"))
        return f"--- {self.name} stdout ---\n{stdout}\n--- {self.name} stderr ---\n{stderr}"
