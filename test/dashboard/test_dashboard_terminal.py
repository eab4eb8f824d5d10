"""The `dashboard` entry point in a real pseudo-terminal: it draws, says what it waits for,
and a supervisor's SIGTERM (or the user's q) ends it with exit code 0 and no traceback."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.processes import REPO_ROOT, free_port
from support.terminal import TerminalChild


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[TerminalChild]:
    child = TerminalChild(
        "telemetry.dashboard.cli", "--router", f"tcp/127.0.0.1:{free_port()}", log=tmp_path / "dashboard.log"
    )
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
