"""The whole demo fleet from the config: routers, aggregator, every vehicle's nodes.

    ros2 launch telemetry demo.launch.py [config:=/etc/fleet.yaml]

The same processes as `telemetry demo`, without the dashboard: run `dashboard` in another
terminal to watch. Each vehicle's nodes run in its own ROS_DOMAIN_ID.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration


def _actions(context, *_args, **_kwargs):
    from telemetry.demo.launch_actions import demo_actions

    def value(name):
        return LaunchConfiguration(name).perform(context)

    return demo_actions(value("config"), value("zenoh_dir"))


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument("config", default_value="", description="fleet config (default: the shipped one)"),
        DeclareLaunchArgument("zenoh_dir", default_value="",
                              description="a secure deployment's Zenoh configs (`telemetry acl FLEET --out DIR`): "
                              "mutual TLS and access control; default: the plain shipped configs"),
        OpaqueFunction(function=_actions),
    ])
