"""The simulated sensors' enumerated values are sensor_msgs' own constants.

`telemetry.sim.sensors` writes them out because the simulation layer imports no ROS
package; this ties each one to the constant of the message class it stands for.
"""

from __future__ import annotations

import ast
import math
import sys
from pathlib import Path

import pytest
from nav_msgs.msg import Odometry
from sensor_msgs.msg import BatteryState, Imu, NavSatFix, NavSatStatus

import telemetry.sim
from telemetry.sim import sensors

SIM_DIR = Path(telemetry.sim.__file__).resolve().parent


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (sensors.GNSS_STATUS_FIX, NavSatStatus.STATUS_FIX),
        (sensors.GNSS_SERVICE_GPS, NavSatStatus.SERVICE_GPS),
        (sensors.GNSS_COVARIANCE_TYPE_APPROXIMATED, NavSatFix.COVARIANCE_TYPE_APPROXIMATED),
        (sensors.BATTERY_STATUS_DISCHARGING, BatteryState.POWER_SUPPLY_STATUS_DISCHARGING),
        (sensors.BATTERY_HEALTH_GOOD, BatteryState.POWER_SUPPLY_HEALTH_GOOD),
        (sensors.BATTERY_TECHNOLOGY_LIPO, BatteryState.POWER_SUPPLY_TECHNOLOGY_LIPO),
    ],
)
def test_each_enumerated_value_equals_the_sensor_msgs_constant(ours: int, theirs: int) -> None:
    assert ours == theirs


def test_the_simulated_type_names_name_the_message_classes() -> None:
    classes = [Imu, Odometry, NavSatFix, BatteryState]
    names = [f"{cls.__module__.split('.')[0]}/msg/{cls.__name__}" for cls in classes]
    assert list(sensors.SIMULATED_TYPES) == names


def test_the_covariances_fit_their_message_arrays() -> None:
    assert len(sensors.IMU_ORIENTATION_COVARIANCE) == len(Imu().orientation_covariance)
    assert len(sensors.GNSS_POSITION_COVARIANCE) == len(NavSatFix().position_covariance)
    assert len(sensors.ODOMETRY_POSE_COVARIANCE) == len(Odometry().pose.covariance)


def test_the_yaw_quaternion_is_a_unit_rotation_about_z() -> None:
    x, y, z, w = sensors.yaw_quaternion(math.pi / 2.0)
    assert (x, y) == (0.0, 0.0)
    assert (z, w) == pytest.approx((math.sqrt(0.5), math.sqrt(0.5)))
    assert sensors.yaw_quaternion(0.0) == (0.0, 0.0, 0.0, 1.0)


@pytest.mark.parametrize("module", ["sensors.py", "sensor_cdr.py"])
def test_the_sensor_modules_import_no_ros_zenoh_or_textual(module: str) -> None:
    tree = ast.parse((SIM_DIR / module).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    tops = {name.split(".")[0] for name in imported}
    assert tops <= set(sys.stdlib_module_names) | {"__future__", "telemetry"}
