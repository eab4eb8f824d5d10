"""ZenohForwarder, the bridge's Zenoh side, in this process on a real router (no ROS node).

Samples are real ROS CDR (rclpy's serialize_message); a second client session of the same
router subscribes, queries and watches liveliness as the aggregator and dashboard would.
Receive times are given explicitly and the tests call `take()`/`send()` themselves (as the
bridge's spinner does when a wake-up finds samples or a budget runs out), so downsampling
and batching are checked on exact arrival patterns instead of this process's scheduling.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator
from typing import Any, cast

import pytest
import zenoh
from nav_msgs.msg import Odometry
from rclpy.serialization import serialize_message
from sensor_msgs.msg import Imu
from std_msgs.msg import Float64
from support.processes import ProcessGroup, free_port, wait_until
from support.wire import WireRecorder, alive_keys, priority_number, query_catalogue, stream_counters, wait_for_answers
from support.zenoh_net import ClientSessions, start_router

from telemetry.bridge.accounting import StreamCounters
from telemetry.bridge.health import HealthReporter, ProcessLoad
from telemetry.bridge.plan import BridgedStream
from telemetry.codec import TypeStore
from telemetry.codec.attachment import FLAG_STAMP_FROM_HEADER, unpack_fields
from telemetry.codec.batch import read_batch
from telemetry.config import Priority
from telemetry.keys import KeySpace
from telemetry.net.forwarder import ZenohForwarder

MS = 1_000_000
REGION = "eu-west"
IMU = "sensor_msgs/msg/Imu"
BATCH_TYPE = "telemetry/msg/SampleBatch"  # the schema on the wire (DESIGN.md)
HEALTH_TYPE = "telemetry/msg/BridgeHealth"
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


def odometry_payload(stamp_ns: int) -> bytes:
    message = Odometry()
    message.header.stamp.sec, message.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
    return bytes(serialize_message(message))


def imu_stream(vehicle: str, priority: Priority = Priority.DATA, max_rate_hz: float | None = None,
               batch_ms: float | None = None, reliable: bool = False) -> BridgedStream:
    """The /imu stream of `vehicle`.

    Tests that count every sample of a burst make it `reliable`: the observer's callback
    shares this process's GIL with the loop that forwards, so while the loop runs, the
    router's queue towards the observer fills up and a best-effort (drop) stream loses
    samples there. That is an artefact of putting and receiving in one process.
    """
    return BridgedStream("/imu", IMU, key=data_key(vehicle), expected_hz=1000.0,
                         priority=priority, max_rate_hz=max_rate_hz, batch_ms=batch_ms, reliable=reliable,
                         stamp_from_header=True)


def data_key(vehicle: str, topic: str = "imu") -> str:
    return f"telemetry/data/{REGION}/{vehicle}/{topic}"


def decoded_batches(recorder: WireRecorder, key: str, store: TypeStore) -> list[Any]:
    return [store.decode(BATCH_TYPE, s.payload) for s in recorder.batches(key)]


def route_ready(bridge: zenoh.Session, observer: zenoh.Session, vehicle: str, key: str) -> None:
    """Return once a put on `key` from the bridge's session reaches the observer's subscriber.

    The observer's meta query is a round trip through the router behind its subscriber
    declaration; a probe publisher on the bridge's session then shows when that session
    knows the subscriber too, as the forwarder's publisher of the same key does.
    """
    query_catalogue(observer, REGION, vehicle)
    with bridge.declare_publisher(key) as probe:
        # zenoh's stub types Publisher.matching_status as bool; at run time it is a MatchingStatus.
        assert wait_until(lambda: cast(zenoh.MatchingStatus, probe.matching_status).matching, 5.0), (
            f"no subscriber for {key} seen"
        )


def routes_ready(bridge: zenoh.Session, observer: zenoh.Session, vehicle: str) -> None:
    """The /imu stream's key reaches the observer: its samples alone and its batches go there."""
    route_ready(bridge, observer, vehicle, data_key(vehicle))


def test_samples_arrive_unchanged_with_key_encoding_and_attachment(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str
) -> None:
    bridge, observer = sessions
    index = forwarder.add_stream(imu_stream(vehicle, priority=Priority.DATA_HIGH))
    forwarder.attach(bridge)
    payloads = [imu_payload(STAMP_NS + k * MS) for k in range(5)]
    key = data_key(vehicle)
    with WireRecorder(observer, f"telemetry/data/{REGION}/{vehicle}/**") as recorder:
        routes_ready(bridge, observer, vehicle)
        before_ns = time.time_ns()
        for k, payload in enumerate(payloads):
            forwarder.forward(index, payload, receive_ns=STAMP_NS + 10 * MS + k * MS)  # budget 0: each at once
        assert recorder.wait_for(key, 5, timeout_s=5.0)
        after_ns = time.time_ns()
        messages = recorder.messages()

    assert [s.payload for s in messages] == payloads  # the bytes ROS serialized, unchanged, one per message
    for k, sample in enumerate(messages):
        assert sample.key == key
        assert sample.encoding == f"application/cdr;{IMU}"
        assert sample.priority == priority_number(zenoh.Priority.DATA_HIGH)
        attachment = sample.attachment
        assert attachment.sequence == k + 1
        assert attachment.source_time_ns == STAMP_NS + k * MS  # header.stamp, not the receive time
        assert attachment.stamp_from_header is True
        assert before_ns <= attachment.send_time_ns <= after_ns
        assert unpack_fields(sample.attachment_bytes or b"")[0] == FLAG_STAMP_FROM_HEADER
    counters = forwarder.counters()["/imu"]
    assert (counters.forwarded, counters.messages) == (5, 5)


def test_a_type_without_header_is_stamped_with_the_receive_time(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str
) -> None:
    bridge, observer = sessions
    forwarder.attach(bridge)
    key = f"telemetry/data/lab/{vehicle}/extra/temp"
    # Added after attach, as the bridge does for a topic found on the graph later.
    index = forwarder.add_stream(BridgedStream("/extra/temp", "std_msgs/msg/Float64", key=key, expected_hz=None))
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
    key = data_key(vehicle)
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
    assert all(19 * MS <= b - a <= 21 * MS for a, b in itertools.pairwise(stamps))  # evenly spaced


def test_downsampling_goes_by_source_time_so_a_late_burst_keeps_its_spacing(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str
) -> None:
    bridge, observer = sessions
    index = forwarder.add_stream(imu_stream(vehicle, max_rate_hz=250.0, reliable=True))
    forwarder.attach(bridge)
    with WireRecorder(observer, data_key(vehicle)) as recorder:
        routes_ready(bridge, observer, vehicle)
        # 20 samples 1 ms apart by header stamp, all found by one late wake-up at the same receive time.
        forwarder.take(index, [imu_payload(STAMP_NS + k * MS) for k in range(20)], None, receive_ns=STAMP_NS + 50 * MS)
        forwarder.send(index)
        assert wait_until(lambda: len(recorder.samples(data_key(vehicle))) >= 5, 5.0)
    stamps = [s.attachment.source_time_ns for s in recorder.samples(data_key(vehicle))]
    assert stamps == [STAMP_NS + k * MS for k in (0, 4, 8, 12, 16)]  # one per 4 ms of source time
    counters = forwarder.counters()["/imu"]
    assert (counters.received, counters.downsampled, counters.forwarded, counters.messages) == (20, 15, 5, 1)


def test_a_take_of_several_samples_leaves_as_one_sample_batch_in_order(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str, store: TypeStore
) -> None:
    bridge, observer = sessions
    index = forwarder.add_stream(imu_stream(vehicle, reliable=True))  # budget 0: found together, sent together
    forwarder.attach(bridge)
    payloads = [imu_payload(STAMP_NS + k * MS, frame_id="f" * k) for k in range(3)]
    with WireRecorder(observer, data_key(vehicle)) as recorder:
        routes_ready(bridge, observer, vehicle)
        before_ns = time.time_ns()
        forwarder.take(index, payloads, None, receive_ns=STAMP_NS + 5 * MS)
        forwarder.send(index)
        after_ns = time.time_ns()
        assert wait_until(lambda: bool(recorder.batches(data_key(vehicle))), 5.0)
        time.sleep(0.2)  # room for a stray single sample to show up
        messages = recorder.messages()

    (message,) = messages
    assert message.key == data_key(vehicle) and message.encoding == f"application/cdr;{BATCH_TYPE}"
    assert message.attachment_bytes is None  # the batch carries each sample's sequence and source time
    batch = read_batch(store, message.payload)
    assert batch.samples() == [(k + 1, STAMP_NS + k * MS, payload) for k, payload in enumerate(payloads)]
    assert (batch.ros_type, batch.stamp_from_header) == (IMU, True)
    assert before_ns <= batch.send_ns <= after_ns
    assert [s.attachment.sequence for s in recorder.samples(data_key(vehicle))] == [1, 2, 3]  # as consumers see it
    counters = forwarder.counters()["/imu"]
    assert (counters.received, counters.forwarded, counters.messages, counters.largest_take) == (3, 3, 1, 3)


def test_a_take_of_one_sample_leaves_alone_on_the_data_key_with_its_attachment(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str
) -> None:
    bridge, observer = sessions
    index = forwarder.add_stream(imu_stream(vehicle, batch_ms=20.0))
    forwarder.attach(bridge)
    payload = imu_payload(STAMP_NS)
    with WireRecorder(observer, data_key(vehicle)) as recorder:
        routes_ready(bridge, observer, vehicle)
        before_ns = time.time_ns()
        forwarder.take(index, [payload], None, receive_ns=STAMP_NS + 3 * MS)
        forwarder.send(index)
        after_ns = time.time_ns()
        assert recorder.wait_for(data_key(vehicle), timeout_s=5.0)
        time.sleep(0.2)
        messages = recorder.messages()
    (message,) = messages
    assert (message.key, message.payload, message.encoding) == (data_key(vehicle), payload, f"application/cdr;{IMU}")
    attachment = message.attachment
    assert (attachment.sequence, attachment.source_time_ns, attachment.stamp_from_header) == (1, STAMP_NS, True)
    assert before_ns <= attachment.send_time_ns <= after_ns


def test_send_with_nothing_waiting_puts_nothing(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str
) -> None:
    bridge, observer = sessions
    index = forwarder.add_stream(imu_stream(vehicle))
    forwarder.attach(bridge)
    with WireRecorder(observer, data_key(vehicle)) as recorder:
        routes_ready(bridge, observer, vehicle)
        forwarder.send(index)
        forwarder.take(index, [], None, receive_ns=STAMP_NS)  # a wake-up that found nothing
        forwarder.send_all()
        time.sleep(0.2)
    assert recorder.messages() == []
    assert forwarder.counters()["/imu"] == StreamCounters()


def test_a_budgeted_stream_holds_forwarded_samples_until_send_all_and_sends_each_lot_as_one_batch(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str, store: TypeStore
) -> None:
    bridge, observer = sessions
    index = forwarder.add_stream(imu_stream(vehicle, batch_ms=20.0, reliable=True))
    forwarder.attach(bridge)
    key = data_key(vehicle)
    payloads = [imu_payload(STAMP_NS + k * MS) for k in range(205)]
    with WireRecorder(observer, data_key(vehicle)) as recorder:
        routes_ready(bridge, observer, vehicle)
        for k, payload in enumerate(payloads):
            forwarder.forward(index, payload, receive_ns=STAMP_NS + k * MS)  # the executor path: held
            if k % 20 == 19:
                forwarder.send_all()  # the bridge's timer, every 20 ms of samples
        assert forwarder.counters()["/imu"].forwarded == 200
        forwarder.send_all()  # the last, partial batch
        assert forwarder.counters()["/imu"].forwarded == 205
        assert wait_until(lambda: sum(len(b.sequence) for b in decoded_batches(recorder, key, store)) >= 205, 5.0)
    batches = decoded_batches(recorder, key, store)

    assert [len(batch.sequence) for batch in batches] == [20] * 10 + [5]
    assert len(recorder.messages(key)) == len(batches)  # no sample went alone
    assert all(s.encoding == f"application/cdr;{BATCH_TYPE}" for s in recorder.messages(key))
    assert all(s.attachment_bytes is None for s in recorder.messages(key))  # the batch carries the times
    assert [n for batch in batches for n in batch.sequence] == list(range(1, 206))
    assert [t for batch in batches for t in batch.source_time_ns] == [STAMP_NS + k * MS for k in range(205)]
    assert b"".join(bytes(batch.data) for batch in batches) == b"".join(payloads)
    for batch in batches:
        assert batch.ros_type == IMU and batch.stamp_from_header is True
    assert forwarder.counters()["/imu"].messages == 11


def test_a_stream_without_a_budget_forwards_each_sample_at_once_even_when_batch_ms_is_too_short_to_gather(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str
) -> None:
    bridge, observer = sessions
    stream = imu_stream(vehicle, batch_ms=0.5)  # shorter than the 1 ms period: budget 0
    assert stream.budget_ns == 0
    index = forwarder.add_stream(stream)
    forwarder.attach(bridge)
    with WireRecorder(observer, data_key(vehicle)) as recorder:
        routes_ready(bridge, observer, vehicle)
        for k in range(3):
            forwarder.forward(index, imu_payload(STAMP_NS + k * MS), receive_ns=STAMP_NS + k * MS)
        assert recorder.wait_for(data_key(vehicle), 3, timeout_s=5.0)
    assert [s.key for s in recorder.messages()] == [data_key(vehicle)] * 3


def test_close_sends_a_partial_batch(
    sessions: tuple[zenoh.Session, zenoh.Session], store: TypeStore, vehicle: str
) -> None:
    bridge, observer = sessions
    forwarder = ZenohForwarder(KeySpace(), REGION, vehicle, store)
    index = forwarder.add_stream(imu_stream(vehicle, batch_ms=1000.0))
    forwarder.attach(bridge)
    key = data_key(vehicle)
    with WireRecorder(observer, key) as recorder:
        route_ready(bridge, observer, vehicle, key)
        for k in range(3):
            forwarder.forward(index, imu_payload(STAMP_NS + k * MS), receive_ns=STAMP_NS + k * MS)
        assert recorder.messages(key) == []
        forwarder.close()
        assert recorder.wait_for(key, timeout_s=5.0)
    assert list(store.decode(BATCH_TYPE, recorder.messages(key)[0].payload).sequence) == [1, 2, 3]


def test_malformed_samples_are_dropped_counted_and_warned_about_once(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bridge, observer = sessions
    index = forwarder.add_stream(imu_stream(vehicle))
    forwarder.attach(bridge)
    key = data_key(vehicle)
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


def test_malformed_samples_in_a_take_are_left_out_of_its_batch(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str, store: TypeStore
) -> None:
    bridge, observer = sessions
    index = forwarder.add_stream(imu_stream(vehicle, reliable=True))
    forwarder.attach(bridge)
    good = [imu_payload(STAMP_NS + k * MS) for k in range(2)]
    with WireRecorder(observer, data_key(vehicle)) as recorder:
        route_ready(bridge, observer, vehicle, data_key(vehicle))
        forwarder.take(index, [good[0], b"\x00\x01\x00\x00\x07", good[1]], None, receive_ns=STAMP_NS)
        forwarder.send(index)
        assert recorder.wait_for(data_key(vehicle), 2, timeout_s=5.0)
    (message,) = recorder.messages(data_key(vehicle))
    assert [payload for _, _, payload in read_batch(store, message.payload).samples()] == good
    counters = forwarder.counters()["/imu"]
    assert (counters.received, counters.malformed, counters.forwarded, counters.messages) == (3, 1, 2, 1)


def test_publication_sequence_gaps_count_as_lost_on_dds_with_one_publisher(
    forwarder: ZenohForwarder, vehicle: str
) -> None:
    index = forwarder.add_stream(imu_stream(vehicle))
    forwarder.set_publishers(index, 1)
    forwarder.take(index, [imu_payload(STAMP_NS)] * 3, [1, 2, 3], receive_ns=STAMP_NS)
    forwarder.take(index, [imu_payload(STAMP_NS)] * 2, [7, 8], receive_ns=STAMP_NS)  # 4, 5, 6 lost before the bridge
    counters = forwarder.counters()["/imu"]
    assert (counters.publishers, counters.source_published, counters.lost_dds, counters.received) == (1, 8, 3, 5)


def test_publication_sequence_numbers_are_not_counted_with_several_publishers(
    forwarder: ZenohForwarder, vehicle: str
) -> None:
    index = forwarder.add_stream(imu_stream(vehicle))
    forwarder.set_publishers(index, 2)
    forwarder.take(index, [imu_payload(STAMP_NS)] * 3, [1, 9, 2], receive_ns=STAMP_NS)
    counters = forwarder.counters()["/imu"]
    assert (counters.source_published, counters.lost_dds, counters.received) == (0, 0, 3)


def test_samples_before_the_session_opens_are_counted_as_not_routed(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str
) -> None:
    bridge, observer = sessions
    index = forwarder.add_stream(imu_stream(vehicle))
    for k in range(2):
        forwarder.forward(index, imu_payload(STAMP_NS + k * MS), receive_ns=STAMP_NS)
    forwarder.take(index, [imu_payload(STAMP_NS + k * MS) for k in (2, 3)], None, receive_ns=STAMP_NS)
    forwarder.send(index)
    assert forwarder.counters()["/imu"].not_routed == 4
    forwarder.attach(bridge)
    key = data_key(vehicle)
    with WireRecorder(observer, key) as recorder:
        route_ready(bridge, observer, vehicle, key)
        forwarder.forward(index, imu_payload(STAMP_NS + 9 * MS), receive_ns=STAMP_NS)
        assert recorder.wait_for(key, timeout_s=5.0)
    assert recorder.samples(key)[0].attachment.sequence == 1  # numbering starts with the first sent
    counters = stream_counters(query_catalogue(observer, REGION, vehicle), "/imu")
    assert counters == {"received": 5, "forwarded": 1, "messages": 1, "downsampled": 0, "not_routed": 4,
                        "malformed": 0, "put_errors": 0, "lost_dds": 0, "source_published": 0, "publishers": 0,
                        "largest_take": 2, "waiting": 0}


def test_the_meta_query_answers_the_catalogue_with_counters_and_health(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str
) -> None:
    bridge, observer = sessions
    index = forwarder.add_stream(imu_stream(vehicle, max_rate_hz=50.0))
    odom = forwarder.add_stream(BridgedStream(
        "/odom", "nav_msgs/msg/Odometry", key=data_key(vehicle, "odom"),
        expected_hz=100.0, batch_ms=20.0, reliable=True, stamp_from_header=True))
    forwarder.health.update(unknown_types=1, type_mismatches=0)
    forwarder.attach(bridge)
    for k in range(3):
        forwarder.forward(index, imu_payload(STAMP_NS), receive_ns=STAMP_NS + k * MS)
    forwarder.forward(odom, odometry_payload(STAMP_NS), receive_ns=STAMP_NS)  # budgeted: held, so it waits

    catalogue = query_catalogue(observer, REGION, vehicle)
    assert (catalogue["version"], catalogue["region"], catalogue["vehicle"]) == (1, REGION, vehicle)
    assert catalogue["health"] == {"unknown_types": 1, "type_mismatches": 0}
    imu, odom_entry = catalogue["streams"]
    assert (imu["topic"], imu["type"], imu["expected_hz"], imu["rate_hz"], imu["max_rate_hz"]) == (
        "/imu", IMU, 50.0, 1000.0, 50.0)
    assert imu["counters"]["received"] == 3 and imu["counters"]["downsampled"] == 2
    assert imu["counters"]["waiting"] == 0
    assert (odom_entry["topic"], odom_entry["key"], odom_entry["batch_ms"],
            odom_entry["reliable"], odom_entry["expected_hz"], odom_entry["reader_depth"]) == (
        "/odom", data_key(vehicle, "odom"), 20.0, True, 100.0, 6)
    assert odom_entry["counters"]["received"] == 1 and odom_entry["counters"]["waiting"] == 1


def test_put_health_publishes_a_bridge_health_report_on_the_vehicles_health_key(
    sessions: tuple[zenoh.Session, zenoh.Session], forwarder: ZenohForwarder, vehicle: str, store: TypeStore
) -> None:
    bridge, observer = sessions
    index = forwarder.add_stream(imu_stream(vehicle))
    forwarder.attach(bridge)
    forwarder.forward(index, imu_payload(STAMP_NS), receive_ns=STAMP_NS)
    key = f"telemetry/health/{REGION}/{vehicle}"
    reporter = HealthReporter(store, REGION, vehicle, STAMP_NS, ProcessLoad(0.0, STAMP_NS))
    with WireRecorder(observer, key) as recorder:
        route_ready(bridge, observer, vehicle, key)
        forwarder.put_health(reporter.report(forwarder.counters(), cpu_s=0.5, now_ns=STAMP_NS + 10**9))
        assert recorder.wait_for(key, timeout_s=5.0)
    (message,) = recorder.messages(key)
    assert message.encoding == f"application/cdr;{HEALTH_TYPE}"
    health = store.decode(HEALTH_TYPE, message.payload)
    assert (health.region, health.vehicle, health.cpu_share) == (REGION, vehicle, 0.5)
    (stream,) = health.streams
    assert (stream.topic, stream.received, stream.forwarded, stream.messages) == ("/imu", 1, 1, 1)


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
