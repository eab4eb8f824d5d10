"""payload_sim, the size benchmark's source, as a real process on a ROS domain of its own.

A node of this test subscribes with the sensor-data QoS (what the bridge uses) and checks
what the benchmark relies on: Image messages of exactly the requested size, about the
requested rate, stamped at publish time; and a clean exit on SIGTERM.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
from support.fleet_files import next_domain_id
from support.processes import ProcessGroup
from support.ros_side import RosProbe, ros_probe

MODULE = "telemetry.ros.payload_sim"
SIZE_BYTES = 16 * 1024
RATE_HZ = 50.0
WINDOW_S = 2.0


def _spin_until(probe: RosProbe, done: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not done():
        probe.executor.spin_once(timeout_sec=0.05)


def test_payload_sim_publishes_images_of_the_requested_size_at_about_the_requested_rate(
    processes: ProcessGroup,
) -> None:
    domain_id = next_domain_id()
    sim = processes.start_module(MODULE, "--topic", "/blob", "--size", str(SIZE_BYTES), "--rate-hz", f"{RATE_HZ:g}",
                                 "--domain-id", str(domain_id), name="payload_sim")
    sim.wait_for_line("payload_sim ready", timeout_s=20.0)
    arrivals: list[tuple[int, Image]] = []
    with ros_probe(domain_id) as probe:
        probe.node.create_subscription(
            Image, "/blob", lambda message: arrivals.append((time.time_ns(), message)), qos_profile_sensor_data
        )
        _spin_until(probe, lambda: bool(arrivals), timeout_s=20.0)  # DDS discovery
        assert arrivals, sim.output()
        arrivals.clear()
        started = time.monotonic()
        _spin_until(probe, lambda: time.monotonic() - started >= WINDOW_S, timeout_s=WINDOW_S)
        window_s = time.monotonic() - started

    rate_hz = len(arrivals) / window_s
    assert 0.6 * RATE_HZ <= rate_hz <= 1.3 * RATE_HZ, f"{rate_hz:.1f} Hz"
    for received_ns, message in arrivals:
        assert len(message.data) == SIZE_BYTES
        assert (message.height, message.width, message.step, message.encoding) == (1, SIZE_BYTES, SIZE_BYTES, "mono8")
        stamp_ns = message.header.stamp.sec * 1_000_000_000 + message.header.stamp.nanosec
        assert 0 <= received_ns - stamp_ns < 1_000_000_000, "the stamp is not the publish time"

    sim.send_signal(signal.SIGTERM)
    assert sim.wait_exit(10.0) == 0, sim.output()
    assert "Traceback" not in sim.output(), sim.output()
    sim.wait_for_line("payload_sim published ", timeout_s=1.0)


def test_payload_sim_rejects_a_size_that_is_not_positive(processes: ProcessGroup) -> None:
    sim = processes.start_module(MODULE, "--size", "0", "--domain-id", str(next_domain_id()), name="payload_sim")
    assert sim.wait_exit(20.0) == 2, sim.output()
    sim.wait_for_line("--size: must be in (0, 67108864] bytes, got 0", timeout_s=1.0, stream="stderr")


def test_payload_sim_rejects_a_rate_that_is_not_positive(processes: ProcessGroup) -> None:
    sim = processes.start_module(MODULE, "--size", "64", "--rate-hz", "-5", "--domain-id", str(next_domain_id()),
                                 name="payload_sim")
    assert sim.wait_exit(20.0) == 2, sim.output()
    sim.wait_for_line("--rate-hz: must be in (0, 10000] Hz, got -5", timeout_s=1.0, stream="stderr")
