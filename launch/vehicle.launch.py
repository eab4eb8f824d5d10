"""One vehicle: its sensor_sim and zenoh_bridge, as the fleet config describes them.

    ros2 launch telemetry vehicle.launch.py vehicle:=rover-01
    ros2 launch telemetry vehicle.launch.py vehicle:=rover-01 config:=/etc/fleet.yaml router:=tcp/10.0.0.5:7448
    ros2 launch telemetry vehicle.launch.py vehicle:=rover-01 zenoh_dir:=/etc/telemetry/zenoh   # secure

On a real vehicle, run this one launch on the vehicle's computer; its nodes use the
vehicle's ROS_DOMAIN_ID from the config. Check: `ros2 topic hz /imu` shows ~1000 Hz, and
the dashboard (or `telemetry demo`'s) lists the vehicle as online.
"""

from launch.actions import DeclareLaunchArgument

from telemetry.demo.launch_actions import config_argument, described, secure_configs_argument, vehicle_actions


def generate_launch_description():
    return described(
        vehicle_actions,
        DeclareLaunchArgument("vehicle", description="vehicle name in the fleet config, e.g. rover-01"),
        DeclareLaunchArgument("region", default_value="", description="expected region (checked against the config)"),
        config_argument(),
        DeclareLaunchArgument("router", default_value="",
                              description="Zenoh endpoint of the region router (default: from the config)"),
        secure_configs_argument(),
    )
