"""`telemetry demo` end to end: the shipped fleet (on free ports, in fresh ROS domains) as
real processes, judged headless; a crash, a taken port and Ctrl-C; nothing left behind."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.demo_side import DemoRun, alive, start_demo
from support.fleet_files import shipped_fleet_on_free_ports
from support.processes import ProcessGroup
from support.terminal import TerminalChild

#: Start-up (~4 s here) + the run + stopping, with room for a loaded CI machine.
EXIT_TIMEOUT_S = 90


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    return shipped_fleet_on_free_ports(tmp_path / "fleet.yaml")


@pytest.fixture
def demos(processes: ProcessGroup) -> Iterator[list[DemoRun]]:
    """Demos of this test; afterwards each is stopped, then anything it left is killed by pid."""
    runs: list[DemoRun] = []
    yield runs
    for run in runs:
        run.process.stop(timeout_s=30)
        run.kill_leftovers()


def _finish(run: DemoRun) -> int:
    code = run.process.wait_exit(EXIT_TIMEOUT_S)
    assert code is not None, f"the demo did not end within {EXIT_TIMEOUT_S} s\n{run.process.output()}"
    return code


def _vehicles(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["vehicle"]: v for v in report["vehicles"]}


def test_the_shipped_fleet_runs_headless_passes_and_leaves_no_process_behind(
    processes: ProcessGroup, demos: list[DemoRun], fleet_file: Path, tmp_path: Path
) -> None:
    status = tmp_path / "status.json"
    run = start_demo(processes, fleet_file, "--headless", "--duration", "20", "--json", str(status),
                     log_dir=tmp_path / "logs")
    demos.append(run)

    assert _finish(run) == 0, run.process.output()
    assert "PASSED: 12 streams within 5 % of their rate, nothing lost" in run.process.output()
    assert len(run.pids()) == 11, run.pids()  # 3 routers, aggregator, recorder, 3 x (sensor_sim, zenoh_bridge)
    assert run.leftovers() == {}
    report = json.loads(status.read_text())
    assert report["ok"] is True and report["reasons"] == []
    vehicles = _vehicles(report)
    assert sorted(vehicles) == ["rover-01", "rover-02", "rover-03"]
    for vehicle in vehicles.values():
        assert vehicle["status"] == "online"
        streams = {s["topic"]: s for s in vehicle["streams"]}
        assert sorted(streams) == ["/battery", "/gnss", "/imu", "/odom"]
        for stream in streams.values():
            assert 0.95 <= stream["rate_hz"] / stream["expected_hz"] <= 1.05, stream
            assert stream["lost_during_run"] == 0, stream
        assert streams["/imu"]["latency_p99_ms"] < 50  # loose: the exact figure is a benchmark's job
    assert sorted(p.name for p in (tmp_path / "logs").iterdir() if p.is_file()) == sorted(
        f"{name.replace(' ', '-')}.log" for name in run.pids()
    )
    # Recorded by default, into the run's folder: one closed segment per vehicle, and the fleet's stats.
    recording = tmp_path / "logs" / "recording"
    assert sorted(p.parent.name for p in recording.glob("vehicles/*/*/*.mcap")) == sorted(vehicles)
    assert list(recording.glob("fleet/*.mcap")) and not list(recording.rglob("*.part"))


def test_a_killed_sensor_sim_makes_its_vehicle_stale_and_the_run_fail_naming_it(
    processes: ProcessGroup, demos: list[DemoRun], fleet_file: Path, tmp_path: Path
) -> None:
    status = tmp_path / "status.json"
    # No recorder: staleness does not involve it, and a slow host has a quarter of a core less to spare.
    run = start_demo(processes, fleet_file, "--headless", "--duration", "12", "--json", str(status), "--no-record",
                     log_dir=tmp_path / "logs")
    demos.append(run)
    run.process.wait_for_line("running for", timeout_s=60)
    sensor_sim = run.pids()["rover-01 sensor_sim"]

    os.kill(sensor_sim, signal.SIGKILL)

    assert _finish(run) == 1, run.process.output()
    output = run.process.output()
    assert f"rover-01 sensor_sim (pid {sensor_sim}) exited with code -9 during the run" in output
    report = json.loads(status.read_text())
    assert report["ok"] is False
    assert "eu-west/rover-01: stale: its token is there but no data arrives" in report["reasons"]
    others = [reason for reason in report["reasons"] if "rover-01" not in reason]
    assert others == [], "\n".join(others)  # whole lines: pytest cuts a long list's repr short
    vehicles = _vehicles(report)
    assert vehicles["rover-01"]["status"] == "stale"
    for name in ("rover-02", "rover-03"):  # the rest kept running
        imu = next(s for s in vehicles[name]["streams"] if s["topic"] == "/imu")
        assert vehicles[name]["status"] == "online" and 950 <= imu["rate_hz"] <= 1050, vehicles[name]
    assert run.leftovers() == {}


def test_a_mixed_fleet_with_a_robot_on_rmw_zenoh_passes_and_shows_it_like_the_others(
    processes: ProcessGroup, demos: list[DemoRun], fleet_file: Path, tmp_path: Path
) -> None:
    status = tmp_path / "status.json"
    run = start_demo(processes, fleet_file, "--headless", "--duration", "8", "--json", str(status), "--no-record",
                     "--vehicles", "1", "--rmw-zenoh-vehicles", "1", log_dir=tmp_path / "logs")
    demos.append(run)
    assert _finish(run) == 0, run.process.output()
    output = run.process.output()
    assert "eu-west/robot-01         streaming (rmw_zenoh, pid" in output
    assert sorted(run.pids()) == ["aggregator", "cloud router", "eu-west router", "robot-01 rmw_zenoh_sim",
                                  "rover-01 sensor_sim", "rover-01 zenoh_bridge", "us-east router"]
    robot = _vehicles(json.loads(status.read_text()))["robot-01"]
    imu = next(s for s in robot["streams"] if s["topic"] == "/imu")
    assert robot["status"] == "online" and 0.95 <= imu["rate_hz"] / 1000 <= 1.05 and imu["lost_during_run"] == 0, robot
    assert run.leftovers() == {}


def test_a_demo_on_a_taken_port_fails_at_once_saying_so(
    processes: ProcessGroup, demos: list[DemoRun], fleet_file: Path, tmp_path: Path
) -> None:
    cloud = yaml.safe_load(fleet_file.read_text())["cloud"]["router"]["listen"][0]
    port = int(cloud.rsplit(":", 1)[1])
    with socket.create_server(("127.0.0.1", port)):  # what a first demo's cloud router holds
        run = start_demo(processes, fleet_file, "--headless", log_dir=tmp_path / "logs")
        demos.append(run)
        assert run.process.wait_exit(30) == 1, run.process.output()
    assert f"telemetry: error: {cloud} (cloud router): port {port} is taken" in run.process.output()
    assert run.pids() == {}  # nothing was started


def test_ctrl_c_stops_every_process_the_demo_started(
    processes: ProcessGroup, demos: list[DemoRun], fleet_file: Path, tmp_path: Path
) -> None:
    run = start_demo(processes, fleet_file, "--headless", "--duration", "120", log_dir=tmp_path / "logs")
    demos.append(run)
    run.process.wait_for_line("running for", timeout_s=60)
    assert len(run.leftovers()) == 11

    run.process.send_signal(signal.SIGINT)

    assert _finish(run) == 130, run.process.output()
    assert "stopped 11 processes" in run.process.output()
    assert run.leftovers() == {}


def test_the_interactive_demo_shows_the_fleet_on_the_dashboard_and_q_stops_everything(
    fleet_file: Path, tmp_path: Path
) -> None:
    demo = TerminalChild("telemetry.cli", "demo", "--config", str(fleet_file), "--log-dir", str(tmp_path / "logs"))
    try:
        assert demo.read_until(b"fleet up: 3 vehicles", timeout_s=60), demo.screen[-3000:]
        pids = [int(pid) for pid in re.findall(rb"\(pid (\d+)\)", demo.screen)]
        assert len(pids) == 11
        assert demo.read_until(b"streams 12/12 ok", timeout_s=30), demo.screen[-3000:]
        demo.write(b"q")
        assert demo.process.wait(timeout=30) == 0
        demo.read_until(b"stopped 11 processes", timeout_s=5)
        assert b"stopped 11 processes" in demo.screen
        assert [pid for pid in pids if alive(pid)] == []
    finally:
        demo.stop()
        for pid in [int(p) for p in re.findall(rb"\(pid (\d+)\)", demo.screen)]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
