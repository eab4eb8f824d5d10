"""HealthReporter: the bridge's counters as msg/BridgeHealth bytes, read back by two decoders.

The project's TypeStore (pycdr2) and rosbags (an independent CDR implementation, with the
msg/ files registered from their text) must both read the counters that went in.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from telemetry.bridge.accounting import StreamCounters
from telemetry.bridge.health import HealthReporter, ProcessLoad
from telemetry.codec import TypeStore
from telemetry.codec.names import BRIDGE_HEALTH
from telemetry.codec.stamp import stamp_to_ns

S = 1_000_000_000
STARTED_NS = 1_795_000_000_000_000_001
NOW_NS = STARTED_NS + 30 * S + 250_000_000
#: Every StreamHealth field, from StreamCounters' fields: one name per quantity along the path.
COUNTER_FIELDS = [f.name for f in dataclasses.fields(StreamCounters)]


def imu_counters() -> StreamCounters:
    return StreamCounters(received=29_950, forwarded=29_800, messages=1_490, downsampled=100, not_routed=20,
                          malformed=20, put_errors=10, lost_dds=50, source_published=30_000, publishers=1,
                          largest_take=37)


def gnss_counters() -> StreamCounters:
    return StreamCounters(received=300, forwarded=300, messages=300, publishers=2, largest_take=1)


def reporter(store: TypeStore, cpu_s: float = 10.0, wall_ns: int = STARTED_NS) -> HealthReporter:
    return HealthReporter(store, "eu-west", "rover-01", STARTED_NS, ProcessLoad(cpu_s, wall_ns))


def test_the_report_decodes_with_the_type_store_to_the_counters_given(store: TypeStore) -> None:
    counters = {"/imu": imu_counters(), "/gnss": gnss_counters()}
    expected = {topic: dataclasses.asdict(c) for topic, c in counters.items()}
    health = store.decode(BRIDGE_HEALTH, reporter(store).report(counters, cpu_s=13.0, now_ns=NOW_NS))

    assert (health.region, health.vehicle) == ("eu-west", "rover-01")
    assert stamp_to_ns(health.stamp.sec, health.stamp.nanosec) == NOW_NS
    assert stamp_to_ns(health.started.sec, health.started.nanosec) == STARTED_NS
    assert health.largest_take == 37  # the most any stream's wake-up found
    assert [s.topic for s in health.streams] == ["/imu", "/gnss"]
    for stream in health.streams:
        assert {name: getattr(stream, name) for name in COUNTER_FIELDS} == expected[stream.topic]


def test_rosbags_reads_the_same_report(store: TypeStore, rosbags_store: Any) -> None:
    counters = {"/imu": imu_counters(), "/gnss": gnss_counters()}
    expected = {topic: dataclasses.asdict(c) for topic, c in counters.items()}
    encoded = reporter(store).report(counters, cpu_s=13.0, now_ns=NOW_NS)

    health = rosbags_store.deserialize_cdr(encoded, BRIDGE_HEALTH)
    assert (health.region, health.vehicle, health.largest_take) == ("eu-west", "rover-01", 37)
    assert health.cpu_share == pytest.approx(3.0 / 30.25)
    assert (health.started.sec, health.started.nanosec) == divmod(STARTED_NS, S)
    for stream in health.streams:
        assert {name: getattr(stream, name) for name in COUNTER_FIELDS} == expected[stream.topic]
    assert bytes(rosbags_store.serialize_cdr(health, BRIDGE_HEALTH)) == encoded  # the same bytes both ways


def test_stream_health_has_a_field_for_every_counter_and_nothing_else(rosbags_store: Any) -> None:
    fields = [name for name, _ in rosbags_store.fielddefs["telemetry/msg/StreamHealth"][1]]
    assert fields[0] == "topic" and sorted(fields[1:]) == sorted(COUNTER_FIELDS)


def test_a_bridge_with_no_streams_reports_an_empty_list(store: TypeStore) -> None:
    health = store.decode(BRIDGE_HEALTH, reporter(store).report({}, cpu_s=10.0, now_ns=NOW_NS))
    assert list(health.streams) == [] and health.largest_take == 0


def test_cpu_share_is_cpu_seconds_over_wall_seconds_since_the_last_report(store: TypeStore) -> None:
    health = reporter(store, cpu_s=10.0, wall_ns=NOW_NS - 2 * S)
    first = store.decode(BRIDGE_HEALTH, health.report({}, cpu_s=10.5, now_ns=NOW_NS))
    second = store.decode(BRIDGE_HEALTH, health.report({}, cpu_s=12.5, now_ns=NOW_NS + S))
    assert first.cpu_share == pytest.approx(0.25)  # 0.5 s of CPU in 2 s
    assert second.cpu_share == pytest.approx(2.0)  # two cores' worth in the next second


def test_cpu_share_is_never_negative_and_zero_when_no_time_passed() -> None:
    load = ProcessLoad(last_cpu_s=5.0, last_wall_ns=NOW_NS)
    assert load.share(6.0, NOW_NS) == 0.0
    assert load.share(4.0, NOW_NS + S) == 0.0  # a clock that went back says nothing


def test_largest_take_resets_after_a_report_while_totals_keep_counting(store: TypeStore) -> None:
    health, counters = reporter(store), {"/imu": imu_counters()}
    first = store.decode(BRIDGE_HEALTH, health.report(counters, cpu_s=10.0, now_ns=NOW_NS))
    assert first.largest_take == first.streams[0].largest_take == 37
    assert counters["/imu"].largest_take == 0

    counters["/imu"].received += 3
    counters["/imu"].largest_take = 3
    second = store.decode(BRIDGE_HEALTH, health.report(counters, cpu_s=10.0, now_ns=NOW_NS + S))
    assert second.largest_take == second.streams[0].largest_take == 3
    assert second.streams[0].received == 29_953
