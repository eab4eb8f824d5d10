"""sensor_sim's two payloads put the same messages on ROS topics.

By default the node publishes CDR it packs itself (`publish(bytes)`), with `objects` it
publishes message objects rclpy serializes. A subscriber in another context, on the test's
own domain, decodes both as the standard types with the vehicle's frames and values.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import rclpy
from nav_msgs.msg import Odometry
from rclpy.qos import qos_profile_sensor_data
from rclpy.signals import SignalHandlerOptions
from rclpy.utilities import try_shutdown
from sensor_msgs.msg import BatteryState, Imu, NavSatFix
from support.fleet_files import next_domain_id
from support.ros_side import RosProbe, ros_probe

from telemetry.config import StreamConfig, VehicleConfig
from telemetry.ros.sensor_sim import Payload, SensorSimNode, parse_args
from telemetry.sim.motion import GRAVITY_MPS2, model_for_vehicle

VEHICLE = "rover-pl"
TOPICS: dict[str, type] = {"/imu": Imu, "/odom": Odometry, "/gnss": NavSatFix, "/battery": BatteryState}
SAMPLES_PER_TOPIC = 5


@pytest.fixture
def domain_id() -> Iterator[int]:
    """A fresh domain with rclpy's default context initialised on it, for the node under test."""
    domain = next_domain_id()
    rclpy.init(domain_id=domain, signal_handler_options=SignalHandlerOptions.NO)
    try:
        yield domain
    finally:
        try_shutdown()


def received_messages(probe: RosProbe, timeout_s: float = 10.0) -> dict[str, list[Any]]:
    """The first samples of each topic, spinning the probe until all have arrived."""
    received: dict[str, list[Any]] = {topic: [] for topic in TOPICS}
    for topic, cls in TOPICS.items():
        probe.node.create_subscription(cls, topic, received[topic].append, qos_profile_sensor_data)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and min(map(len, received.values())) < SAMPLES_PER_TOPIC:
        probe.executor.spin_once(timeout_sec=0.05)
    return received


@pytest.mark.parametrize("payload", list(Payload))
def test_each_payload_publishes_all_four_types_with_the_vehicles_frames_and_values(
    domain_id: int, payload: Payload
) -> None:
    streams = tuple(StreamConfig(topic, f"{cls.__module__.split('.')[0]}/msg/{cls.__name__}", 50.0)
                    for topic, cls in TOPICS.items())
    node = SensorSimNode(VehicleConfig(VEHICLE, "eu-west", domain_id, streams), model_for_vehicle(VEHICLE), payload)
    try:
        with ros_probe(domain_id) as probe:
            node.start()
            received = received_messages(probe)
    finally:
        node.stop()
        node.destroy_node()

    assert {topic: len(messages) >= SAMPLES_PER_TOPIC for topic, messages in received.items()} == dict.fromkeys(
        TOPICS, True
    )
    imu, odometry, fix, battery = (received[topic][-1] for topic in TOPICS)
    assert imu.header.frame_id == f"{VEHICLE}/imu_link"
    assert imu.linear_acceleration.z == GRAVITY_MPS2
    assert (odometry.header.frame_id, odometry.child_frame_id) == (f"{VEHICLE}/odom", f"{VEHICLE}/base_link")
    assert fix.status.service == fix.status.SERVICE_GPS
    assert (battery.present, battery.design_capacity) == (True, 10.0)
    stamps_ns = [m.header.stamp.sec * 1_000_000_000 + m.header.stamp.nanosec for m in received["/imu"]]
    assert stamps_ns == sorted(stamps_ns)
    assert abs(stamps_ns[-1] - time.time_ns()) < 10 * 1_000_000_000  # stamped with the wall clock


def test_the_payload_option_defaults_to_bytes_and_takes_objects() -> None:
    assert parse_args(["sensor_sim", "--vehicle", VEHICLE]).payload is Payload.BYTES
    assert parse_args(["sensor_sim", "--vehicle", VEHICLE, "--payload", "objects"]).payload is Payload.OBJECTS


def test_an_unknown_payload_is_refused_naming_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["sensor_sim", "--vehicle", VEHICLE, "--payload", "json"])
    assert "argument --payload: invalid Payload value: 'json'" in capsys.readouterr().err
