"""sensor_sim's packed CDR is the message its object path would have rclpy serialize.

For each simulated type, a message filled through `telemetry.ros.sensor_messages` and
serialized by rclpy (Fast DDS's serializer) is the reference. Fast DDS leaves alignment
padding uninitialised, so against it the bytes are compared everywhere but at the padding
the packer reports; rosbags, an independent serializer that zeroes padding, then re-encodes
rclpy's bytes and must give the packed bytes exactly, which also shows the reported padding
is padding. Frame prefixes of several lengths move every field after the frame id across
alignment boundaries.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rclpy.serialization import deserialize_message, serialize_message

from telemetry.ros.sensor_messages import filler_for
from telemetry.sim.motion import GRAVITY_MPS2, MotionModel, VehicleState, model_for_vehicle
from telemetry.sim.sensor_cdr import CDR_LE_HEADER, CdrTemplate, SamplePacker, packer_for
from telemetry.sim.sensors import (
    BATTERY_TYPE,
    GNSS_POSITION_COVARIANCE,
    IMU_LINEAR_ACCELERATION_COVARIANCE,
    IMU_TYPE,
    NAVSATFIX_TYPE,
    ODOMETRY_TYPE,
    SIMULATED_TYPES,
)

NS = 1_000_000_000
#: Every length modulo 8, so the fields after the frame id meet each alignment case.
PREFIXES = ["", "a/", "ab/", "abc/", "rover-1/", "rover-01/", "rover-001/", "rover-0001/", "véhicule-ü/"]
MODELS = [MotionModel(), model_for_vehicle("rover-01"), model_for_vehicle("probe-1")]

times_s = st.floats(min_value=-1000.0, max_value=1000.0, allow_nan=False)
#: builtin_interfaces/Time holds int32 seconds: the whole range, before and after the epoch.
stamps_ns = st.integers(min_value=-(2**31) * NS, max_value=2**31 * NS - 1)
prefixes = st.sampled_from(PREFIXES) | st.text(
    st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12
).map(lambda text: text + "/")
models = st.sampled_from(MODELS)


def both_paths(
    ros_type: str, frame_prefix: str, state: VehicleState, stamp_ns: int
) -> tuple[SamplePacker, bytes, Any]:
    """(packer, its bytes, the object path's message) for one sample."""
    packer = packer_for(ros_type, frame_prefix)
    objects = filler_for(ros_type, frame_prefix)
    assert packer is not None
    assert objects is not None
    _, message, fill = objects
    fill(message, state, stamp_ns)
    return packer, packer.pack(state, stamp_ns), message


@pytest.mark.parametrize("ros_type", SIMULATED_TYPES)
@settings(max_examples=150, deadline=None)
@given(model=models, t_s=times_s, stamp_ns=stamps_ns, frame_prefix=prefixes)
def test_packed_bytes_equal_rclpy_serialization_of_the_filled_message_outside_padding(
    ros_type: str, model: MotionModel, t_s: float, stamp_ns: int, frame_prefix: str
) -> None:
    packer, ours, message = both_paths(ros_type, frame_prefix, model.state_at(t_s), stamp_ns)
    theirs = serialize_message(message)
    assert len(ours) == len(theirs)
    differing = [
        i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b and i not in packer.padding_offsets
    ]
    assert differing == [], f"bytes differ outside padding at offsets {differing[:10]}"
    assert all(ours[i] == 0 for i in packer.padding_offsets)


@pytest.mark.parametrize("ros_type", SIMULATED_TYPES)
@settings(max_examples=50, deadline=None)
@given(model=models, t_s=times_s, stamp_ns=stamps_ns, frame_prefix=prefixes)
def test_packed_bytes_equal_rosbags_reencoding_of_rclpy_bytes_exactly(
    rosbags_store: Any, ros_type: str, model: MotionModel, t_s: float, stamp_ns: int, frame_prefix: str
) -> None:
    _, ours, message = both_paths(ros_type, frame_prefix, model.state_at(t_s), stamp_ns)
    decoded = rosbags_store.deserialize_cdr(serialize_message(message), ros_type)
    assert ours == bytes(rosbags_store.serialize_cdr(decoded, ros_type))


@pytest.mark.parametrize("frame_prefix", PREFIXES)
@pytest.mark.parametrize("ros_type", SIMULATED_TYPES)
def test_packed_bytes_deserialize_to_what_a_subscriber_of_the_object_path_receives(
    ros_type: str, frame_prefix: str
) -> None:
    state = model_for_vehicle("rover-01").state_at(123.456)
    _, ours, message = both_paths(ros_type, frame_prefix, state, 1_700_000_000_123_456_789)
    # Through the wire, not the filled object itself: BatteryState's float32 fields hold
    # Python floats until rclpy rounds them.
    assert deserialize_message(ours, type(message)) == deserialize_message(serialize_message(message), type(message))


def test_packed_imu_reads_back_with_the_state_stamp_and_frame() -> None:
    state = model_for_vehicle("rover-01").state_at(42.0)
    _, ours, message = both_paths(IMU_TYPE, "rover-01/", state, 1_700_000_000_123_456_789)
    imu = deserialize_message(ours, type(message))
    assert (imu.header.stamp.sec, imu.header.stamp.nanosec) == (1_700_000_000, 123_456_789)
    assert imu.header.frame_id == "rover-01/imu_link"
    assert imu.orientation.z == pytest.approx(math.sin(state.yaw_rad / 2.0))
    assert imu.orientation.w == pytest.approx(math.cos(state.yaw_rad / 2.0))
    assert imu.angular_velocity.z == state.yaw_rate_rps
    assert (imu.linear_acceleration.x, imu.linear_acceleration.z) == (state.accel_forward_mps2, GRAVITY_MPS2)
    assert tuple(imu.linear_acceleration_covariance) == IMU_LINEAR_ACCELERATION_COVARIANCE


def test_packed_odometry_reads_back_with_pose_twist_and_both_frames() -> None:
    state = model_for_vehicle("rover-02").state_at(7.5)
    _, ours, message = both_paths(ODOMETRY_TYPE, "rover-02/", state, 5 * NS)
    odometry = deserialize_message(ours, type(message))
    assert (odometry.header.frame_id, odometry.child_frame_id) == ("rover-02/odom", "rover-02/base_link")
    assert (odometry.pose.pose.position.x, odometry.pose.pose.position.y) == (state.x_m, state.y_m)
    assert odometry.twist.twist.linear.x == state.speed_mps
    assert odometry.twist.twist.angular.z == state.yaw_rate_rps


def test_packed_navsatfix_reads_back_with_position_status_and_covariance() -> None:
    state = model_for_vehicle("rover-03").state_at(300.0)
    _, ours, message = both_paths(NAVSATFIX_TYPE, "rover-03/", state, 5 * NS)
    fix = deserialize_message(ours, type(message))
    assert (fix.latitude, fix.longitude, fix.altitude) == (state.latitude_deg, state.longitude_deg, state.altitude_m)
    assert (fix.status.status, fix.status.service) == (fix.status.STATUS_FIX, fix.status.SERVICE_GPS)
    assert tuple(fix.position_covariance) == GNSS_POSITION_COVARIANCE
    assert fix.position_covariance_type == fix.COVARIANCE_TYPE_APPROXIMATED


def test_packed_battery_state_reads_back_as_float32_values_of_the_state() -> None:
    state = model_for_vehicle("rover-01").state_at(600.0)
    _, ours, message = both_paths(BATTERY_TYPE, "rover-01/", state, -NS - 1)
    battery = deserialize_message(ours, type(message))
    assert (battery.header.stamp.sec, battery.header.stamp.nanosec) == (-2, NS - 1)
    assert battery.voltage == pytest.approx(state.battery_voltage_v, rel=1e-7)
    assert battery.percentage == pytest.approx(state.battery_fraction, rel=1e-7)
    assert battery.power_supply_status == battery.POWER_SUPPLY_STATUS_DISCHARGING
    assert battery.present
    assert (battery.location, list(battery.cell_voltage)) == ("", [])


def test_each_packed_sample_is_its_own_bytes_unchanged_by_later_samples() -> None:
    packer = packer_for(IMU_TYPE, "rover-01/")
    assert packer is not None
    model = model_for_vehicle("rover-01")
    first = packer.pack(model.state_at(1.0), NS)
    copy = bytes(first)
    packer.pack(model.state_at(2.0), 2 * NS)
    assert isinstance(first, bytes)
    assert first == copy


def test_a_stamp_past_the_int32_seconds_of_ros_time_is_refused() -> None:
    packer = packer_for(IMU_TYPE, "")
    assert packer is not None
    with pytest.raises(struct.error):
        packer.pack(MotionModel().state_at(0.0), 2**31 * NS)


def test_a_type_that_is_not_simulated_has_no_packer() -> None:
    assert packer_for("sensor_msgs/msg/Image", "rover-01/") is None


def test_alignment_counts_from_after_the_encapsulation_header() -> None:
    cdr = CdrTemplate()
    byte_offset = cdr.primitives("B", 7)
    double_offset = cdr.primitives("d", 1.5)
    assert (byte_offset, double_offset) == (4, 12)  # body offsets 0 and 8: seven padding bytes between
    assert cdr.padding_offsets == frozenset(range(5, 12))
    assert cdr.build() == CDR_LE_HEADER + b"\x07" + bytes(7) + struct.pack("<d", 1.5)


def test_a_string_is_its_byte_count_with_the_nul_then_its_utf8_bytes() -> None:
    cdr = CdrTemplate()
    cdr.primitives("B", 1)
    offset = cdr.string("é/")
    assert offset == 8
    assert cdr.build()[offset:] == struct.pack("<I", 4) + "é/".encode() + b"\x00"


def test_a_sequence_has_a_count_and_a_fixed_array_has_none() -> None:
    cdr = CdrTemplate()
    sequence = cdr.sequence("f", (1.0, 2.0))
    array = cdr.primitives("f", 3.0, 4.0)
    assert (sequence, array) == (4, 16)
    assert cdr.build()[4:] == struct.pack("<I2f2f", 2, 1.0, 2.0, 3.0, 4.0)
