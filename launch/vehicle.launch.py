"""One vehicle: its sensor_sim and zenoh_bridge, as the fleet config describes them.

    ros2 launch telemetry vehicle.launch.py vehicle:=rover-01
    ros2 launch telemetry vehicle.launch.py vehicle:=rover-01 config:=/etc/fleet.yaml router:=tcp/10.0.0.5:7448
    ros2 launch telemetry vehicle.launch.py vehicle:=rover-01 zenoh_dir:=/etc/telemetry/zenoh   # secure

On a real vehicle, run this one launch on the vehicle's computer; its nodes use the
vehicle's ROS_DOMAIN_ID from the config. Check: `ros2 topic hz /imu` shows ~1000 Hz, and
the dashboard (or `telemetry demo`'s) lists the vehicle as online.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration


def _actions(context, *_args, **_kwargs):
    from telemetry.demo.launch_actions import vehicle_actions

    def value(name):
        return LaunchConfiguration(name).perform(context)

    return vehicle_actions(value("config"), value("vehicle"), value("region"), value("router"), value("zenoh_dir"))


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument("vehicle", description="vehicle name in the fleet config, e.g. rover-01"),
        DeclareLaunchArgument("region", default_value="", description="expected region (checked against the config)"),
        DeclareLaunchArgument("config", default_value="", description="fleet config (default: the shipped one)"),
        DeclareLaunchArgument("router", default_value="",
                              description="Zenoh endpoint of the region router (default: from the config)"),
        DeclareLaunchArgument("zenoh_dir", default_value="",
                              description="a secure deployment's Zenoh configs (`telemetry acl FLEET --out DIR`): "
                              "mutual TLS and access control; default: the plain shipped configs"),
        OpaqueFunction(function=_actions),
    ])
