"""One vehicle end to end: sensor_sim -> zenoh_bridge -> router -> a plain Zenoh subscriber here.

All four processes are real (rclpy nodes on their own ROS domain, a Zenoh router on a free
port). They start once for this module; the subscriber records everything for a 5 s window
that opens once every stream has delivered its first sample, and each test checks one
property of that recording (or asks the running bridge).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import zenoh
from support.fleet_files import next_domain_id, write_fleet_config
from support.processes import ChildProcess, ProcessGroup, free_port
from support.vehicle_nodes import start_bridge, start_sensor_sim, wait_bridge_attached
from support.wire import (
    WireRecorder,
    WireSample,
    alive_keys,
    allowed_losses,
    missing_sequences,
    priority_number,
    query_catalogue,
    stream_counters,
)
from support.zenoh_net import ClientSessions, start_router

from telemetry.codec import TypeStore
from telemetry.sim.motion import GRAVITY_MPS2, model_for_vehicle

VEHICLE = "rover-01"
REGION = "eu-west"
WINDOW_S = 5.0
DATA = f"telemetry/data/{REGION}/{VEHICLE}"
TYPES = {
    "imu": "sensor_msgs/msg/Imu",
    "odom": "nav_msgs/msg/Odometry",
    "gnss": "sensor_msgs/msg/NavSatFix",
    "battery": "sensor_msgs/msg/BatteryState",
}
#: Loose bounds for the slower streams, in samples per 5 s window (DDS best effort, 2 cores).
EXPECTED_COUNTS = {"odom": (450, 550), "gnss": (40, 60), "battery": (4, 6)}
MODEL = model_for_vehicle(VEHICLE)


@dataclass
class Pipeline:
    observer: zenoh.Session
    sensor_sim: ChildProcess
    bridge: ChildProcess
    window: dict[str, list[WireSample]]  # stream ("imu") -> its samples that arrived in the window

    def logs(self) -> str:
        return f"{self.sensor_sim.output()}\n{self.bridge.output()}"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    port = free_port()
    config = write_fleet_config(tmp_path_factory.mktemp("pipeline") / "fleet.yaml",
                                vehicle=VEHICLE, domain_id=next_domain_id(), router_port=port)
    group = ProcessGroup()
    clients = ClientSessions()
    try:
        router = start_router(group, port, "eu-west.json5")
        sensor_sim = start_sensor_sim(group, config, VEHICLE)
        bridge = start_bridge(group, "--config", str(config), "--vehicle", VEHICLE)
        wait_bridge_attached(bridge)
        observer = clients.open(router.endpoint)
        with WireRecorder(observer, "telemetry/**") as recorder:
            for stream in TYPES:
                assert recorder.wait_for(f"{DATA}/{stream}", timeout_s=20.0), (
                    f"no {stream} sample arrived\n{sensor_sim.output()}\n{bridge.output()}")
            start_ns, end_ns = recorder.measure(WINDOW_S)
            window = {stream: recorder.samples(f"{DATA}/{stream}", start_ns, end_ns) for stream in TYPES}
        yield Pipeline(observer, sensor_sim, bridge, window)
    finally:
        clients.close_all()
        group.stop_all()


def stamp_ns(message: Any) -> int:
    return int(message.header.stamp.sec) * 1_000_000_000 + int(message.header.stamp.nanosec)


def test_imu_arrives_at_1_khz_with_consecutive_sequence_numbers(pipeline: Pipeline) -> None:
    imu = pipeline.window["imu"]
    missing = missing_sequences([sample.attachment.sequence for sample in imu])
    counters = stream_counters(query_catalogue(pipeline.observer, REGION, VEHICLE), "/imu")
    problem = f"{len(imu)} samples in {WINDOW_S} s, missing {missing[:20]}, bridge counters {counters}"
    assert len(imu) >= 0.99 * 1000 * WINDOW_S, f"{problem}\n{pipeline.logs()}"
    assert len(missing) <= allowed_losses(len(imu)), problem  # see TRANSPORT_LOSS_TOLERANCE
    # Every sample the bridge took is forwarded, except those that came before its Zenoh
    # session was open (sensor_sim starts first), which it counts as not routed.
    assert counters["received"] == counters["forwarded"] + counters["not_routed"], counters
    assert counters["put_errors"] == 0 and counters["malformed"] == 0, counters


def test_imu_payloads_decode_with_the_codec_and_rosbags_to_plausible_imu_messages(
    pipeline: Pipeline, store: TypeStore, rosbags_store: Any
) -> None:
    min_rate, max_rate = [(MODEL.mean_speed_mps + s * MODEL.speed_swing_mps) / MODEL.radius_m for s in (-1, 1)]
    max_accel_forward = MODEL.speed_swing_mps * 2.0 * math.pi / MODEL.speed_period_s
    for sample in pipeline.window["imu"]:
        assert sample.encoding == "application/cdr;sensor_msgs/msg/Imu"
        ours = store.decode("sensor_msgs/msg/Imu", sample.payload)
        theirs = rosbags_store.deserialize_cdr(sample.payload, "sensor_msgs/msg/Imu")
        for imu in (ours, theirs):
            assert imu.header.frame_id == f"{VEHICLE}/imu_link"
            q = imu.orientation
            assert math.sqrt(q.x**2 + q.y**2 + q.z**2 + q.w**2) == pytest.approx(1.0, abs=1e-9)
            assert imu.linear_acceleration.z == pytest.approx(GRAVITY_MPS2, abs=0.2)
            yaw_rate = imu.angular_velocity.z
            assert min_rate - 1e-9 <= yaw_rate <= max_rate + 1e-9
            assert imu.linear_acceleration.y == pytest.approx(yaw_rate**2 * MODEL.radius_m, rel=1e-6)
            assert abs(imu.linear_acceleration.x) <= max_accel_forward + 1e-9
        assert stamp_ns(ours) == stamp_ns(theirs)
        assert (ours.orientation.z, ours.angular_velocity.z) == (theirs.orientation.z, theirs.angular_velocity.z)


def test_the_attachment_carries_the_header_stamp_as_source_time(pipeline: Pipeline, rosbags_store: Any) -> None:
    for stream, ros_type in TYPES.items():
        for sample in pipeline.window[stream]:
            message = rosbags_store.deserialize_cdr(sample.payload, ros_type)
            attachment = sample.attachment
            assert attachment.stamp_from_header is True
            assert attachment.source_time_ns == stamp_ns(message), stream
            # Both clocks are this machine's: the bridge sent it after it was stamped, soon after.
            assert 0 <= attachment.send_time_ns - attachment.source_time_ns < 1_000_000_000


def test_the_other_streams_arrive_at_roughly_their_configured_rates(pipeline: Pipeline) -> None:
    for stream, (low, high) in EXPECTED_COUNTS.items():
        samples = pipeline.window[stream]
        assert low <= len(samples) <= high, f"{stream}: {len(samples)} samples in {WINDOW_S} s\n{pipeline.logs()}"
        missing = missing_sequences([sample.attachment.sequence for sample in samples])
        assert len(missing) <= allowed_losses(len(samples)), (stream, missing)


def test_odometry_gnss_and_battery_are_plausible_for_the_vehicles_loop(
    pipeline: Pipeline, rosbags_store: Any
) -> None:
    for sample in pipeline.window["odom"]:
        assert sample.encoding == "application/cdr;nav_msgs/msg/Odometry"
        odom = rosbags_store.deserialize_cdr(sample.payload, TYPES["odom"])
        assert (odom.header.frame_id, odom.child_frame_id) == (f"{VEHICLE}/odom", f"{VEHICLE}/base_link")
        position = odom.pose.pose.position
        assert math.hypot(position.x, position.y - MODEL.radius_m) == pytest.approx(MODEL.radius_m, rel=1e-9)
        speed = odom.twist.twist.linear.x
        assert abs(speed - MODEL.mean_speed_mps) <= MODEL.speed_swing_mps + 1e-9
        assert odom.twist.twist.angular.z == pytest.approx(speed / MODEL.radius_m, rel=1e-9)
    for sample in pipeline.window["gnss"]:
        fix = rosbags_store.deserialize_cdr(sample.payload, TYPES["gnss"])
        assert fix.header.frame_id == f"{VEHICLE}/gnss_link"
        north_m = (fix.latitude - MODEL.origin_lat_deg) * 111_320.0
        assert -1e-6 <= north_m <= 2.0 * MODEL.radius_m + 1e-6  # the loop lies north of its start
        east_m = (fix.longitude - MODEL.origin_lon_deg) * 111_320.0 * math.cos(math.radians(fix.latitude))
        assert abs(east_m) <= MODEL.radius_m * 1.01
        assert fix.altitude == MODEL.altitude_m
    battery_levels = []
    for sample in pipeline.window["battery"]:
        battery = rosbags_store.deserialize_cdr(sample.payload, TYPES["battery"])
        assert battery.header.frame_id == f"{VEHICLE}/battery"
        assert 0.0 < battery.percentage <= 1.0 and battery.current < 0.0
        assert battery.voltage == pytest.approx(12.8 + 4.0 * battery.percentage, rel=1e-5)
        battery_levels.append(battery.percentage)
    assert battery_levels == sorted(battery_levels, reverse=True)  # draining


def test_the_meta_query_answers_the_catalogue_of_configured_streams(pipeline: Pipeline) -> None:
    catalogue = query_catalogue(pipeline.observer, REGION, VEHICLE)
    assert (catalogue["region"], catalogue["vehicle"], catalogue["version"]) == (REGION, VEHICLE, 1)
    assert catalogue["health"] == {"unknown_types": 0, "type_mismatches": 0}
    streams = {entry["topic"]: entry for entry in catalogue["streams"]}
    assert {topic: (s["type"], s["expected_hz"], s["key"]) for topic, s in streams.items()} == {
        "/imu": (TYPES["imu"], 1000.0, f"{DATA}/imu"),
        "/odom": (TYPES["odom"], 100.0, f"{DATA}/odom"),
        "/gnss": (TYPES["gnss"], 10.0, f"{DATA}/gnss"),
        "/battery": (TYPES["battery"], 1.0, f"{DATA}/battery"),
    }
    assert streams["/imu"]["priority"] == "data_high" and streams["/battery"]["priority"] == "data_low"
    for entry in streams.values():
        counters = entry["counters"]
        assert counters["forwarded"] > 0 and entry["stamp_from_header"] is True
        assert counters["malformed"] == counters["put_errors"] == counters["downsampled"] == 0


def test_the_bridge_holds_its_liveliness_token(pipeline: Pipeline) -> None:
    assert alive_keys(pipeline.observer) == [f"telemetry/alive/{REGION}/{VEHICLE}"]


def test_imu_goes_out_with_its_configured_priority(pipeline: Pipeline) -> None:
    assert {sample.priority for sample in pipeline.window["imu"]} == {priority_number(zenoh.Priority.DATA_HIGH)}
    assert {sample.priority for sample in pipeline.window["battery"]} == {priority_number(zenoh.Priority.DATA_LOW)}
    assert {sample.priority for sample in pipeline.window["odom"]} == {priority_number(zenoh.Priority.DATA)}
