"""A child process on a pseudo-terminal, for programs that draw a full-screen UI (Textual)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from support.processes import REPO_ROOT

__all__ = ["TerminalChild"]


class TerminalChild:
    """`python -m <module> args` on a pty; the test reads what it draws."""

    def __init__(self, module: str, *args: str, log: Path | None = None) -> None:
        self._master, slave = pty.openpty()
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "40"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *(("--log", str(log)) if log else ()), *args],
            stdin=slave, stdout=slave, stderr=slave, cwd=REPO_ROOT, env=env, close_fds=True,
        )
        os.close(slave)
        self.screen = b""

    def read_until(self, text: bytes, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        os.set_blocking(self._master, False)
        while time.monotonic() < deadline:
            try:
                chunk = os.read(self._master, 65536)
            except BlockingIOError:
                chunk = b""
            except OSError:  # the child closed the terminal
                break
            self.screen += chunk
            if text in self.screen:
                return True
            if not chunk:
                time.sleep(0.05)
        return text in self.screen

    def write(self, keys: bytes) -> None:
        os.write(self._master, keys)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        os.close(self._master)
