"""`telemetry config`, run as a user runs it: a real process, its output and exit code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from telemetry.config import default_fleet_config_path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "telemetry.cli", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )


def test_config_command_lists_every_stream_with_its_zenoh_key() -> None:
    result = _run("config", str(default_fleet_config_path()))

    assert result.returncode == 0, result.stderr
    assert "OK: 2 regions, 3 vehicles, 12 streams" in result.stdout
    assert "telemetry/data/eu-west/rover-01/imu" in result.stdout
    assert "telemetry/data/us-east/rover-03/battery" in result.stdout
    assert "tcp/127.0.0.1:7447" in result.stdout


def test_config_command_without_a_path_checks_the_shipped_config() -> None:
    result = _run("config")

    assert result.returncode == 0, result.stderr
    assert "rover-02" in result.stdout


def test_config_command_reports_a_bad_config_in_one_line_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "fleet.yaml"
    text = default_fleet_config_path().read_text().replace("rate_hz: 100\n", "rate_hz: -5\n", 1)
    bad.write_text(text)

    result = _run("config", str(bad))

    assert result.returncode == 1
    assert result.stdout == ""
    assert f"telemetry: error: {bad}: defaults.streams[1].rate_hz: must be > 0, got -5" in result.stderr
    assert "Traceback" not in result.stderr
