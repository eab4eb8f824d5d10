"""The codec's CDR bytes equal those of two independent serializers for the same values.

rosbags (a pure-Python CDR implementation) is compared byte for byte, for our msg/ types
(registered with rosbags from the same .msg text) and for the standard sensor types.
rclpy's serialize_message (Fast DDS's serializer) leaves alignment padding uninitialised,
so its bytes are compared everywhere except at the padding positions, which the test finds
by encoding our message a second time with padding filled with 0xFF.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from pycdr2._support import Buffer, Endianness
from support.message_values import filled, to_rclpy, to_rosbags

from telemetry.codec import TypeStore
from telemetry.codec.store import source_msg_dir

OWN_TYPES = sorted(f"telemetry/msg/{path.stem}" for path in (source_msg_dir() or Path()).glob("*.msg"))
STANDARD_TYPES = ["sensor_msgs/msg/Imu", "nav_msgs/msg/Odometry",
                  "sensor_msgs/msg/NavSatFix", "sensor_msgs/msg/BatteryState"]


class _PaddingMarkingBuffer(Buffer):
    """A pycdr2 buffer whose unwritten bytes (alignment padding) stay 0xFF."""

    def __init__(self) -> None:
        super().__init__(bytes(1 << 20))

    def zero_out(self) -> None:
        self._bytes = bytearray(b"\xff") * self._size


def _padding_positions(message: object) -> set[int]:
    zeroed = message.serialize(buffer=Buffer(), endianness=Endianness.Little)  # type: ignore[attr-defined]
    marked = message.serialize(buffer=_PaddingMarkingBuffer(), endianness=Endianness.Little)  # type: ignore[attr-defined]
    assert len(zeroed) == len(marked)
    return {i for i, (a, b) in enumerate(zip(zeroed, marked, strict=True)) if a != b}


@pytest.mark.parametrize("array_len", [0, 1, 7])
@pytest.mark.parametrize("type_name", OWN_TYPES + STANDARD_TYPES)
def test_codec_bytes_equal_rosbags_bytes_for_the_same_values(
    store: TypeStore, rosbags_store: Any, type_name: str, array_len: int
) -> None:
    message = filled(store, type_name, random.Random(f"{type_name}/{array_len}"), array_len)
    ours = store.encode(message)
    theirs = rosbags_store.serialize_cdr(to_rosbags(store, type_name, message, rosbags_store), type_name)
    assert ours == bytes(theirs)


@pytest.mark.parametrize("array_len", [0, 1, 7])
@pytest.mark.parametrize("type_name", STANDARD_TYPES)
def test_codec_bytes_equal_rclpy_bytes_except_padding(
    store: TypeStore, type_name: str, array_len: int
) -> None:
    from rclpy.serialization import deserialize_message, serialize_message

    message = filled(store, type_name, random.Random(f"rclpy/{type_name}/{array_len}"), array_len)
    ros_message = to_rclpy(store, type_name, message)
    ours = store.encode(message)
    theirs = serialize_message(ros_message)
    assert len(ours) == len(theirs)
    padding = _padding_positions(message)
    differing = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b and i not in padding]
    assert differing == [], f"bytes differ outside padding at offsets {differing[:10]}"
    # And each side reads the other's bytes back to the same values.
    assert store.decode(type_name, theirs) == message
    assert deserialize_message(ours, type(ros_message)) == ros_message


def test_rclpy_imu_decodes_to_the_values_it_was_given(store: TypeStore) -> None:
    from rclpy.serialization import serialize_message
    from sensor_msgs.msg import Imu

    imu = Imu()
    imu.header.stamp.sec, imu.header.stamp.nanosec = 1_700_000_000, 123_456_789
    imu.header.frame_id = "rover-01/imu_link"
    imu.angular_velocity.z = 0.25
    imu.linear_acceleration.x = -9.81
    imu.orientation_covariance[4] = 0.5

    decoded = store.decode("sensor_msgs/Imu", serialize_message(imu))

    assert (decoded.header.stamp.sec, decoded.header.stamp.nanosec) == (1_700_000_000, 123_456_789)
    assert decoded.header.frame_id == "rover-01/imu_link"
    assert decoded.angular_velocity.z == 0.25
    assert decoded.linear_acceleration.x == -9.81
    assert decoded.orientation_covariance[4] == 0.5
