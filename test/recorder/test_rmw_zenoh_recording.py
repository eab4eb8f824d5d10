"""A robot on rmw_zenoh is recorded like a bridged vehicle: its own file, its topic, its bytes.

The robot is the demo's stand-in (telemetry/sim/rmw_zenoh_node.py, leaving some sequence
numbers out), a client of its region router; the recorder is the real process with the fleet
config that says which domain and namespace the robot is. What a test subscriber saw on the
robot's key is what the MCAP file must hold, sample for sample.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml
import zenoh
from support.fleet_files import stream
from support.processes import free_port
from support.recorder_side import start_recorder, stop_recorder
from support.zenoh_net import ClientSessions

from telemetry.codec.rmw_zenoh import parse_attachment
from telemetry.codec.stamp import header_stamp_ns
from telemetry.config import load_fleet_config
from telemetry.demo.plan import region_endpoint, router_parts, vehicle_parts
from telemetry.demo.supervisor import Supervisor
from telemetry.process import stop_processes
from telemetry.recorder.archive import read_samples
from telemetry.sim.sensors import IMU_TYPE

START_TIMEOUT_S = 60.0
SKIPPED = tuple(range(500, 600, 10))
WANTED_SAMPLES = 2500


def write_config(path: Path) -> Path:
    fleet = {
        "cloud": {"router": {"listen": [f"tcp/127.0.0.1:{free_port()}"]}},
        "regions": [{"name": "eu-west", "router": {"listen": [f"tcp/127.0.0.1:{free_port()}"]}}],
        "vehicles": [{"name": "robot-01", "region": "eu-west", "ros_domain_id": 4, "source": "rmw_zenoh",
                      "namespace": "/robot1", "streams": [stream("/imu", IMU_TYPE, 1000)]}],
    }
    path.write_text(yaml.safe_dump(fleet, sort_keys=False), encoding="utf-8")
    return path


def test_an_rmw_zenoh_robots_samples_are_recorded_with_their_sequence_stamp_and_bytes(tmp_path: Path) -> None:
    config_path = write_config(tmp_path / "fleet.yaml")
    fleet = load_fleet_config(config_path)
    robot = fleet.vehicle("robot-01")
    supervisor = Supervisor(tmp_path / "logs")
    supervisor.log_dir.mkdir()
    sessions = ClientSessions()
    seen: list[tuple[int, bytes]] = []  # (sequence, payload) as a subscriber got them

    def heard(sample: zenoh.Sample) -> None:
        assert sample.attachment is not None
        seen.append((parse_attachment(sample.attachment.to_bytes()).sequence, sample.payload.to_bytes()))

    try:
        for part in router_parts(fleet):
            supervisor.wait_for_line(supervisor.start(part), " listening on ", START_TIMEOUT_S)
        recorder = start_recorder(supervisor, config_path, tmp_path / "recording")
        session = sessions.open(fleet.cloud.listen[0], timeout_s=30.0)
        subscriber = session.declare_subscriber("4/robot1/imu/*/*", heard)
        [part] = vehicle_parts(robot, config_path, region_router=region_endpoint(fleet, robot))
        node = supervisor.start(replace(part, args=(*part.args, "--skip", ",".join(map(str, SKIPPED)))))
        supervisor.wait_for_any([node, recorder], lambda: "yes" if len(seen) >= WANTED_SAMPLES else None,
                                START_TIMEOUT_S, f"{WANTED_SAMPLES} samples of the robot", interval_s=0.1)
        stop_processes([node.process], 10.0, [node.part.name])
        stop_recorder(recorder)
        subscriber.undeclare()
    finally:
        sessions.close_all()
        supervisor.stop_all()

    [file] = list((tmp_path / "recording").glob("vehicles/eu-west/robot-01/*.mcap"))
    samples = list(read_samples(file))
    assert {(s.topic, s.ros_type) for s in samples} == {("/imu", IMU_TYPE)}
    recorded = [(s.sequence, s.data) for s in samples]
    # The recorder subscribed before the robot started and stopped after it: the same samples.
    assert recorded == seen
    sequences = [sequence for sequence, _ in recorded]
    assert not set(SKIPPED) & set(sequences) and sequences[0] == 1
    assert set(range(1, sequences[-1] + 1)) - set(sequences) == set(SKIPPED)
    assert all(s.source_ns == header_stamp_ns(s.data) for s in samples)
