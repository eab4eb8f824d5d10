"""ZenohForwarder, the bridge's Zenoh side, in this process on a real router (no ROS node).

Samples are real ROS CDR (rclpy's serialize_message); a second client session of the same
router subscribes, queries and watches liveliness as the aggregator and dashboard would.
Receive times are given explicitly, so downsampling and batching are checked on exact
arrival patterns instead of this process's scheduling.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
import zenoh
from rclpy.serialization import serialize_message
from sensor_msgs.msg import Imu
from std_msgs.msg import Float64
from support.processes import ProcessGroup, free_port, wait_until
from support.wire import WireRecorder, alive_keys, query_catalogue, stream_counters, wait_for_answers
from support.zenoh_net import ClientSessions, start_router

from telemetry.bridge.plan import BridgedStream
from telemetry.codec import TypeStore
from telemetry.codec.attachment import FLAG_STAMP_FROM_HEADER, unpack_fields
from telemetry.config import Priority
from telemetry.keys import KeySpace
from telemetry.net.forwarder import ZenohForwarder

MS = 1_000_000
REGION = "eu-west"
IMU = "sensor_msgs/msg/Imu"
BATCH_TYPE = "telemetry/msg/SampleBatch"  # the schema on the wire (DESIGN.md)
STAMP_NS = 1_795_000_000_123_456_789
_vehicle_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def sessions() -> Iterator[tuple[zenoh.Session, zenoh.Session]]:
    """(the bridge's session, an observer's session), both clients of one router."""
    group = ProcessGroup()
    clients = ClientSessions()
    try:
        router = start_router(group, free_port(), "eu-west.json5")
        yield clients.open(router.endpoint), clients.open(router.endpoint)
    finally:
        clients.close_all()
        group.stop_all()


@pytest.fixture
def vehicle() -> str:
    """A vehicle name per test, so no test sees another's keys, token or queryable."""
    return f"fwd-{next(_vehicle_numbers)}"


@pytest.fixture
def forwarder(store: TypeStore, vehicle: str) -> Iterator[ZenohForwarder]:
    forwarder = ZenohForwarder(KeySpace(), REGION, vehicle, store)
    try:
        yield forwarder
    finally:
        forwarder.close()


def imu_payload(stamp_ns: int, frame_id: str = "fwd/imu_link") -> bytes:
    message = Imu()
    message.header.stamp.sec, message.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
    message.header.frame_id = frame_id
    message.linear_acceleration.z = 9.80665
    return bytes(serialize_message(message))


def imu_stream(vehicle: str, priority: Priority = Priority.DATA, max_rate_hz: float | None = None,
               batch_ms: float | None = None, reliable: bool = False) -> BridgedStream:
    """The /imu stream of `vehicle`.

    Tests that count every sample of a burst make it `reliable`: the observer's callback
    shares this process's GIL with the loop that forwards, so while the loop runs, the
    router's queue towards the observer fills up and a best-effort (drop) stream loses
    samples there. That is an artefact of putting and receiving in one process.
    """
    kind = "data" if batch_ms is None else "batch"
    return BridgedStream("/imu", IMU, f"telemetry/{kind}/{REGION}/{vehicle}/imu", 1000.0, priority=priority,
                         max_rate_hz=max_rate_hz, batch_ms=batch_ms, reliable=reliable, stamp_from_header=True)


def decoded_batches(recorder: WireRecorder, key: str, store: TypeStore) -> list[Any]:
    return [store.decode(BATCH_TYPE, s.payload) for s in recorder.samples(key)]


def route_ready(bridge: zenoh.Session, observer: zenoh.Session, vehicle: str, key: str) -> None:
    """Return once a put on `key` from the bridge's session reaches the observer's subscriber.

    The observer's meta query is a round trip through the router behind its subscriber
    declaration; a probe publisher on the bridge's session then shows when that session
    knows the subscriber too, as the forwarder's publisher of the same key does.
    """
    query_catalogue(observer, REGION, vehicle)
    with bridge.declare_publisher(key) as probe:
        assert wait_until(lambda: probe.matching_status.matching, 5.0), f"no subscriber for {key} seen"


def test_samples_arrive_unchanged_with_key_encoding_and_attachment(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str
) -> None:
    bridge, observer = sessions
    index = forwarder.add_stream(imu_stream(vehicle, priority=Priority.DATA_HIGH))
    forwarder.attach(bridge)
    payloads = [imu_payload(STAMP_NS + k * MS) for k in range(5)]
    key = f"telemetry/data/{REGION}/{vehicle}/imu"
    with WireRecorder(observer, f"telemetry/data/{REGION}/{vehicle}/**") as recorder:
        route_ready(bridge, observer, vehicle, key)
        before_ns = time.time_ns()
        for k, payload in enumerate(payloads):
            forwarder.forward(index, payload, receive_ns=STAMP_NS + 10 * MS + k * MS)
        assert recorder.wait_for(key, 5, timeout_s=5.0)
        after_ns = time.time_ns()
        samples = recorder.samples()

    assert [s.payload for s in samples] == payloads  # the bytes ROS serialized, unchanged
    for k, sample in enumerate(samples):
        assert sample.key == key
        assert sample.encoding == f"application/cdr;{IMU}"
        assert sample.priority == int(zenoh.Priority.DATA_HIGH)
        attachment = sample.attachment
        assert attachment.sequence == k + 1
        assert attachment.source_time_ns == STAMP_NS + k * MS  # header.stamp, not the receive time
        assert attachment.stamp_from_header is True
        assert before_ns <= attachment.send_time_ns <= after_ns
        assert unpack_fields(sample.attachment_bytes or b"")[0] == FLAG_STAMP_FROM_HEADER
    assert forwarder.counters()["/imu"].forwarded == 5


def test_a_type_without_header_is_stamped_with_the_receive_time(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str
) -> None:
    bridge, observer = sessions
    forwarder.attach(bridge)
    key = f"telemetry/data/lab/{vehicle}/extra/temp"
    # Added after attach, as the bridge does for a topic found on the graph later.
    index = forwarder.add_stream(BridgedStream("/extra/temp", "std_msgs/msg/Float64", key, None))
    payload = bytes(serialize_message(Float64(data=21.5)))
    with WireRecorder(observer, key) as recorder:
        route_ready(bridge, observer, vehicle, key)
        forwarder.forward(index, payload, receive_ns=STAMP_NS)
        assert recorder.wait_for(key, timeout_s=5.0)
    (sample,) = recorder.samples(key)
    assert sample.payload == payload
    assert sample.encoding == "application/cdr;std_msgs/msg/Float64"
    assert (sample.attachment.source_time_ns, sample.attachment.stamp_from_header) == (STAMP_NS, False)
    assert unpack_fields(sample.attachment_bytes or b"")[0] == 0


def test_downsampling_forwards_50_of_1000_samples_a_second_and_counts_the_rest(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str
) -> None:
    bridge, observer = sessions
    index = forwarder.add_stream(imu_stream(vehicle, max_rate_hz=50.0, reliable=True))
    forwarder.attach(bridge)
    key = f"telemetry/data/{REGION}/{vehicle}/imu"
    with WireRecorder(observer, key) as recorder:
        route_ready(bridge, observer, vehicle, key)
        for k in range(2000):  # 2 s of a 1 kHz stream
            forwarder.forward(index, imu_payload(STAMP_NS + k * MS), receive_ns=STAMP_NS + k * MS)
        counters = forwarder.counters()["/imu"]
        assert 99 <= counters.forwarded <= 101
        assert recorder.wait_for(key, counters.forwarded, timeout_s=5.0)
    samples = recorder.samples(key)
    assert len(samples) == counters.forwarded
    assert counters.downsampled == 2000 - counters.forwarded and counters.received == 2000
    assert [s.attachment.sequence for s in samples] == list(range(1, len(samples) + 1))  # no gaps
    stamps = [s.attachment.source_time_ns for s in samples]
    assert all(19 * MS <= b - a <= 21 * MS for a, b in zip(stamps, stamps[1:]))  # evenly spaced


def test_batching_puts_the_samples_of_each_20_ms_in_one_sample_batch_in_order(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str, store: TypeStore
) -> None:
    bridge, observer = sessions
    index = forwarder.add_stream(imu_stream(vehicle, batch_ms=20.0, reliable=True))
    forwarder.attach(bridge)
    key = f"telemetry/batch/{REGION}/{vehicle}/imu"
    payloads = [imu_payload(STAMP_NS + k * MS) for k in range(205)]
    with WireRecorder(observer, key) as recorder:
        route_ready(bridge, observer, vehicle, key)
        for k, payload in enumerate(payloads):
            forwarder.forward(index, payload, receive_ns=STAMP_NS + k * MS)
        forwarder.flush_due(STAMP_NS + 10_000 * MS)  # the bridge's timer sends the last, partial batch
        assert forwarder.counters()["/imu"].forwarded == 205
        assert wait_until(lambda: sum(len(b.sequence) for b in decoded_batches(recorder, key, store)) >= 205, 5.0)
    batches = decoded_batches(recorder, key, store)

    assert 9 <= len(batches) <= 11  # 205 ms of samples in 20 ms batches
    assert all(s.encoding == f"application/cdr;{BATCH_TYPE}" for s in recorder.samples(key))
    assert all(s.attachment_bytes is None for s in recorder.samples(key))  # the batch carries the times
    sequences = [n for batch in batches for n in batch.sequence]
    assert sequences == list(range(1, 206))
    assert [t for batch in batches for t in batch.source_time_ns] == [STAMP_NS + k * MS for k in range(205)]
    assert b"".join(bytes(batch.data) for batch in batches) == b"".join(payloads)
    for batch in batches:
        assert batch.ros_type == IMU and batch.stamp_from_header is True
        assert batch.source_time_ns[-1] - batch.source_time_ns[0] <= 20 * MS


def test_a_batch_holds_the_samples_received_within_batch_ms_of_its_first(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str, store: TypeStore
) -> None:
    bridge, observer = sessions
    index = forwarder.add_stream(imu_stream(vehicle, batch_ms=20.0, reliable=True))
    forwarder.attach(bridge)
    key = f"telemetry/batch/{REGION}/{vehicle}/imu"
    with WireRecorder(observer, key) as recorder:
        route_ready(bridge, observer, vehicle, key)
        for k in range(100):  # 100 ms of a 1 kHz stream
            forwarder.forward(index, imu_payload(STAMP_NS + k * MS), receive_ns=STAMP_NS + k * MS)
        forwarder.flush_due(STAMP_NS + 10_000 * MS)
        assert wait_until(lambda: sum(len(b.sequence) for b in decoded_batches(recorder, key, store)) >= 100, 5.0)
    assert [len(batch.sequence) for batch in decoded_batches(recorder, key, store)] == [20, 20, 20, 20, 20]


def test_close_sends_a_partial_batch(
    sessions: tuple[zenoh.Session, zenoh.Session], store: TypeStore, vehicle: str
) -> None:
    bridge, observer = sessions
    forwarder = ZenohForwarder(KeySpace(), REGION, vehicle, store)
    index = forwarder.add_stream(imu_stream(vehicle, batch_ms=1000.0))
    forwarder.attach(bridge)
    key = f"telemetry/batch/{REGION}/{vehicle}/imu"
    with WireRecorder(observer, key) as recorder:
        route_ready(bridge, observer, vehicle, key)
        for k in range(3):
            forwarder.forward(index, imu_payload(STAMP_NS + k * MS), receive_ns=STAMP_NS + k * MS)
        assert recorder.samples(key) == []
        forwarder.close()
        assert recorder.wait_for(key, timeout_s=5.0)
    assert list(store.decode(BATCH_TYPE, recorder.samples(key)[0].payload).sequence) == [1, 2, 3]


def test_malformed_samples_are_dropped_counted_and_warned_about_once(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bridge, observer = sessions
    index = forwarder.add_stream(imu_stream(vehicle))
    forwarder.attach(bridge)
    key = f"telemetry/data/{REGION}/{vehicle}/imu"
    bad = [b"\x00\x01\x00\x00\x07", b"", b"\x00\x02\x00\x00" + bytes(40)]  # too short, empty, not CDR
    good = imu_payload(STAMP_NS)
    with caplog.at_level(logging.WARNING, logger="telemetry.net.forwarder"), WireRecorder(observer, key) as recorder:
        route_ready(bridge, observer, vehicle, key)
        for payload in [*bad, good, *bad, good]:
            forwarder.forward(index, payload, receive_ns=STAMP_NS)
        assert recorder.wait_for(key, 2, timeout_s=5.0)
    counters = forwarder.counters()["/imu"]
    assert (counters.received, counters.malformed, counters.forwarded) == (8, 6, 2)
    assert [s.payload for s in recorder.samples(key)] == [good, good]
    assert [s.attachment.sequence for s in recorder.samples(key)] == [1, 2]  # malformed ones take no number
    warnings = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert len(warnings) == 1 and "/imu" in warnings[0].getMessage()
    assert stream_counters(query_catalogue(observer, REGION, vehicle), "/imu")["malformed"] == 6


def test_samples_before_the_session_opens_are_counted_as_not_routed(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str
) -> None:
    bridge, observer = sessions
    index = forwarder.add_stream(imu_stream(vehicle))
    for k in range(4):
        forwarder.forward(index, imu_payload(STAMP_NS + k * MS), receive_ns=STAMP_NS)
    assert forwarder.counters()["/imu"].not_routed == 4
    forwarder.attach(bridge)
    key = f"telemetry/data/{REGION}/{vehicle}/imu"
    with WireRecorder(observer, key) as recorder:
        route_ready(bridge, observer, vehicle, key)
        forwarder.forward(index, imu_payload(STAMP_NS + 9 * MS), receive_ns=STAMP_NS)
        assert recorder.wait_for(key, timeout_s=5.0)
    assert recorder.samples(key)[0].attachment.sequence == 1  # numbering starts with the first sent
    counters = stream_counters(query_catalogue(observer, REGION, vehicle), "/imu")
    assert counters == {"received": 5, "forwarded": 1, "downsampled": 0, "not_routed": 4,
                        "malformed": 0, "put_errors": 0}


def test_the_meta_query_answers_the_catalogue_with_counters_and_health(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str
) -> None:
    bridge, observer = sessions
    index = forwarder.add_stream(imu_stream(vehicle, max_rate_hz=50.0))
    forwarder.add_stream(BridgedStream("/odom", "nav_msgs/msg/Odometry", f"telemetry/batch/{REGION}/{vehicle}/odom",
                                       100.0, batch_ms=20.0, reliable=True, stamp_from_header=True))
    forwarder.health.update(unknown_types=1, type_mismatches=0)
    forwarder.attach(bridge)
    for k in range(3):
        forwarder.forward(index, imu_payload(STAMP_NS), receive_ns=STAMP_NS + k * MS)

    catalogue = query_catalogue(observer, REGION, vehicle)
    assert (catalogue["version"], catalogue["region"], catalogue["vehicle"]) == (1, REGION, vehicle)
    assert catalogue["health"] == {"unknown_types": 1, "type_mismatches": 0}
    imu, odom = catalogue["streams"]
    assert (imu["topic"], imu["type"], imu["expected_hz"], imu["rate_hz"], imu["max_rate_hz"]) == (
        "/imu", IMU, 50.0, 1000.0, 50.0)
    assert imu["counters"]["received"] == 3 and imu["counters"]["downsampled"] == 2
    assert (odom["topic"], odom["key"], odom["batch_ms"], odom["reliable"], odom["expected_hz"]) == (
        "/odom", f"telemetry/batch/{REGION}/{vehicle}/odom", 20.0, True, 100.0)
    assert odom["counters"]["received"] == 0


def test_the_clock_query_answers_the_vehicles_time_as_8_byte_little_endian_ns(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str
) -> None:
    bridge, observer = sessions
    forwarder.attach(bridge)
    selector = f"telemetry/clock/{REGION}/{vehicle}"
    wait_for_answers(observer, selector, 5.0)  # the queryable is known to the router
    before_ns = time.time_ns()
    replies = wait_for_answers(observer, selector, 5.0)
    after_ns = time.time_ns()
    assert len(replies) == 1
    raw = replies[0].payload.to_bytes()
    assert len(raw) == 8
    assert before_ns <= int.from_bytes(raw, "little", signed=True) <= after_ns


def test_the_liveliness_token_is_held_from_attach_until_close(
    sessions: tuple[zenoh.Session, zenoh.Session], store: TypeStore, vehicle: str
) -> None:
    bridge, observer = sessions
    token = f"telemetry/alive/{REGION}/{vehicle}"
    forwarder = ZenohForwarder(KeySpace(), REGION, vehicle, store)
    assert token not in alive_keys(observer)
    forwarder.attach(bridge)
    assert wait_until(lambda: token in alive_keys(observer), 5.0)
    forwarder.close()
    assert wait_until(lambda: token not in alive_keys(observer), 5.0)
    replies = list(observer.get(f"telemetry/meta/{REGION}/{vehicle}", timeout=1.0))
    assert not [r for r in replies if r.ok is not None]  # the queryable went with it
