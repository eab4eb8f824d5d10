"""The whole demo fleet from the config: routers, aggregator, every vehicle's nodes.

    ros2 launch telemetry demo.launch.py [config:=/etc/fleet.yaml]

The same processes as `telemetry demo`, without the dashboard: run `dashboard` in another
terminal to watch. Each vehicle's nodes run in its own ROS_DOMAIN_ID.
"""

from telemetry.demo.launch_actions import config_argument, demo_actions, described, secure_configs_argument


def generate_launch_description():
    return described(demo_actions, config_argument(), secure_configs_argument())
