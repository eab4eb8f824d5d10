"""The fleet's infrastructure: the cloud router, one router per region, and the aggregator.

    ros2 launch telemetry fleet.launch.py [config:=/etc/fleet.yaml] [zenoh_dir:=config/zenoh/secure]

In production the regional routers run in their regions and the cloud router and aggregator
in the cloud; this starts all of them on one machine. Check: each router logs "listening
on", the aggregator prints "aggregator <id> ready", and `dashboard` connects.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration


def _actions(context, *_args, **_kwargs):
    from telemetry.demo.launch_actions import fleet_actions

    def value(name):
        return LaunchConfiguration(name).perform(context)

    return fleet_actions(value("config"), value("zenoh_dir"))


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument("config", default_value="", description="fleet config (default: the shipped one)"),
        DeclareLaunchArgument("zenoh_dir", default_value="",
                              description="a secure deployment's Zenoh configs (`telemetry acl FLEET --out DIR`): "
                              "mutual TLS and access control; default: the plain shipped configs"),
        OpaqueFunction(function=_actions),
    ])
