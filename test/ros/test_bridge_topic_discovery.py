"""Without a config, `--topics REGEX` bridges every matching topic the ROS graph shows, also later ones.

The bridge starts first, with nothing to bridge; then a node of this test (a "driver")
creates topics on the same ROS domain: the matching ones must show up on Zenoh under the
bridge's region and vehicle, the others must not.
"""

from __future__ import annotations

import time

from sensor_msgs.msg import Temperature
from std_msgs.msg import Float64
from support.fleet_files import next_domain_id
from support.processes import ProcessGroup, free_port
from support.ros_side import publish_until, ros_probe
from support.vehicle_nodes import log_lines, start_bridge, wait_bridge_attached
from support.wire import WireRecorder, allowed_losses, missing_sequences, query_catalogue
from support.zenoh_net import ClientSessions, start_router

from telemetry.codec import TypeStore

KEY = "telemetry/data/lab/probe-1"


def test_topics_matching_the_pattern_that_appear_after_start_are_bridged(
    processes: ProcessGroup, zenoh_clients: ClientSessions, store: TypeStore
) -> None:
    domain_id = next_domain_id()
    router = start_router(processes, free_port(), "eu-west.json5")
    bridge = start_bridge(processes, "--topics", "/extra/.*", "--region", "lab", "--vehicle", "probe-1",
                          "-e", router.endpoint, "--domain-id", str(domain_id))
    wait_bridge_attached(bridge)
    observer = zenoh_clients.open(router.endpoint)
    assert query_catalogue(observer, "lab", "probe-1")["streams"] == []

    with WireRecorder(observer, "telemetry/**") as recorder, ros_probe(domain_id) as driver:
        plain = driver.publisher(Float64, "/extra/temp")
        stamped = driver.publisher(Temperature, "/extra/stamped")
        unmatched = driver.publisher(Float64, "/other/temp")
        values = iter(range(1, 10_000))
        published: list[float] = []
        stamps_ns: list[int] = []

        def publish() -> None:
            value = float(next(values))
            published.append(value)
            plain.publish(Float64(data=value))
            unmatched.publish(Float64(data=-value))
            message = Temperature(temperature=value)
            stamps_ns.append(time.time_ns() - 5_000_000_000)  # a stamp clearly not the receive time
            message.header.stamp.sec, message.header.stamp.nanosec = divmod(stamps_ns[-1], 1_000_000_000)
            stamped.publish(message)

        arrived = publish_until(
            publish,
            lambda: recorder.count(f"{KEY}/extra/temp") >= 5 and recorder.count(f"{KEY}/extra/stamped") >= 5,
            timeout_s=20.0,
        )
        assert arrived, bridge.output()

    plain_samples = recorder.samples(f"{KEY}/extra/temp")
    assert all(s.encoding == "application/cdr;std_msgs/msg/Float64" for s in plain_samples)
    received = [store.decode("std_msgs/msg/Float64", s.payload).data for s in plain_samples]
    assert set(received) <= set(published) and received == sorted(received)
    missing = missing_sequences([s.attachment.sequence for s in plain_samples])
    assert len(missing) <= allowed_losses(len(plain_samples)), missing
    now_ns = time.time_ns()
    for sample in plain_samples:  # no header: the source time is the bridge's receive time
        assert sample.attachment.stamp_from_header is False
        assert now_ns - 10_000_000_000 < sample.attachment.source_time_ns <= sample.attachment.send_time_ns

    for sample in recorder.samples(f"{KEY}/extra/stamped"):
        assert sample.encoding == "application/cdr;sensor_msgs/msg/Temperature"
        assert sample.attachment.stamp_from_header is True
        assert sample.attachment.source_time_ns in stamps_ns

    assert not [s.key for s in recorder.samples() if "other" in s.key]
    catalogue = query_catalogue(observer, "lab", "probe-1")
    assert sorted((s["topic"], s["type"], s["expected_hz"]) for s in catalogue["streams"]) == [
        ("/extra/stamped", "sensor_msgs/msg/Temperature", None),
        ("/extra/temp", "std_msgs/msg/Float64", None),
    ]
    assert len(log_lines(bridge, "bridging /extra/temp (std_msgs/msg/Float64) -> " + f"{KEY}/extra/temp")) == 1
