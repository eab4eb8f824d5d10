"""zenoh_bridge: a ROS 2 node that puts a vehicle's topics on Zenoh, bytes unchanged.

Subscribes with `raw=True` (serialized CDR, never decoded) and hands each sample to the
Zenoh forwarder. Streams come from the vehicle's entry in the fleet config, and/or from the
ROS graph with `--topics REGEX` (like zenoh-bridge-ros2dds's allow list). The Zenoh session
opens in the background, so the node runs (and counts what it cannot route yet) while no
router is up, and resumes by itself when one comes back.

    zenoh_bridge --config config/fleet.yaml --vehicle rover-01
    zenoh_bridge --region lab --vehicle arm-1 --topics '/arm/.*' -e tcp/10.0.0.5:7448
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.node import Node
from rclpy.utilities import try_shutdown

from telemetry.bridge.budget import BudgetSchedule
from telemetry.bridge.health import HealthReporter, ProcessLoad
from telemetry.bridge.plan import BridgedStream, stream_from_config, stream_from_graph
from telemetry.codec import CodecError, TypeStore, normalize_type_name
from telemetry.config import default_fleet_config_path, load_fleet_config, shipped_file
from telemetry.console import ROS_LOG_FORMAT, Logs, run_console
from telemetry.errors import ConfigError
from telemetry.keys import KeySpace, validate_name
from telemetry.net import (
    BackgroundSession,
    SessionOptions,
    add_session_arguments,
    build_config,
    configured_endpoints,
    options_from_args,
)
from telemetry.net.forwarder import ZenohForwarder
from telemetry.ros.common import (
    EXECUTORS,
    exit_process,
    init_ros,
    make_executor,
    message_class,
    node_name,
    qos_for,
    spin_until_shutdown,
    split_ros_args,
)
from telemetry.ros.lean_spinner import BridgedSubscription, Chore, lean_spin, lean_spin_available

__all__ = ["BridgeSettings", "ZenohBridgeNode", "main"]

_log = logging.getLogger(__name__)
_REPORT_PERIOD_S = 10.0
_GRAPH_SCAN_PERIOD_S = 1.0
_HEALTH_PERIOD_S = 1.0
#: With an rclpy executor (no lean loop), budgeted batches are sent on this tick instead.
_BATCH_TICK_S = 0.005


@dataclass(frozen=True)
class BridgeSettings:
    """Everything the node needs, resolved from the command line and the fleet config."""

    region: str
    vehicle: str
    keys: KeySpace
    streams: tuple[BridgedStream, ...]
    topic_pattern: re.Pattern[str] | None = None
    namespace: str = "/"
    executor: str = "lean"


class ZenohBridgeNode(Node):
    """Raw subscriptions for the vehicle's streams, feeding one ZenohForwarder."""

    def __init__(self, settings: BridgeSettings, forwarder: ZenohForwarder, store: TypeStore) -> None:
        lean = settings.executor == "lean"
        # The lean loop serves subscriptions and timers only: no parameter services (the
        # bridge has no parameters) and no QoS event handlers.
        super().__init__(node_name("zenoh_bridge", settings.vehicle), start_parameter_services=not lean)
        self._event_callbacks = SubscriptionEventCallbacks(use_default_callbacks=False) if lean else None
        self._settings = settings
        self._forwarder = forwarder
        self._store = store
        self._schedule = BudgetSchedule()
        self._bridged: list[BridgedSubscription] = []
        self._raw_subscriptions: dict[str, Any] = {}
        self._warned: set[tuple[str, str]] = set()
        self._health = HealthReporter(store, settings.region, settings.vehicle, time.time_ns(),
                                      ProcessLoad(time.process_time(), time.time_ns()))
        forwarder.health.update(unknown_types=0, type_mismatches=0)
        for stream in settings.streams:
            self._bridge(stream)
        self._chores: list[Chore] = [(_REPORT_PERIOD_S, self._report), (_GRAPH_SCAN_PERIOD_S, self._scan_graph),
                                     (_HEALTH_PERIOD_S, self._publish_health)]
        if not lean:  # an rclpy executor runs them as timers (the lean loop runs them itself)
            for period_s, chore in self._chores:
                self.create_timer(period_s, chore)
            if any(stream.budget_ns for stream in settings.streams):
                self.create_timer(_BATCH_TICK_S, forwarder.send_all)

    # What the lean loop spins (telemetry.ros.lean_spinner.LeanNode).
    @property
    def bridged(self) -> list[BridgedSubscription]:
        return self._bridged

    @property
    def chores(self) -> list[Chore]:
        return self._chores

    @property
    def sink(self) -> ZenohForwarder:
        return self._forwarder

    @property
    def schedule(self) -> BudgetSchedule:
        return self._schedule

    def _bridge(self, stream: BridgedStream) -> None:
        cls = message_class(stream.ros_type)
        if cls is None:
            self._problem_once(stream.topic, "unknown_types",
                               f"{stream.topic}: type {stream.ros_type} is not installed; not bridged")
            return
        index = self._forwarder.add_stream(stream)
        if self._schedule.add(stream.budget_ns) != index:
            raise AssertionError("the forwarder and the schedule number streams differently")
        forward, now_ns = self._forwarder.forward, time.time_ns

        def on_sample(payload: bytes) -> None:  # rclpy executors only: the lean loop takes itself
            forward(index, payload, now_ns())

        subscription = self.create_subscription(
            cls, stream.topic, on_sample, qos_for(stream.reliable, stream.reader_depth), raw=True,
            event_callbacks=self._event_callbacks,
        )
        self._raw_subscriptions[stream.topic] = subscription
        self._bridged = [*self._bridged, (subscription, index)]  # a new list: the loop notices
        budget = f", budget {stream.budget_ns / 1e6:g} ms" if stream.budget_ns else ""
        self.get_logger().info(f"bridging {stream.topic} ({stream.ros_type}) -> {stream.key}{budget}")

    def _publish_health(self) -> None:
        """About once a second: publisher counts (source accounting needs exactly one), then the report."""
        for subscription, index in self._bridged:
            self._forwarder.set_publishers(index, subscription.handle.get_publisher_count())
        report = self._health.report(self._forwarder.counters(), time.process_time(), time.time_ns())
        self._forwarder.put_health(report)

    def _scan_graph(self) -> None:
        """Check configured types against the graph; bridge new topics matching --topics."""
        configured = {stream.topic: stream.ros_type for stream in self._settings.streams}
        for topic, types in self.get_topic_names_and_types():
            if topic in configured:
                # Only the publishers' types count: the graph also lists our own subscription.
                published = {self._normalized(i.topic_type) for i in self.get_publishers_info_by_topic(topic)}
                if published and configured[topic] not in published:
                    problem = (f"{topic}: configured as {configured[topic]} but the graph has "
                               f"{', '.join(sorted(published))} (publishers); not forwarded")
                    self._problem_once(topic, "type_mismatches", problem)
                continue
            graph_types = {self._normalized(t) for t in types}
            if topic in self._raw_subscriptions or not self._matches(topic):
                continue
            ros_type = sorted(graph_types)[0]
            s = self._settings
            self._bridge(stream_from_graph(topic, ros_type, s.region, s.vehicle, s.keys, self._store))

    def _matches(self, topic: str) -> bool:
        pattern = self._settings.topic_pattern
        namespace = self._settings.namespace.rstrip("/") + "/"
        return pattern is not None and topic.startswith(namespace) and pattern.fullmatch(topic) is not None

    def _normalized(self, ros_type: str) -> str:
        try:
            return normalize_type_name(ros_type)
        except CodecError:
            return ros_type

    def _problem_once(self, topic: str, kind: str, message: str) -> None:
        """Warn and count a problem the first time it is seen for a topic; keep running."""
        if (topic, kind) not in self._warned:
            self._warned.add((topic, kind))
            self._forwarder.health[kind] += 1
            self.get_logger().warning(message)

    def _report(self) -> None:
        parts = []
        for topic, c in self._forwarder.counters().items():
            dropped = c.downsampled + c.dropped
            parts.append(f"{topic} fwd {c.forwarded} in {c.messages} msgs, drop {dropped}"
                         + (f" (not routed {c.not_routed})" if c.not_routed else "")
                         + (f" (malformed {c.malformed})" if c.malformed else "")
                         + (f", lost on DDS {c.lost_dds}" if c.lost_dds else ""))
        self.get_logger().info("forwarded/dropped since start: " + ("; ".join(parts) or "no streams"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zenoh_bridge", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, help="fleet config (default: the shipped one, unless --topics is given)")
    parser.add_argument("--vehicle", required=True,
                        help="vehicle name (in the fleet config, or any valid name with --topics)")
    parser.add_argument("--region", help="region (default: the vehicle's, from the config; required without one)")
    parser.add_argument("--topics", metavar="REGEX",
                        help="also bridge every topic on the graph that fully matches REGEX")
    parser.add_argument("--namespace", default="/", help="with --topics: only topics under this namespace")
    parser.add_argument("--domain-id", type=int, help="ROS domain id (default: the vehicle's, from the config)")
    parser.add_argument("--executor", choices=EXECUTORS, default="lean",
                        help="how to spin: lean (default, a wait-set loop: ~4x less CPU per sample), or "
                        "rclpy's single or events executor (see telemetry/ros/lean_spinner.py)")
    add_session_arguments(parser, default_mode="client")
    return parser


def resolve(args: argparse.Namespace, store: TypeStore) -> tuple[BridgeSettings, SessionOptions, int | None]:
    """Settings, session options and ROS domain id from the arguments and the fleet config."""
    pattern = _compile(args.topics) if args.topics else None
    session = options_from_args(args)
    if session.config_path is None:
        session = replace(session, config_path=shipped_file("config/zenoh/vehicle.json5"))
    if args.config is None and pattern is not None:
        if not args.region:
            raise ConfigError("--region is required with --topics and no --config")
        region, name = validate_name(args.region, "region"), validate_name(args.vehicle, "vehicle")
        settings = BridgeSettings(region, name, KeySpace(), (), pattern, args.namespace, args.executor)
        return settings, session, args.domain_id
    fleet = load_fleet_config(args.config or default_fleet_config_path(), store)
    vehicle = fleet.vehicle(args.vehicle)
    keys = KeySpace(fleet.key_root)
    streams = tuple(stream_from_config(s, vehicle, keys, store) for s in vehicle.streams)
    if not session.connect and not configured_endpoints(build_config(session), "connect"):
        # The region's router from the fleet config, unless -c names one (a secure vehicle's file does).
        session = replace(session, connect=fleet.region(vehicle.region).router.listen)
    domain_id = args.domain_id if args.domain_id is not None else vehicle.ros_domain_id
    settings = BridgeSettings(vehicle.region, vehicle.name, keys, streams, pattern, args.namespace, args.executor)
    return settings, session, domain_id


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ConfigError(f"--topics {pattern!r}: not a regular expression: {error}") from None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    return run_console("zenoh_bridge", lambda: _start(argv), Logs(format=ROS_LOG_FORMAT))


def _start(argv: list[str]) -> int:
    """Check everything before rclpy starts, so a mistake is one line and status 1."""
    store = TypeStore.from_environment()
    settings, session_options, domain_id = resolve(build_parser().parse_args(split_ros_args(argv)), store)
    forwarder = ZenohForwarder(settings.keys, settings.region, settings.vehicle, store)
    zenoh_link = BackgroundSession(session_options, on_open=(forwarder.attach,), name="zenoh_bridge")
    init_ros(argv, domain_id)
    exit_process(run(settings, forwarder, zenoh_link, store))


def run(settings: BridgeSettings, forwarder: ZenohForwarder, zenoh_link: BackgroundSession, store: TypeStore) -> int:
    """Spin the bridge until shutdown (rclpy must be initialised); closes everything it opened."""
    if settings.executor == "lean" and not lean_spin_available():
        _log.warning("this rclpy has no wait-set binding for the lean loop; using the single-threaded executor")
        settings = replace(settings, executor="single")
    node = ZenohBridgeNode(settings, forwarder, store)
    executor = None if settings.executor == "lean" else make_executor(settings.executor)
    try:
        zenoh_link.start()
        if executor is None:
            lean_spin(node)
        else:
            executor.add_node(node)
            spin_until_shutdown(executor)
    finally:
        forwarder.close()
        zenoh_link.close()
        if executor is not None:
            executor.shutdown()
        node.destroy_node()
        try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
