"""sensor_sim: a ROS 2 node standing in for a vehicle's sensor drivers.

Publishes the streams of one vehicle of the fleet config (Imu, Odometry, NavSatFix,
BatteryState) from one motion model, each on absolute deadlines. Publishing runs on its
own thread in a deadline loop, not from rclpy timers: timers at 1 kHz cost ~45 % of a core
with the executor, the loop ~8 % (DESIGN.md, traps). The executor on the main thread only
serves parameters.

By default each sample is CDR packed here (`telemetry/sim/sensor_cdr.py`) and handed to
`publish()` as bytes; `--payload objects` fills message objects for rclpy to serialize
instead, which costs more CPU per sample and gives the same bytes on the wire: kept so a
benchmark can compare the two.

    sensor_sim --config config/fleet.yaml --vehicle rover-01 [--payload objects]
    ros2 param set /sensor_sim_rover_01 streams.imu.rate_hz 500.0
"""

from __future__ import annotations

import argparse
import logging
import queue
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult
from rclpy._rclpy_pybind11 import RCLError
from rclpy.node import Node
from rclpy.parameter import Parameter

from telemetry.config import StreamConfig, VehicleConfig, default_fleet_config_path, load_fleet_config
from telemetry.console import run_console
from telemetry.keys import topic_to_key
from telemetry.ros.common import (
    PublishingThread,
    exit_process,
    init_ros,
    node_name,
    qos_for,
    spin_publishing_node,
    split_ros_args,
)
from telemetry.ros.sensor_messages import filler_for
from telemetry.sim.motion import MotionModel, VehicleState, model_for_vehicle
from telemetry.sim.schedule import DeadlineSchedule, LatenessWindow
from telemetry.sim.sensor_cdr import packer_for

__all__ = ["Payload", "SensorSimNode", "main"]

_log = logging.getLogger(__name__)
_REPORT_PERIOD_S = 10.0
_MAX_RATE_HZ = 10_000.0
_LONGEST_SLEEP_S = 0.1  # wake at least this often to notice a stop request


class Payload(StrEnum):
    """What the publishing loop hands to `publish()` for each sample."""

    BYTES = "bytes"  # CDR packed by telemetry.sim.sensor_cdr: rclpy only copies it out
    OBJECTS = "objects"  # a message object, which rclpy converts and serializes


#: What one stream publishes for a state and a stamp (ns since the epoch).
SampleSource = Callable[[VehicleState, int], object]


@dataclass
class _SimStream:
    """One published topic: its publisher, what makes its samples, and counters."""

    config: StreamConfig
    parameter: str
    publisher: Any
    sample: SampleSource
    published: int = 0


def _simulated(ros_type: str, frame_prefix: str, payload: Payload) -> tuple[type, SampleSource] | None:
    """(message class, sample source) of a simulated type, or None for a type not simulated."""
    objects = filler_for(ros_type, frame_prefix)
    if objects is None:
        return None
    cls, message, fill = objects
    if payload is Payload.BYTES:
        packer = packer_for(ros_type, frame_prefix)
        assert packer is not None, f"{ros_type}: simulated as objects but not as bytes"
        return cls, packer.pack

    def filled(state: VehicleState, stamp_ns: int) -> object:
        fill(message, state, stamp_ns)
        return message

    return cls, filled


def rate_parameter(stream: StreamConfig) -> str:
    """`/imu/data` -> `streams.imu.data.rate_hz`."""
    return "streams." + topic_to_key(stream.topic).replace("/", ".") + ".rate_hz"


class SensorSimNode(Node):
    """Publishers for every simulated stream of one vehicle and the loop that feeds them."""

    def __init__(self, vehicle: VehicleConfig, model: MotionModel, payload: Payload = Payload.BYTES) -> None:
        super().__init__(node_name("sensor_sim", vehicle.name))
        self._model = model
        self._streams: list[_SimStream] = []
        frame_prefix = f"{vehicle.name}/"
        for stream in vehicle.streams:
            simulated = _simulated(stream.ros_type, frame_prefix, payload)
            if simulated is None:
                self.get_logger().warning(f"{stream.topic}: no simulation for {stream.ros_type}; not published")
                continue
            cls, sample = simulated
            parameter = rate_parameter(stream)
            self.declare_parameter(parameter, float(stream.rate_hz),
                                   ParameterDescriptor(description=f"publishing rate of {stream.topic} (Hz)"))
            publisher = self.create_publisher(cls, stream.topic, qos_for(stream.reliable))
            self._streams.append(_SimStream(stream, parameter, publisher, sample))
        # (stream index, period ns) from the parameter callback's thread to the publishing one.
        self._pending_periods: queue.SimpleQueue[tuple[int, int]] = queue.SimpleQueue()
        self.add_on_set_parameters_callback(self._check_parameters)
        self.add_post_set_parameters_callback(self._apply_parameters)
        self.publishing = PublishingThread(self._publish_loop, "sensor_sim")
        self._stop = self.publishing.stopping

    def start(self) -> None:
        """Start publishing (the node must be added to a spinning executor, or about to be)."""
        self.publishing.start()

    def stop(self) -> None:
        self.publishing.stop()

    def _check_parameters(self, parameters: list[Parameter]) -> SetParametersResult:
        names = {stream.parameter for stream in self._streams}
        for parameter in parameters:
            if parameter.name in names:
                value = parameter.value
                if not isinstance(value, (int, float)) or not 0.0 < float(value) <= _MAX_RATE_HZ:
                    return SetParametersResult(
                        successful=False, reason=f"{parameter.name}: must be in (0, {_MAX_RATE_HZ:g}] Hz, got {value!r}"
                    )
        return SetParametersResult(successful=True)

    def _apply_parameters(self, parameters: list[Parameter]) -> None:
        by_name = {stream.parameter: index for index, stream in enumerate(self._streams)}
        for parameter in parameters:
            if parameter.name in by_name:
                # Handed to the publishing thread, which owns the schedule.
                self._pending_periods.put((by_name[parameter.name], round(1e9 / float(parameter.value))))
                self.get_logger().info(f"{parameter.name} = {parameter.value} Hz")

    def _publish_loop(self) -> None:
        """Publish each stream's samples on their deadlines until stopped."""
        if not self._streams:
            return
        start_mono_ns = time.monotonic_ns()
        start_wall_ns = time.time_ns()
        schedule = DeadlineSchedule(
            [round(1e9 / float(self.get_parameter(s.parameter).value)) for s in self._streams], start_mono_ns
        )
        lateness = LatenessWindow()
        next_report_ns = start_mono_ns + int(_REPORT_PERIOD_S * 1e9)
        window_start_ns = start_mono_ns
        while not self._stop.is_set():
            while not self._pending_periods.empty():
                index, period_ns = self._pending_periods.get_nowait()
                schedule.set_period(index, period_ns, time.monotonic_ns())
            index, deadline_ns = schedule.next_due()
            now_ns = time.monotonic_ns()
            if deadline_ns > now_ns:
                time.sleep(min((deadline_ns - now_ns) / 1e9, _LONGEST_SLEEP_S))
                continue
            stream = self._streams[index]
            stamp_ns = time.time_ns()
            sample = stream.sample(self._model.state_at((stamp_ns - start_wall_ns) / 1e9), stamp_ns)
            try:
                stream.publisher.publish(sample)
            except RCLError:
                if self.context.ok():
                    raise
                return  # Ctrl-C or SIGTERM shut the context down under us: stop quietly
            stream.published += 1
            lateness.add(now_ns - deadline_ns)
            schedule.mark_sent(index, now_ns)
            if now_ns >= next_report_ns:
                self._report(now_ns - window_start_ns, lateness, schedule)
                window_start_ns, next_report_ns = now_ns, now_ns + int(_REPORT_PERIOD_S * 1e9)

    def _report(self, window_ns: int, lateness: LatenessWindow, schedule: DeadlineSchedule) -> None:
        summary = lateness.take()
        rates = ", ".join(
            f"{s.config.topic} {s.published / (window_ns / 1e9):.1f} Hz" for s in self._streams
        )
        skipped = sum(schedule.skipped)
        self.get_logger().info(
            f"published: {rates}; lateness p50 {summary.p50_us:.0f} us, p99 {summary.p99_us:.0f} us, "
            f"max {summary.max_us:.0f} us; skipped {skipped}"
        )
        for stream in self._streams:
            stream.published = 0


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sensor_sim", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, help="fleet config (default: the shipped config/fleet.yaml)")
    parser.add_argument("--vehicle", required=True, help="vehicle name in the fleet config")
    parser.add_argument("--domain-id", type=int, help="ROS domain id (default: the vehicle's, from the config)")
    parser.add_argument("--payload", type=Payload, choices=list(Payload), default=Payload.BYTES,
                        help="publish CDR packed here (bytes, the default) or message objects rclpy serializes")
    return parser.parse_args(split_ros_args(argv))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    args = parse_args(argv)
    return run_console("sensor_sim", lambda: _start(argv, args), logs=None)


def _start(argv: list[str], args: argparse.Namespace) -> int:
    """Find the vehicle before rclpy starts, so a mistake is one line and status 1."""
    vehicle = load_fleet_config(args.config or default_fleet_config_path()).vehicle(args.vehicle)
    init_ros(argv, args.domain_id if args.domain_id is not None else vehicle.ros_domain_id)
    exit_process(run(vehicle, model_for_vehicle(vehicle.name), args.payload))


def run(vehicle: VehicleConfig, model: MotionModel, payload: Payload = Payload.BYTES) -> int:
    """Spin a sensor_sim node until shutdown (rclpy must be initialised)."""
    node = SensorSimNode(vehicle, model, payload)
    spin_publishing_node(node, node.publishing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
