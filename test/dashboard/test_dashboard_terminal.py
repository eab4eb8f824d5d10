"""The `dashboard` entry point in a real pseudo-terminal: it draws, says what it waits for,
and a supervisor's SIGTERM (or the user's q) ends it with exit code 0 and no traceback."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.processes import REPO_ROOT, free_port


class TerminalChild:
    """`python -m telemetry.dashboard.cli args` on a pty; the test reads what it draws."""

    def __init__(self, *args: str, log: Path) -> None:
        self._master, slave = pty.openpty()
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "40"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "telemetry.dashboard.cli", "--log", str(log), *args],
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


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[TerminalChild]:
    child = TerminalChild("--router", f"tcp/127.0.0.1:{free_port()}", log=tmp_path / "dashboard.log")
    try:
        yield child
    finally:
        child.stop()


def test_dashboard_says_it_is_connecting_and_exits_cleanly_on_sigterm(dashboard: TerminalChild) -> None:
    assert dashboard.read_until(b"no router answers yet", timeout_s=20), dashboard.screen[-2000:]
    dashboard.process.send_signal(signal.SIGTERM)
    assert dashboard.process.wait(timeout=10) == 0
    dashboard.read_until(b"dashboard: log in", timeout_s=2)
    assert b"Traceback" not in dashboard.screen
    assert b"dashboard: log in" in dashboard.screen


def test_q_quits_the_dashboard(dashboard: TerminalChild) -> None:
    assert dashboard.read_until(b"no router answers yet", timeout_s=20)
    dashboard.write(b"q")
    assert dashboard.process.wait(timeout=10) == 0
    assert b"Traceback" not in dashboard.screen


def test_a_bad_flag_is_one_clear_line_and_exit_code_1(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "telemetry.dashboard.cli", "--max-p99-ms", "-3", "--log", str(tmp_path / "log")],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "dashboard: error: --max-p99-ms: must be > 0, got -3"
