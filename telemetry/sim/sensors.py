"""What each simulated sensor reports besides the motion: frames, covariances, status fields.

sensor_sim publishes either message objects that rclpy serializes (`telemetry/ros/
sensor_messages.py`) or CDR it packs itself (`telemetry/sim/sensor_cdr.py`). Both read the
fixed values and the per-sample conversions from here, so the two paths cannot drift apart.
The enumerated values are sensor_msgs' constants, written out because this layer imports no
ROS package; test/sim/test_sensors.py ties them to the message classes.
"""

from __future__ import annotations

import math

from telemetry.sim.motion import VehicleState

__all__ = [
    "BATTERY_CAPACITY_AH",
    "BATTERY_DESIGN_CAPACITY_AH",
    "BATTERY_FRAME",
    "BATTERY_HEALTH_GOOD",
    "BATTERY_PRESENT",
    "BATTERY_STATUS_DISCHARGING",
    "BATTERY_TECHNOLOGY_LIPO",
    "BATTERY_TYPE",
    "GNSS_COVARIANCE_TYPE_APPROXIMATED",
    "GNSS_FRAME",
    "GNSS_POSITION_COVARIANCE",
    "GNSS_SERVICE_GPS",
    "GNSS_STATUS_FIX",
    "IMU_ANGULAR_VELOCITY_COVARIANCE",
    "IMU_FRAME",
    "IMU_LINEAR_ACCELERATION_COVARIANCE",
    "IMU_ORIENTATION_COVARIANCE",
    "IMU_TYPE",
    "NAVSATFIX_TYPE",
    "ODOMETRY_CHILD_FRAME",
    "ODOMETRY_FRAME",
    "ODOMETRY_POSE_COVARIANCE",
    "ODOMETRY_TWIST_COVARIANCE",
    "ODOMETRY_TYPE",
    "SIMULATED_TYPES",
    "battery_charge_ah",
    "yaw_quaternion",
]

IMU_TYPE = "sensor_msgs/msg/Imu"
ODOMETRY_TYPE = "nav_msgs/msg/Odometry"
NAVSATFIX_TYPE = "sensor_msgs/msg/NavSatFix"
BATTERY_TYPE = "sensor_msgs/msg/BatteryState"
#: The ROS types sensor_sim can simulate; a stream of any other type is not published.
SIMULATED_TYPES = (IMU_TYPE, ODOMETRY_TYPE, NAVSATFIX_TYPE, BATTERY_TYPE)

# Frame ids, each after the vehicle's prefix: `rover-01/` + `imu_link`.
IMU_FRAME = "imu_link"
ODOMETRY_FRAME = "odom"
ODOMETRY_CHILD_FRAME = "base_link"
GNSS_FRAME = "gnss_link"
BATTERY_FRAME = "battery"


def _diagonal(x: float, y: float, z: float) -> tuple[float, ...]:
    """A row-major 3x3 covariance with independent axes."""
    return (x, 0.0, 0.0, 0.0, y, 0.0, 0.0, 0.0, z)


IMU_ORIENTATION_COVARIANCE = _diagonal(1e-4, 1e-4, 1e-4)
IMU_ANGULAR_VELOCITY_COVARIANCE = _diagonal(1e-6, 1e-6, 1e-6)
IMU_LINEAR_ACCELERATION_COVARIANCE = _diagonal(1e-3, 1e-3, 1e-3)

# All zeros: the simulator does not model how uncertain its odometry is.
ODOMETRY_POSE_COVARIANCE = (0.0,) * 36
ODOMETRY_TWIST_COVARIANCE = (0.0,) * 36

GNSS_POSITION_COVARIANCE = _diagonal(0.25, 0.25, 1.0)  # m², vertical worse than horizontal
GNSS_STATUS_FIX = 0  # NavSatStatus.STATUS_FIX (int8)
GNSS_SERVICE_GPS = 1  # NavSatStatus.SERVICE_GPS (uint16)
GNSS_COVARIANCE_TYPE_APPROXIMATED = 1  # NavSatFix.COVARIANCE_TYPE_APPROXIMATED (uint8)

BATTERY_DESIGN_CAPACITY_AH = 10.0
BATTERY_CAPACITY_AH = 10.0
BATTERY_STATUS_DISCHARGING = 2  # BatteryState.POWER_SUPPLY_STATUS_DISCHARGING (uint8)
BATTERY_HEALTH_GOOD = 1  # BatteryState.POWER_SUPPLY_HEALTH_GOOD (uint8)
BATTERY_TECHNOLOGY_LIPO = 3  # BatteryState.POWER_SUPPLY_TECHNOLOGY_LIPO (uint8)
BATTERY_PRESENT = True


def yaw_quaternion(yaw_rad: float) -> tuple[float, float, float, float]:
    """(x, y, z, w) of a rotation by `yaw_rad` about z: the vehicle drives on flat ground."""
    half_rad = yaw_rad / 2.0
    return 0.0, 0.0, math.sin(half_rad), math.cos(half_rad)


def battery_charge_ah(state: VehicleState) -> float:
    """Charge left in the pack: its last full capacity times the state's charge fraction."""
    return BATTERY_CAPACITY_AH * state.battery_fraction
