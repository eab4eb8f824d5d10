"""A recording republished into ROS 2 topics (`telemetry replay --to ros --domain N`).

One rclpy node, in ROS domain N through a context of its own, with one publisher per recorded
topic: the type is the channel's schema name, the QoS the one the recorder stored as rosbag2's
`offered_qos_profiles` (so a reliable stream is offered reliable again). Samples are published
as the raw CDR bytes the file holds (rclpy's `publish` takes serialized bytes), with the timing
of telemetry/recorder/replay.py's `play`: the recorded gaps, divided by the rate.

Topic names are the recorded ones (`/imu`) while one vehicle is replayed. Files of several
vehicles would publish onto the same topics, so then every topic goes under the vehicle's
name as a namespace: `/rover_01/imu` for vehicle `rover-01` (characters ROS names do not allow
become `_`).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Sequence
from typing import Any

import rclpy
import yaml
from rclpy.context import Context
from rclpy.qos import QoSDurabilityPolicy, QoSHistoryPolicy, QoSProfile, QoSReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from rclpy.utilities import try_shutdown

from telemetry.config import MAX_ROS_DOMAIN_ID
from telemetry.errors import TelemetryError
from telemetry.recorder.archive import RecordedSample
from telemetry.recorder.replay import ReplayOptions, ReplayReport, ReplaySource, open_sources, play
from telemetry.ros.common import message_class, qos_for

__all__ = ["RosOutlet", "qos_from_offered", "replay_topic_names", "run_replay_ros", "vehicle_namespace"]

_log = logging.getLogger(__name__)

NODE_NAME = "telemetry_replay"
_NOT_IN_ROS_NAMES = re.compile(r"[^A-Za-z0-9_]")


def qos_from_offered(text: str) -> QoSProfile:
    """The first profile of rosbag2's `offered_qos_profiles` YAML as an rclpy QoS.

    Policies may be names (`best_effort`, Jazzy's files) or rmw's numbers (older rosbag2);
    an empty or unreadable value gives the sensor-data QoS, as a stream without config has."""
    try:
        profiles = yaml.safe_load(text) if text else None
        profile = profiles[0] if isinstance(profiles, list) and profiles else None
        if not isinstance(profile, dict):
            return qos_for(reliable=False)
        return QoSProfile(
            history=QoSHistoryPolicy(_policy(QoSHistoryPolicy, profile.get("history", "keep_last"))),
            depth=int(profile.get("depth", 10)) or 1,
            reliability=QoSReliabilityPolicy(_policy(QoSReliabilityPolicy, profile.get("reliability", "best_effort"))),
            durability=QoSDurabilityPolicy(_policy(QoSDurabilityPolicy, profile.get("durability", "volatile"))),
        )
    except (yaml.YAMLError, KeyError, ValueError, TypeError) as error:
        _log.warning("offered_qos_profiles %r: %s; using the sensor-data QoS", text[:80], error)
        return qos_for(reliable=False)


def _policy(kind: Any, value: object) -> int:
    """A policy's rmw number from a name (`keep_last`) or the number itself."""
    return int(value) if isinstance(value, int) else int(kind.get_from_short_key(str(value)))


def vehicle_namespace(vehicle: str) -> str:
    """`rover-01` -> `/rover_01`: a valid ROS namespace token (no leading digit either)."""
    token = _NOT_IN_ROS_NAMES.sub("_", vehicle)
    return f"/{'_' if token[0].isdigit() else ''}{token}"


def replay_topic_names(sources: Sequence[ReplaySource]) -> dict[tuple[int, str], str]:
    """(source index, recorded topic) -> the topic to publish on; namespaced only for several vehicles."""
    vehicles = sorted({(source.region, source.vehicle) for source in sources})
    namespaces = {vehicle: vehicle_namespace(vehicle[1]) if len(vehicles) > 1 else "" for vehicle in vehicles}
    owners: dict[str, tuple[str, str]] = {}
    for vehicle, namespace in namespaces.items():
        if namespace and owners.setdefault(namespace, vehicle) != vehicle:
            other = owners[namespace]
            raise TelemetryError(f"replay: vehicles {other[1]} ({other[0]}) and {vehicle[1]} ({vehicle[0]}) "
                                 f"would both publish under {namespace}; replay them separately")
    return {(index, channel.topic): namespaces[(source.region, source.vehicle)] + channel.topic
            for index, source in enumerate(sources) for channel in source.channels}


class RosOutlet:
    """The replay's node and its publishers; `send` publishes a sample's recorded bytes."""

    def __init__(self, context: Context, sources: Sequence[ReplaySource]) -> None:
        self.node = rclpy.create_node(NODE_NAME, context=context)
        self._routes: dict[tuple[int, str], Any] = {}
        publishers: dict[str, tuple[Any, str]] = {}  # None for a type not installed here
        for (index, topic), name in replay_topic_names(sources).items():
            channel = next(c for c in sources[index].channels if c.topic == topic)
            if name not in publishers:
                publishers[name] = (self._publisher(name, channel.ros_type, channel.offered_qos), channel.ros_type)
            publisher, ros_type = publishers[name]
            if ros_type != channel.ros_type:
                raise TelemetryError(f"{sources[index].path}: {topic} is {channel.ros_type} here but {ros_type} "
                                     "in another file")
            if publisher is not None:
                self._routes[(index, topic)] = publisher
        self.publishers = [publisher for publisher, _ in publishers.values() if publisher is not None]
        if not self.publishers:
            raise TelemetryError("replay: no recorded topic has a message type installed here")

    def _publisher(self, name: str, ros_type: str, offered_qos: str) -> Any:
        msg_type = message_class(ros_type)
        if msg_type is None:
            _log.warning("replay: %s: type %s is not installed here; its samples are not replayed", name, ros_type)
            return None
        return self.node.create_publisher(msg_type, name, qos_from_offered(offered_qos))

    def send(self, index: int, sample: RecordedSample, _put_ns: int) -> None:
        publisher = self._routes.get((index, sample.topic))
        if publisher is not None:
            publisher.publish(sample.data)

    def wait_matched(self, timeout_s: float, stop: threading.Event) -> bool:
        """Wait until every publisher has a subscriber (True) or `timeout_s` passes (False)."""
        deadline = time.monotonic() + timeout_s
        while not all(publisher.get_subscription_count() > 0 for publisher in self.publishers):
            if time.monotonic() >= deadline or stop.wait(0.02):
                return False
        return True

    def close(self) -> None:
        self.node.destroy_node()


def run_replay_ros(
    options: ReplayOptions, domain_id: int | None, stop: threading.Event,
    sources: Sequence[ReplaySource] | None = None,
) -> ReplayReport:
    """Replay `options.files` into ROS domain `domain_id` (None: ROS_DOMAIN_ID's); the key root is unused.

    `sources` as for replay.run_replay. The context installs no signal handlers: the caller
    owns SIGINT and SIGTERM and sets `stop`."""
    if domain_id is not None and not 0 <= domain_id <= MAX_ROS_DOMAIN_ID:
        raise TelemetryError(f"replay: ROS domain must be in 0..{MAX_ROS_DOMAIN_ID}, got {domain_id}")
    sources = open_sources(options.files) if sources is None else sources
    context = Context()
    rclpy.init(context=context, domain_id=domain_id, signal_handler_options=SignalHandlerOptions.NO)
    try:
        outlet = RosOutlet(context, sources)
        try:
            if options.wait_subscribers_s > 0 and not outlet.wait_matched(options.wait_subscribers_s, stop):
                _log.warning("replay: not every topic has a subscriber after %.1f s; starting anyway",
                             options.wait_subscribers_s)
            _log.info("replay: %d files into ROS domain %d at rate %g", len(sources), context.get_domain_id(),
                      options.rate)
            report = play(sources, options, outlet.send, stop)
        finally:
            outlet.close()
    finally:
        try_shutdown(context=context)
    _log.info("replay: %d samples in %.3f s, timing error p50 %.0f µs, p99 %.0f µs, max %.0f µs", report.samples,
              report.duration_s, report.timing_error.p50_us, report.timing_error.p99_us, report.timing_error.max_us)
    return report
