"""`telemetry demo`'s mistakes: each is one line on stderr and exit code 1, before anything starts.

These call `telemetry.cli.main` in-process; none of them gets as far as starting a process
(the demo runs themselves are tested in test_demo_run.py).
"""

from __future__ import annotations

import re
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fleet_files import write_fleet_config
from support.processes import free_port

from telemetry.cli import main


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run from tmp_path (the default log/demo/... lands there) and give back SIGTERM's handler,
    which `telemetry demo` replaces just before it starts the fleet."""
    monkeypatch.chdir(tmp_path)
    handler = signal.getsignal(signal.SIGTERM)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, handler)


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The one thing a failed `telemetry demo` prints, checked to be a single line on stderr."""
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.rstrip("\n")


def test_a_zero_duration_is_rejected_naming_both_time_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--headless", "--duration", "0"]) == 1
    assert _error_line(capsys) == "telemetry: error: --duration and --start-timeout: must be > 0, got 0, 60"


def test_a_negative_start_timeout_is_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--start-timeout", "-5"]) == 1
    assert _error_line(capsys) == "telemetry: error: --duration and --start-timeout: must be > 0, got 20, -5"


def test_zero_vehicles_is_rejected_and_writes_no_scaled_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log_dir = tmp_path / "logs"

    assert main(["demo", "--vehicles", "0", "--log-dir", str(log_dir)]) == 1

    assert _error_line(capsys) == "telemetry: error: --vehicles: must be >= 1, got 0"
    assert not log_dir.exists()
    assert not (tmp_path / "log").exists()


def test_more_vehicles_than_ros_domain_ids_is_rejected_saying_how_many_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--vehicles", "223", "--log-dir", str(tmp_path / "logs")]) == 1
    assert _error_line(capsys) == (
        "telemetry: error: --vehicles: at most 222 vehicles fit in ROS domain ids 11..232 (one per vehicle), got 223"
    )


def test_a_missing_config_file_is_rejected_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere" / "fleet.yaml"

    assert main(["demo", "--config", str(missing), "--headless"]) == 1

    assert _error_line(capsys) == f"telemetry: error: {missing}: file not found"


def test_a_relative_missing_config_is_named_by_its_full_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--config", "fleet.yaml", "--vehicles", "4"]) == 1
    assert _error_line(capsys) == f"telemetry: error: {tmp_path.resolve() / 'fleet.yaml'}: file not found"


def test_an_invalid_config_is_rejected_naming_the_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_fleet_config(tmp_path / "fleet.yaml", vehicle="rover-01", domain_id=300, router_port=free_port())

    assert main(["demo", "--config", str(config), "--headless"]) == 1

    assert re.fullmatch(
        rf"telemetry: error: {re.escape(str(config))}: vehicles\[0\]\.ros_domain_id: must be in 0\.\.232 .*got 300",
        _error_line(capsys),
    )


def test_a_taken_router_port_stops_the_demo_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log_dir = tmp_path / "logs"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other_router:
        other_router.bind(("127.0.0.1", free_port()))
        other_router.listen()
        port = int(other_router.getsockname()[1])
        config = write_fleet_config(tmp_path / "fleet.yaml", vehicle="rover-01", domain_id=77, router_port=port)

        assert main(["demo", "--config", str(config), "--headless", "--log-dir", str(log_dir)]) == 1

    assert _error_line(capsys) == (
        f"telemetry: error: tcp/127.0.0.1:{port} (eu-west router): port {port} is taken; is another demo or "
        "router running? Stop it, or give the routers other ports in the fleet config"
    )
    assert not log_dir.exists()  # nothing started, not even the logs


def test_an_unknown_demo_flag_is_an_argparse_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match=r"^2$"):
        main(["demo", "--count", "3"])
    assert "unrecognized arguments: --count 3" in capsys.readouterr().err
