"""SensorSimNode in this process: its publishing thread when ROS shuts down under it.

SIGINT and SIGTERM reach sensor_sim through rclpy's signal handler, which shuts the ROS
context down while the publishing thread keeps running until `run()` gets to `node.stop()`.
Calling `rclpy.shutdown()` here does what that handler does, without a signal.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import rclpy
from rclpy.signals import SignalHandlerOptions
from rclpy.utilities import try_shutdown
from support.fleet_files import next_domain_id
from support.processes import wait_until

from telemetry.config import StreamConfig, VehicleConfig
from telemetry.ros.sensor_sim import SensorSimNode
from telemetry.sim.motion import model_for_vehicle


@pytest.fixture
def thread_errors() -> Iterator[list[threading.ExceptHookArgs]]:
    """Exceptions that end any thread during the test (they would only be printed otherwise)."""
    errors: list[threading.ExceptHookArgs] = []
    previous = threading.excepthook
    threading.excepthook = errors.append
    try:
        yield errors
    finally:
        threading.excepthook = previous


def test_the_publishing_thread_ends_quietly_when_ros_shuts_down(
    thread_errors: list[threading.ExceptHookArgs],
) -> None:
    domain_id = next_domain_id()
    rclpy.init(domain_id=domain_id, signal_handler_options=SignalHandlerOptions.NO)
    try:
        imu = StreamConfig("/imu", "sensor_msgs/msg/Imu", 2000.0)
        vehicle = VehicleConfig("rover-sd", "eu-west", domain_id, (imu,))
        node = SensorSimNode(vehicle, model_for_vehicle(vehicle.name))
        node.start()
        rclpy.shutdown()  # what the SIGTERM handler does, while the loop publishes every 0.5 ms
        wait_until(lambda: bool(thread_errors), timeout_s=0.5)  # a broken loop fails at its next publish
        node.stop()
        node.destroy_node()
    finally:
        try_shutdown()
    assert not thread_errors, [f"{e.exc_type.__name__}: {e.exc_value}" for e in thread_errors]
