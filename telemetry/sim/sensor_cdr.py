"""The simulated sensor messages as CDR bytes, packed here instead of by rclpy.

`publisher.publish(message)` makes rclpy convert the Python message to C and serialize it
on every sample; `publish(bytes)` hands CDR straight to the middleware (rclpy calls
`publish_raw`). On the 2-core dev host that took sensor_sim from ~120 to ~85 µs of CPU per
sample. Almost every byte of a stream's messages is the same from one sample to the next
(frame ids, covariances, status fields), so each stream packs a template once and each
sample patches only the stamp and the few fields the motion changes, with precompiled
`struct.Struct`s at offsets found while the template was written. The bytes equal rclpy's
`serialize_message` of the same message (test/sim/test_sensor_cdr.py); the values come
from `telemetry.sim.sensors`, as the object path's do.

The layout is plain little-endian CDR (XCDR1), as ROS 2 middlewares write it:

- a 4-byte encapsulation header `00 01 00 00`; alignment counts from the byte after it;
- a primitive is aligned to its own size (a float64 to 8), padding bytes before it;
- a string is a uint32 length counting the NUL, the UTF-8 bytes, then the NUL;
- a fixed array `T[N]` is N elements with no count, a sequence `T[]` a uint32 count first;
- a nested message is its fields in order, with no padding of its own.

Padding bytes are zero here. Fast DDS leaves them uninitialised, which no reader looks at.
"""

from __future__ import annotations

import struct
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import ClassVar

from telemetry.codec.stamp import ns_to_stamp
from telemetry.sim.motion import GRAVITY_MPS2, VehicleState
from telemetry.sim.sensors import (
    BATTERY_CAPACITY_AH,
    BATTERY_DESIGN_CAPACITY_AH,
    BATTERY_FRAME,
    BATTERY_HEALTH_GOOD,
    BATTERY_PRESENT,
    BATTERY_STATUS_DISCHARGING,
    BATTERY_TECHNOLOGY_LIPO,
    BATTERY_TYPE,
    GNSS_COVARIANCE_TYPE_APPROXIMATED,
    GNSS_FRAME,
    GNSS_POSITION_COVARIANCE,
    GNSS_SERVICE_GPS,
    GNSS_STATUS_FIX,
    IMU_ANGULAR_VELOCITY_COVARIANCE,
    IMU_FRAME,
    IMU_LINEAR_ACCELERATION_COVARIANCE,
    IMU_ORIENTATION_COVARIANCE,
    IMU_TYPE,
    NAVSATFIX_TYPE,
    ODOMETRY_CHILD_FRAME,
    ODOMETRY_FRAME,
    ODOMETRY_POSE_COVARIANCE,
    ODOMETRY_TWIST_COVARIANCE,
    ODOMETRY_TYPE,
    battery_charge_ah,
    yaw_quaternion,
)

__all__ = [
    "CDR_LE_HEADER",
    "BatteryStatePacker",
    "CdrTemplate",
    "ImuPacker",
    "NavSatFixPacker",
    "OdometryPacker",
    "SamplePacker",
    "packer_for",
]

#: Encapsulation header of little-endian plain CDR: kind 0x0001 (big endian), options 0.
CDR_LE_HEADER = b"\x00\x01\x00\x00"

#: A primitive's value as `struct` packs it.
Primitive = float | int | bool

_STAMP = struct.Struct("<iI")  # builtin_interfaces/Time: int32 sec, uint32 nanosec
_F64 = struct.Struct("<d")
_F64X2 = struct.Struct("<2d")
_F64X3 = struct.Struct("<3d")
_F64X4 = struct.Struct("<4d")
_F32 = struct.Struct("<f")
_F32X2 = struct.Struct("<2f")


class CdrTemplate:
    """A CDR message written once, field by field in declaration order.

    Each method appends one field (or a run of fields of one primitive type) and returns
    the offset where it starts in the finished bytes, encapsulation header included: where
    a sample's value will be patched in later.
    """

    def __init__(self) -> None:
        self._buffer = bytearray(CDR_LE_HEADER)
        self._padding: list[int] = []

    def primitives(self, code: str, *values: Primitive) -> int:
        """Consecutive values of one primitive type: scalar fields in a row, or a fixed array.

        `code` is the `struct` code of the type (`d` float64, `f` float32, `i` int32, `I`
        uint32, `H` uint16, `b` int8, `B` uint8, `?` bool); elements of one size never need
        padding between them, so only the first is aligned.
        """
        offset = self._align(struct.calcsize(code))
        self._buffer += struct.pack(f"<{len(values)}{code}", *values)
        return offset

    def string(self, text: str) -> int:
        """A string: uint32 byte count including the NUL, the UTF-8 bytes, the NUL."""
        encoded = text.encode() + b"\x00"
        offset = self.primitives("I", len(encoded))
        self._buffer += encoded
        return offset

    def sequence(self, code: str, values: Sequence[Primitive]) -> int:
        """An unbounded array `T[]` of a primitive type: uint32 count, then the elements."""
        offset = self.primitives("I", len(values))
        if values:
            self.primitives(code, *values)
        return offset

    def header(self, frame_id: str) -> int:
        """A std_msgs/Header with a zero stamp; returns the stamp's offset (sec, nanosec)."""
        offset = self.primitives("i", 0)  # stamp.sec
        self.primitives("I", 0)  # stamp.nanosec
        self.string(frame_id)
        return offset

    def build(self) -> bytearray:
        """A copy of the bytes written so far, for a packer to patch."""
        return bytearray(self._buffer)

    @property
    def padding_offsets(self) -> frozenset[int]:
        """Offsets of the bytes inserted for alignment (serializers may leave them unset)."""
        return frozenset(self._padding)

    def _align(self, alignment: int) -> int:
        """Pad with zeros up to the next multiple of `alignment` after the encapsulation header."""
        padding = -(len(self._buffer) - len(CDR_LE_HEADER)) % alignment
        self._padding.extend(range(len(self._buffer), len(self._buffer) + padding))
        self._buffer += bytes(padding)
        return len(self._buffer)


class SamplePacker(ABC):
    """One stream's CDR template and the patching of one sample into it.

    `pack` writes into the one template and returns a copy, so a packer belongs to one
    thread (sensor_sim's publishing loop); every call patches the same fields, so no value
    of an earlier sample can leak into a later one.
    """

    #: The ROS type whose CDR this packer writes.
    ros_type: ClassVar[str]

    def __init__(self, template: CdrTemplate) -> None:
        self._buffer = template.build()
        self.padding_offsets = template.padding_offsets

    @abstractmethod
    def pack(self, state: VehicleState, stamp_ns: int) -> bytes:
        """The message for `state`, `header.stamp` = `stamp_ns` (ns since the epoch).

        struct.error when the stamp's seconds do not fit the int32 of builtin_interfaces/Time.
        """


class ImuPacker(SamplePacker):
    """sensor_msgs/msg/Imu: orientation, yaw rate and acceleration change per sample."""

    ros_type = IMU_TYPE

    def __init__(self, frame_prefix: str) -> None:
        cdr = CdrTemplate()
        self._stamp = cdr.header(frame_prefix + IMU_FRAME)
        self._orientation = cdr.primitives("d", *yaw_quaternion(0.0))
        cdr.primitives("d", *IMU_ORIENTATION_COVARIANCE)
        cdr.primitives("d", 0.0, 0.0)  # angular_velocity.x, .y
        self._yaw_rate = cdr.primitives("d", 0.0)  # angular_velocity.z
        cdr.primitives("d", *IMU_ANGULAR_VELOCITY_COVARIANCE)
        self._acceleration = cdr.primitives("d", 0.0, 0.0)  # linear_acceleration.x, .y
        cdr.primitives("d", GRAVITY_MPS2)  # linear_acceleration.z: an IMU at rest reads +g upwards
        cdr.primitives("d", *IMU_LINEAR_ACCELERATION_COVARIANCE)
        super().__init__(cdr)

    def pack(self, state: VehicleState, stamp_ns: int) -> bytes:
        buffer = self._buffer
        _STAMP.pack_into(buffer, self._stamp, *ns_to_stamp(stamp_ns))
        _F64X4.pack_into(buffer, self._orientation, *yaw_quaternion(state.yaw_rad))
        _F64.pack_into(buffer, self._yaw_rate, state.yaw_rate_rps)
        _F64X2.pack_into(buffer, self._acceleration, state.accel_forward_mps2, state.accel_lateral_mps2)
        return bytes(buffer)


class OdometryPacker(SamplePacker):
    """nav_msgs/msg/Odometry: position, heading, speed and yaw rate change per sample."""

    ros_type = ODOMETRY_TYPE

    def __init__(self, frame_prefix: str) -> None:
        cdr = CdrTemplate()
        self._stamp = cdr.header(frame_prefix + ODOMETRY_FRAME)
        cdr.string(frame_prefix + ODOMETRY_CHILD_FRAME)
        self._position = cdr.primitives("d", 0.0, 0.0)  # pose.pose.position.x, .y
        cdr.primitives("d", 0.0)  # pose.pose.position.z
        self._orientation = cdr.primitives("d", *yaw_quaternion(0.0))  # pose.pose.orientation
        cdr.primitives("d", *ODOMETRY_POSE_COVARIANCE)
        self._speed = cdr.primitives("d", 0.0)  # twist.twist.linear.x
        cdr.primitives("d", 0.0, 0.0, 0.0, 0.0)  # twist.twist.linear.y, .z, angular.x, .y
        self._yaw_rate = cdr.primitives("d", 0.0)  # twist.twist.angular.z
        cdr.primitives("d", *ODOMETRY_TWIST_COVARIANCE)
        super().__init__(cdr)

    def pack(self, state: VehicleState, stamp_ns: int) -> bytes:
        buffer = self._buffer
        _STAMP.pack_into(buffer, self._stamp, *ns_to_stamp(stamp_ns))
        _F64X2.pack_into(buffer, self._position, state.x_m, state.y_m)
        _F64X4.pack_into(buffer, self._orientation, *yaw_quaternion(state.yaw_rad))
        _F64.pack_into(buffer, self._speed, state.speed_mps)
        _F64.pack_into(buffer, self._yaw_rate, state.yaw_rate_rps)
        return bytes(buffer)


class NavSatFixPacker(SamplePacker):
    """sensor_msgs/msg/NavSatFix: latitude, longitude and altitude change per sample."""

    ros_type = NAVSATFIX_TYPE

    def __init__(self, frame_prefix: str) -> None:
        cdr = CdrTemplate()
        self._stamp = cdr.header(frame_prefix + GNSS_FRAME)
        cdr.primitives("b", GNSS_STATUS_FIX)  # status.status (int8)
        cdr.primitives("H", GNSS_SERVICE_GPS)  # status.service (uint16)
        self._position = cdr.primitives("d", 0.0, 0.0, 0.0)  # latitude, longitude, altitude
        cdr.primitives("d", *GNSS_POSITION_COVARIANCE)
        cdr.primitives("B", GNSS_COVARIANCE_TYPE_APPROXIMATED)  # position_covariance_type
        super().__init__(cdr)

    def pack(self, state: VehicleState, stamp_ns: int) -> bytes:
        buffer = self._buffer
        _STAMP.pack_into(buffer, self._stamp, *ns_to_stamp(stamp_ns))
        _F64X3.pack_into(buffer, self._position, state.latitude_deg, state.longitude_deg, state.altitude_m)
        return bytes(buffer)


class BatteryStatePacker(SamplePacker):
    """sensor_msgs/msg/BatteryState: voltage, current, charge and percentage change per sample."""

    ros_type = BATTERY_TYPE

    def __init__(self, frame_prefix: str) -> None:
        cdr = CdrTemplate()
        self._stamp = cdr.header(frame_prefix + BATTERY_FRAME)
        self._voltage = cdr.primitives("f", 0.0)
        cdr.primitives("f", 0.0)  # temperature: not simulated, the message default
        self._current_and_charge = cdr.primitives("f", 0.0, 0.0)  # current, charge
        cdr.primitives("f", BATTERY_CAPACITY_AH, BATTERY_DESIGN_CAPACITY_AH)  # capacity, design_capacity
        self._percentage = cdr.primitives("f", 0.0)
        cdr.primitives("B", BATTERY_STATUS_DISCHARGING, BATTERY_HEALTH_GOOD, BATTERY_TECHNOLOGY_LIPO)
        cdr.primitives("?", BATTERY_PRESENT)
        cdr.sequence("f", ())  # cell_voltage
        cdr.sequence("f", ())  # cell_temperature
        cdr.string("")  # location
        cdr.string("")  # serial_number
        super().__init__(cdr)

    def pack(self, state: VehicleState, stamp_ns: int) -> bytes:
        buffer = self._buffer
        _STAMP.pack_into(buffer, self._stamp, *ns_to_stamp(stamp_ns))
        _F32.pack_into(buffer, self._voltage, state.battery_voltage_v)
        _F32X2.pack_into(buffer, self._current_and_charge, state.battery_current_a, battery_charge_ah(state))
        _F32.pack_into(buffer, self._percentage, state.battery_fraction)
        return bytes(buffer)


_PACKERS: dict[str, Callable[[str], SamplePacker]] = {
    packer.ros_type: packer for packer in (ImuPacker, OdometryPacker, NavSatFixPacker, BatteryStatePacker)
}


def packer_for(ros_type: str, frame_prefix: str) -> SamplePacker | None:
    """A packer for one stream of `ros_type` with frames under `frame_prefix`; None if not simulated."""
    packer = _PACKERS.get(ros_type)
    return None if packer is None else packer(frame_prefix)
