"""Bad input reaches the bridge: it warns once per stream, counts, and keeps forwarding the rest.

sensor_sim publishes the vehicle's four good streams from the correct config. The bridge
reads a second config for the same vehicle and domain that adds three kinds of trouble:
- /raw_imu (sensor_msgs/Imu, whose header stamp the bridge peeks): this test publishes raw
  bytes on it that are too short to hold a header, then one valid message;
- /thing of type fake_msgs/msg/Thing: its .msg definition exists (in a share folder this test
  puts on the bridge's AMENT_PREFIX_PATH), so the config is valid, but no Python package
  for it is installed, so the bridge cannot subscribe;
- /odom configured as sensor_msgs/msg/Imu while sensor_sim publishes nav_msgs/msg/Odometry.
The scenario runs once for the module; each test checks one kind of trouble.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sensor_msgs.msg import Imu
from support.fleet_files import DEFAULT_STREAMS, next_domain_id, stream, with_stream_options, write_fleet_config
from support.processes import ChildProcess, ProcessGroup, free_port
from support.ros_side import publish_until, ros_probe
from support.vehicle_nodes import log_lines, start_bridge, start_sensor_sim, wait_bridge_attached
from support.wire import WireRecorder, WireSample, query_catalogue, stream_counters
from support.zenoh_net import ClientSessions, start_router

VEHICLE = "rover-13"
REGION = "eu-west"
DATA = f"telemetry/data/{REGION}/{VEHICLE}"
TOO_SHORT = b"\x00\x01\x00\x00\x07"  # a CDR encapsulation header and one byte: no room for a stamp
MALFORMED_COUNT = 3
#: Long enough for the bridge's 1 s graph scan to run a few more times after the trouble began.
WINDOW_S = 3.0


@dataclass
class Outcome:
    bridge: ChildProcess
    catalogue: dict[str, Any]  # the bridge's answer after the window
    window: dict[str, list[WireSample]]  # stream -> samples that arrived in the window
    everything: list[WireSample]


def fake_share_prefix(root: Path) -> Path:
    """A prefix laid out like a ROS install that has fake_msgs/msg/Thing.msg and nothing else."""
    msg_dir = root / "share" / "fake_msgs" / "msg"
    msg_dir.mkdir(parents=True)
    (msg_dir / "Thing.msg").write_text("float64 value\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    folder = tmp_path_factory.mktemp("bad_inputs")
    port, domain_id = free_port(), next_domain_id()
    good = write_fleet_config(folder / "fleet.yaml", vehicle=VEHICLE, domain_id=domain_id, router_port=port)
    bad_streams = [
        *with_stream_options(DEFAULT_STREAMS, "/odom", type="sensor_msgs/msg/Imu"),
        stream("/raw_imu", "sensor_msgs/msg/Imu", 10),
        stream("/thing", "fake_msgs/msg/Thing", 10),
    ]
    bad = write_fleet_config(folder / "bridge.yaml", vehicle=VEHICLE, domain_id=domain_id, router_port=port,
                             streams=bad_streams)
    prefix = fake_share_prefix(folder / "prefix")
    ament_prefix_path = os.pathsep.join(p for p in (str(prefix), os.environ.get("AMENT_PREFIX_PATH", "")) if p)

    group = ProcessGroup()
    clients = ClientSessions()
    try:
        router = start_router(group, port, "eu-west.json5")
        sensor_sim = start_sensor_sim(group, good, VEHICLE)
        bridge = start_bridge(group, "--config", str(bad), "--vehicle", VEHICLE,
                              env={"AMENT_PREFIX_PATH": ament_prefix_path})
        wait_bridge_attached(bridge)
        observer = clients.open(router.endpoint)
        with WireRecorder(observer, "telemetry/**") as recorder, ros_probe(domain_id) as driver:
            assert recorder.wait_for(f"{DATA}/imu", timeout_s=20.0), f"{bridge.output()}\n{sensor_sim.output()}"
            raw_imu = driver.publisher(Imu, "/raw_imu")

            def malformed() -> int:
                return stream_counters(query_catalogue(observer, REGION, VEHICLE), "/raw_imu")["malformed"]

            assert publish_until(lambda: raw_imu.publish(TOO_SHORT), lambda: malformed() >= MALFORMED_COUNT,
                                 timeout_s=15.0, period_s=0.1), bridge.output()
            valid = Imu()
            valid.header.frame_id = "driver/imu_link"
            assert publish_until(lambda: raw_imu.publish(valid), lambda: bool(recorder.samples(f"{DATA}/raw_imu")),
                                 timeout_s=10.0, period_s=0.1), bridge.output()
            start_ns, end_ns = recorder.measure(WINDOW_S)
            window = {s["topic"][1:]: recorder.samples(f"{DATA}{s['topic']}", start_ns, end_ns) for s in bad_streams}
            catalogue = query_catalogue(observer, REGION, VEHICLE)
        yield Outcome(bridge, catalogue, window, recorder.samples())
    finally:
        clients.close_all()
        group.stop_all()


def test_good_streams_keep_flowing_at_their_rates(outcome: Outcome) -> None:
    counts = {name: len(outcome.window[name]) for name in ("imu", "gnss", "battery")}
    assert counts["imu"] >= 0.95 * 1000 * WINDOW_S, (counts, outcome.bridge.output())
    assert 0.8 * 10 * WINDOW_S <= counts["gnss"] <= 1.2 * 10 * WINDOW_S + 1, counts
    assert counts["battery"] >= WINDOW_S - 1, counts
    assert outcome.bridge.returncode is None
    assert not log_lines(outcome.bridge, "Traceback")


def test_samples_too_short_for_a_header_are_counted_as_malformed_and_warned_about_once(outcome: Outcome) -> None:
    counters = stream_counters(outcome.catalogue, "/raw_imu")
    assert counters["malformed"] >= MALFORMED_COUNT
    assert counters["forwarded"] >= 1  # the valid message after them went through
    assert counters["received"] == counters["malformed"] + counters["forwarded"]
    forwarded = [s for s in outcome.everything if s.key == f"{DATA}/raw_imu"]
    assert forwarded and all(s.payload != TOO_SHORT for s in forwarded)
    # Numbers go to forwarded samples only: the malformed ones before them took none.
    assert max(s.attachment.sequence for s in forwarded) <= counters["forwarded"]
    assert stream_counters(outcome.catalogue, "/imu")["malformed"] == 0
    warnings = log_lines(outcome.bridge, "malformed")
    assert len(warnings) == 1 and "/raw_imu: dropping malformed samples" in warnings[0], outcome.bridge.output()


def test_a_type_with_a_definition_but_no_python_package_is_counted_and_not_bridged(outcome: Outcome) -> None:
    assert outcome.catalogue["health"]["unknown_types"] == 1
    assert "/thing" not in {entry["topic"] for entry in outcome.catalogue["streams"]}
    warnings = log_lines(outcome.bridge, "fake_msgs/msg/Thing")
    assert len(warnings) == 1 and "/thing: type fake_msgs/msg/Thing is not installed" in warnings[0]


def test_a_configured_type_that_differs_from_the_graph_is_counted_and_warned_about_once(outcome: Outcome) -> None:
    assert outcome.catalogue["health"]["type_mismatches"] == 1, outcome.catalogue["health"]
    warnings = log_lines(outcome.bridge, "/odom: configured as")
    assert len(warnings) == 1, outcome.bridge.output()
    assert "/odom: configured as sensor_msgs/msg/Imu but the graph has nav_msgs/msg/Odometry" in warnings[0]


def test_samples_of_a_mismatched_type_are_never_forwarded_under_the_configured_type(outcome: Outcome) -> None:
    assert not [s for s in outcome.everything if s.key == f"{DATA}/odom"]
    assert stream_counters(outcome.catalogue, "/odom")["forwarded"] == 0
