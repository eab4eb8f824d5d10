"""Fill standard ROS 2 sensor messages from a simulated vehicle state.

One message object per stream is filled again for every sample: rclpy serializes on
`publish()`, so reuse is safe, and it saves building the covariance arrays 1000 times a
second.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from nav_msgs.msg import Odometry
from sensor_msgs.msg import BatteryState, Imu, NavSatFix, NavSatStatus

from telemetry.sim.motion import GRAVITY_MPS2, VehicleState

__all__ = ["MessageFiller", "filler_for"]

#: Fills `message` for `state`, stamped `stamp_ns` (ns since the epoch).
MessageFiller = Callable[[Any, VehicleState, int], None]


def _stamp(message: Any, stamp_ns: int) -> None:
    stamp = message.header.stamp
    stamp.sec, stamp.nanosec = divmod(stamp_ns, 1_000_000_000)


def _yaw_quaternion(target: Any, yaw_rad: float) -> None:
    target.x, target.y = 0.0, 0.0
    target.z, target.w = math.sin(yaw_rad / 2.0), math.cos(yaw_rad / 2.0)


def _fill_imu(message: Imu, state: VehicleState, stamp_ns: int) -> None:
    _stamp(message, stamp_ns)
    _yaw_quaternion(message.orientation, state.yaw_rad)
    message.angular_velocity.z = state.yaw_rate_rps
    acceleration = message.linear_acceleration
    acceleration.x = state.accel_forward_mps2
    acceleration.y = state.accel_lateral_mps2
    acceleration.z = GRAVITY_MPS2  # an IMU at rest reads +g upwards


def _fill_odometry(message: Odometry, state: VehicleState, stamp_ns: int) -> None:
    _stamp(message, stamp_ns)
    position = message.pose.pose.position
    position.x, position.y = state.x_m, state.y_m
    _yaw_quaternion(message.pose.pose.orientation, state.yaw_rad)
    message.twist.twist.linear.x = state.speed_mps
    message.twist.twist.angular.z = state.yaw_rate_rps


def _fill_navsatfix(message: NavSatFix, state: VehicleState, stamp_ns: int) -> None:
    _stamp(message, stamp_ns)
    message.latitude = state.latitude_deg
    message.longitude = state.longitude_deg
    message.altitude = state.altitude_m


def _fill_battery(message: BatteryState, state: VehicleState, stamp_ns: int) -> None:
    _stamp(message, stamp_ns)
    message.voltage = state.battery_voltage_v
    message.current = state.battery_current_a
    message.percentage = state.battery_fraction
    message.charge = 10.0 * state.battery_fraction
    message.power_supply_status = BatteryState.POWER_SUPPLY_STATUS_DISCHARGING


def _new_imu(frame_prefix: str) -> Imu:
    message = Imu()
    message.header.frame_id = f"{frame_prefix}imu_link"
    message.orientation_covariance = [1e-4, 0.0, 0.0, 0.0, 1e-4, 0.0, 0.0, 0.0, 1e-4]
    message.angular_velocity_covariance = [1e-6, 0.0, 0.0, 0.0, 1e-6, 0.0, 0.0, 0.0, 1e-6]
    message.linear_acceleration_covariance = [1e-3, 0.0, 0.0, 0.0, 1e-3, 0.0, 0.0, 0.0, 1e-3]
    return message


def _new_odometry(frame_prefix: str) -> Odometry:
    message = Odometry()
    message.header.frame_id = f"{frame_prefix}odom"
    message.child_frame_id = f"{frame_prefix}base_link"
    return message


def _new_navsatfix(frame_prefix: str) -> NavSatFix:
    message = NavSatFix()
    message.header.frame_id = f"{frame_prefix}gnss_link"
    message.status.status = NavSatStatus.STATUS_FIX
    message.status.service = NavSatStatus.SERVICE_GPS
    message.position_covariance_type = NavSatFix.COVARIANCE_TYPE_APPROXIMATED
    message.position_covariance = [0.25, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0, 0.0, 1.0]
    return message


def _new_battery(frame_prefix: str) -> BatteryState:
    message = BatteryState()
    message.header.frame_id = f"{frame_prefix}battery"
    message.design_capacity = 10.0
    message.capacity = 10.0
    message.power_supply_technology = BatteryState.POWER_SUPPLY_TECHNOLOGY_LIPO
    message.power_supply_health = BatteryState.POWER_SUPPLY_HEALTH_GOOD
    message.present = True
    return message


_SIMULATED: dict[str, tuple[type, Callable[[str], Any], MessageFiller]] = {
    "sensor_msgs/msg/Imu": (Imu, _new_imu, _fill_imu),
    "nav_msgs/msg/Odometry": (Odometry, _new_odometry, _fill_odometry),
    "sensor_msgs/msg/NavSatFix": (NavSatFix, _new_navsatfix, _fill_navsatfix),
    "sensor_msgs/msg/BatteryState": (BatteryState, _new_battery, _fill_battery),
}


def filler_for(ros_type: str, frame_prefix: str) -> tuple[type, Any, MessageFiller] | None:
    """(message class, a message to reuse, its filler) for a simulated type, else None."""
    entry = _SIMULATED.get(ros_type)
    if entry is None:
        return None
    cls, new, fill = entry
    return cls, new(frame_prefix), fill
