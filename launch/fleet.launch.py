"""The fleet's infrastructure: the cloud router, one router per region, and the aggregator.

    ros2 launch telemetry fleet.launch.py [config:=/etc/fleet.yaml] [zenoh_dir:=config/zenoh/secure]

In production the regional routers run in their regions and the cloud router and aggregator
in the cloud; this starts all of them on one machine. Check: each router logs "listening
on", the aggregator prints "aggregator <id> ready", and `dashboard` connects.
"""

from telemetry.demo.launch_actions import config_argument, described, fleet_actions, secure_configs_argument


def generate_launch_description():
    return described(fleet_actions, config_argument(), secure_configs_argument())
