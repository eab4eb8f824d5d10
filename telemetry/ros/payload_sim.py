"""payload_sim: a ROS 2 node publishing one sensor_msgs/Image of a fixed size at a fixed rate.

The size benchmark's source: a stand-in for a camera or a lidar (an Image or a PointCloud2
stream at 10-30 Hz) whose payload size is the variable. Each message is one row of `mono8`
pixels (height 1, width = size), `header.stamp` = publish time, published with the
sensor-data QoS on absolute deadlines from a thread (as sensor_sim does: rclpy timers cost
far more CPU per sample). Prints `payload_sim ready: ...` on stdout once the publisher
exists; SIGINT or SIGTERM stops it with exit code 0.

    python -m telemetry.ros.payload_sim --topic /blob --size 1048576 --rate-hz 10 --domain-id 42
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from rclpy._rclpy_pybind11 import RCLError
from rclpy.node import Node
from sensor_msgs.msg import Image

from telemetry.codec.stamp import ns_to_stamp
from telemetry.ros.common import PublishingThread, exit_process, init_ros, qos_for, spin_publishing_node, split_ros_args
from telemetry.sim.schedule import DeadlineSchedule

__all__ = ["PayloadSimNode", "image_of_size", "main"]

_REPORT_PERIOD_S = 10.0
_MAX_RATE_HZ = 10_000.0
_MAX_SIZE_BYTES = 64 << 20
_LONGEST_SLEEP_S = 0.1  # wake at least this often to notice a stop request
_PATTERN = bytes(range(256))  # not all zeros, so no layer can make the payload cheaper than it is


def image_of_size(size_bytes: int, frame_id: str = "payload") -> Image:
    """A one-row mono8 Image whose `data` holds exactly `size_bytes` bytes."""
    message = Image()
    message.header.frame_id = frame_id
    message.height, message.width, message.step = 1, size_bytes, size_bytes
    message.encoding = "mono8"
    message.data = (_PATTERN * (size_bytes // len(_PATTERN) + 1))[:size_bytes]
    return message


class PayloadSimNode(Node):
    """One Image publisher and the deadline loop that stamps and publishes the same message."""

    def __init__(self, topic: str, size_bytes: int, rate_hz: float) -> None:
        super().__init__("payload_sim")
        self._topic = topic
        self._period_ns = round(1e9 / rate_hz)
        self._message = image_of_size(size_bytes)
        self._publisher = self.create_publisher(Image, topic, qos_for(reliable=False))
        self.published = 0
        self.publishing = PublishingThread(self._publish_loop, "payload_sim")
        self._stop = self.publishing.stopping

    def start(self) -> None:
        """Start publishing (the node must be added to a spinning executor, or about to be)."""
        self.publishing.start()

    def stop(self) -> None:
        self.publishing.stop()

    def _publish_loop(self) -> None:
        """Publish on every deadline until stopped; stamps are taken just before `publish()`."""
        schedule = DeadlineSchedule([self._period_ns], time.monotonic_ns())
        stamp = self._message.header.stamp
        window_start_ns = time.monotonic_ns()
        window_published = 0
        while not self._stop.is_set():
            _, deadline_ns = schedule.next_due()
            now_ns = time.monotonic_ns()
            if deadline_ns > now_ns:
                time.sleep(min((deadline_ns - now_ns) / 1e9, _LONGEST_SLEEP_S))
                continue
            stamp.sec, stamp.nanosec = ns_to_stamp(time.time_ns())
            try:
                self._publisher.publish(self._message)
            except RCLError:
                if self.context.ok():
                    raise
                return  # Ctrl-C or SIGTERM shut the context down under us: stop quietly
            self.published += 1
            window_published += 1
            schedule.mark_sent(0, now_ns)
            if now_ns - window_start_ns >= _REPORT_PERIOD_S * 1e9:
                rate_hz = window_published / ((now_ns - window_start_ns) / 1e9)
                self.get_logger().info(f"published {self._topic} {rate_hz:.1f} Hz; skipped {schedule.skipped[0]}")
                window_start_ns, window_published = now_ns, 0


def _positive_int(text: str) -> int:
    value = int(text)
    if not 0 < value <= _MAX_SIZE_BYTES:
        raise argparse.ArgumentTypeError(f"must be in (0, {_MAX_SIZE_BYTES}] bytes, got {value}")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= _MAX_RATE_HZ:
        raise argparse.ArgumentTypeError(f"must be in (0, {_MAX_RATE_HZ:g}] Hz, got {value:g}")
    return value


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="payload_sim", description=__doc__.split("\n\n")[0])
    parser.add_argument("--topic", default="/blob", help="topic to publish on (default: /blob)")
    parser.add_argument("--size", type=_positive_int, required=True, help="bytes of image data per message")
    parser.add_argument("--rate-hz", type=_rate, default=10.0, help="messages per second (default: 10)")
    parser.add_argument("--domain-id", type=int, help="ROS domain id (default: ROS_DOMAIN_ID or 0)")
    return parser.parse_args(split_ros_args(argv))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    args = parse_args(argv)
    init_ros(argv, args.domain_id)
    exit_process(run(args.topic, args.size, args.rate_hz))


def run(topic: str, size_bytes: int, rate_hz: float) -> int:
    """Publish until shutdown (rclpy must be initialised)."""
    node = PayloadSimNode(topic, size_bytes, rate_hz)
    spin_publishing_node(node, node.publishing,
                         lambda: print(f"payload_sim ready: {topic} {size_bytes} B at {rate_hz:g} Hz", flush=True))
    print(f"payload_sim published {node.published}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
