"""The RIHS01 type hashes the rmw_zenoh stand-in puts in its keys and tokens are ROS 2's own:
rclpy reports each publisher's type hash (rosidl computes it), and they must agree, or a real
rmw_zenoh subscriber would see a different type than the stand-in claims."""

from __future__ import annotations

import pytest
from sensor_msgs.msg import Imu
from support.fleet_files import next_domain_id
from support.processes import wait_until
from support.ros_side import RosProbe

from telemetry.sim.rmw_zenoh_node import TYPE_HASHES
from telemetry.sim.sensors import IMU_TYPE

MESSAGE_CLASSES = {IMU_TYPE: Imu}


@pytest.mark.parametrize("ros_type", sorted(TYPE_HASHES))
def test_the_stand_ins_type_hash_is_the_one_rclpy_reports(ros_type: str) -> None:
    probe = RosProbe(next_domain_id())
    try:
        probe.publisher(MESSAGE_CLASSES[ros_type], "/hashed")

        def reported() -> list[str]:
            return [str(info.topic_type_hash) for info in probe.node.get_publishers_info_by_topic("/hashed")]

        assert wait_until(lambda: bool(reported()), 10), "rclpy never saw its own publisher"
        assert reported() == [TYPE_HASHES[ros_type]]
    finally:
        probe.close()
