"""Fill standard ROS 2 sensor messages from a simulated vehicle state: sensor_sim's object path.

sensor_sim publishes CDR it packs itself by default (`telemetry/sim/sensor_cdr.py`); this is
the path rclpy serializes, kept to compare the two and as the reference the packed bytes
are tested against. Both take their fixed values from `telemetry.sim.sensors`.

One message object per stream is filled again for every sample: rclpy serializes on
`publish()`, so reuse is safe, and it saves building the covariance arrays 1000 times a
second.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nav_msgs.msg import Odometry
from sensor_msgs.msg import BatteryState, Imu, NavSatFix

from telemetry.codec.stamp import ns_to_stamp
from telemetry.sim import sensors
from telemetry.sim.motion import GRAVITY_MPS2, VehicleState

__all__ = ["MessageFiller", "filler_for"]

#: Fills `message` for `state`, stamped `stamp_ns` (ns since the epoch).
MessageFiller = Callable[[Any, VehicleState, int], None]


def _stamp(message: Any, stamp_ns: int) -> None:
    stamp = message.header.stamp
    stamp.sec, stamp.nanosec = ns_to_stamp(stamp_ns)


def _yaw_quaternion(target: Any, yaw_rad: float) -> None:
    target.x, target.y, target.z, target.w = sensors.yaw_quaternion(yaw_rad)


def _fill_imu(message: Imu, state: VehicleState, stamp_ns: int) -> None:
    _stamp(message, stamp_ns)
    _yaw_quaternion(message.orientation, state.yaw_rad)
    message.angular_velocity.z = state.yaw_rate_rps
    acceleration = message.linear_acceleration
    acceleration.x = state.accel_forward_mps2
    acceleration.y = state.accel_lateral_mps2


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
    message.charge = sensors.battery_charge_ah(state)


def _new_imu(frame_prefix: str) -> Imu:
    message = Imu()
    message.header.frame_id = frame_prefix + sensors.IMU_FRAME
    message.orientation_covariance = sensors.IMU_ORIENTATION_COVARIANCE
    message.angular_velocity_covariance = sensors.IMU_ANGULAR_VELOCITY_COVARIANCE
    message.linear_acceleration_covariance = sensors.IMU_LINEAR_ACCELERATION_COVARIANCE
    message.linear_acceleration.z = GRAVITY_MPS2  # an IMU at rest reads +g upwards
    return message


def _new_odometry(frame_prefix: str) -> Odometry:
    message = Odometry()
    message.header.frame_id = frame_prefix + sensors.ODOMETRY_FRAME
    message.child_frame_id = frame_prefix + sensors.ODOMETRY_CHILD_FRAME
    message.pose.covariance = sensors.ODOMETRY_POSE_COVARIANCE
    message.twist.covariance = sensors.ODOMETRY_TWIST_COVARIANCE
    return message


def _new_navsatfix(frame_prefix: str) -> NavSatFix:
    message = NavSatFix()
    message.header.frame_id = frame_prefix + sensors.GNSS_FRAME
    message.status.status = sensors.GNSS_STATUS_FIX
    message.status.service = sensors.GNSS_SERVICE_GPS
    message.position_covariance_type = sensors.GNSS_COVARIANCE_TYPE_APPROXIMATED
    message.position_covariance = sensors.GNSS_POSITION_COVARIANCE
    return message


def _new_battery(frame_prefix: str) -> BatteryState:
    message = BatteryState()
    message.header.frame_id = frame_prefix + sensors.BATTERY_FRAME
    message.design_capacity = sensors.BATTERY_DESIGN_CAPACITY_AH
    message.capacity = sensors.BATTERY_CAPACITY_AH
    message.power_supply_status = sensors.BATTERY_STATUS_DISCHARGING
    message.power_supply_technology = sensors.BATTERY_TECHNOLOGY_LIPO
    message.power_supply_health = sensors.BATTERY_HEALTH_GOOD
    message.present = sensors.BATTERY_PRESENT
    return message


_SIMULATED: dict[str, tuple[type, Callable[[str], Any], MessageFiller]] = {
    sensors.IMU_TYPE: (Imu, _new_imu, _fill_imu),
    sensors.ODOMETRY_TYPE: (Odometry, _new_odometry, _fill_odometry),
    sensors.NAVSATFIX_TYPE: (NavSatFix, _new_navsatfix, _fill_navsatfix),
    sensors.BATTERY_TYPE: (BatteryState, _new_battery, _fill_battery),
}


def filler_for(ros_type: str, frame_prefix: str) -> tuple[type, Any, MessageFiller] | None:
    """(message class, a message to reuse, its filler) for a simulated type, else None."""
    entry = _SIMULATED.get(ros_type)
    if entry is None:
        return None
    cls, new, fill = entry
    return cls, new(frame_prefix), fill
