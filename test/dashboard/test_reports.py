"""Decoding the aggregator's msg/VehicleStats and msg/FleetStatus; bad bytes are a CodecError naming the key."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from telemetry.codec import TypeStore
from telemetry.dashboard.reports import FleetReport, decode_fleet_status, decode_vehicle_stats
from telemetry.errors import CodecError
from telemetry.fleet.status import VehicleStatus

SECOND = 1_000_000_000
T0 = 1_767_268_800 * SECOND
STATS_KEY = "telemetry/stats/eu-west/rover-01"
FLEET_KEY = "telemetry/fleet"


def stamp(store: TypeStore, ns: int) -> Any:
    return store.new("builtin_interfaces/msg/Time", sec=ns // SECOND, nanosec=ns % SECOND)


def stream_stats(store: TypeStore, topic: str, **values: Any) -> Any:
    fields: dict[str, Any] = {
        "topic": topic,
        "ros_type": "sensor_msgs/msg/Imu",
        "window_s": 5.0,
        "rate_hz": 990.0,
        "expected_hz": 1000.0,
        "rate_ratio": 0.99,
        "latency_p50_ms": 0.4,
        "latency_p90_ms": 0.9,
        "latency_p99_ms": 2.5,
        "latency_max_ms": 7.0,
        "jitter_ms": 0.05,
        "received": 4950,
        "lost": 3,
        "received_total": 100_000,
        "lost_total": 12,
        "restarts_total": 1,
        "bytes_per_s": 250_000.0,
        "stale": False,
    }
    return store.new("telemetry/msg/StreamStats", **(fields | values))


def vehicle_stats(store: TypeStore, **values: Any) -> Any:
    fields: dict[str, Any] = {
        "stamp": stamp(store, T0 + 123),
        "region": "eu-west",
        "vehicle": "rover-01",
        "status": 1,
        "status_since": stamp(store, T0 - 4 * SECOND),
        "clock_offset_ms": -1.25,
        "malformed": 4,
        "streams": [
            stream_stats(store, "/odom", ros_type="nav_msgs/msg/Odometry", batched=True, latency_p99_ms=math.nan),
            stream_stats(store, "/imu"),
        ],
    }
    return store.new("telemetry/msg/VehicleStats", **(fields | values))


def fleet_status(store: TypeStore) -> Any:
    return store.new(
        "telemetry/msg/FleetStatus",
        stamp=stamp(store, T0 + 5),
        aggregator="0123456789abcdef",
        regions=["eu-west"],
        vehicles=["eu-west/rover-01", "eu-west/rover-02"],
        vehicle_status=bytes([0, 2]),
    )


# --- VehicleStats ---------------------------------------------------------------------------


def test_vehicle_stats_round_trip_into_a_report(store: TypeStore) -> None:
    report = decode_vehicle_stats(store, STATS_KEY, store.encode(vehicle_stats(store)))

    assert (report.region, report.vehicle, report.status) == ("eu-west", "rover-01", VehicleStatus.STALE)
    assert (report.stamp_ns, report.status_since_ns) == (T0 + 123, T0 - 4 * SECOND)
    assert (report.clock_offset_ms, report.malformed) == (-1.25, 4)


def test_every_stream_figure_survives_the_round_trip(store: TypeStore) -> None:
    imu = decode_vehicle_stats(store, STATS_KEY, store.encode(vehicle_stats(store))).streams[0]

    assert imu.topic == "/imu" and imu.ros_type == "sensor_msgs/msg/Imu" and imu.batched is False
    assert (imu.window_s, imu.rate_hz, imu.expected_hz, imu.rate_ratio) == (5.0, 990.0, 1000.0, 0.99)
    assert (imu.latency_p50_ms, imu.latency_p90_ms, imu.latency_p99_ms, imu.latency_max_ms, imu.jitter_ms) == (
        0.4, 0.9, 2.5, 7.0, 0.05
    )
    assert (imu.received, imu.lost, imu.lost_total, imu.restarts_total) == (4950, 3, 12, 1)
    assert (imu.bytes_per_s, imu.stale) == (250_000.0, False)
    assert imu.loss_pct == pytest.approx(100 * 3 / 4953)


def test_streams_are_sorted_by_topic_and_unknown_values_stay_nan(store: TypeStore) -> None:
    report = decode_vehicle_stats(store, STATS_KEY, store.encode(vehicle_stats(store, clock_offset_ms=math.nan)))

    assert [(s.topic, s.batched) for s in report.streams] == [("/imu", False), ("/odom", True)]
    assert math.isnan(report.streams[1].latency_p99_ms)
    assert math.isnan(report.clock_offset_ms)


def test_a_vehicle_with_no_streams_decodes_to_an_empty_tuple(store: TypeStore) -> None:
    report = decode_vehicle_stats(store, STATS_KEY, store.encode(vehicle_stats(store, status=2, streams=[])))
    assert (report.status, report.streams) == (VehicleStatus.OFFLINE, ())


def test_garbage_bytes_are_a_codec_error_naming_the_key(store: TypeStore) -> None:
    with pytest.raises(CodecError, match=f"^{re.escape(STATS_KEY)}: telemetry/msg/VehicleStats: not CDR"):
        decode_vehicle_stats(store, STATS_KEY, b"definitely not CDR")


def test_truncated_vehicle_stats_are_a_codec_error_naming_the_key(store: TypeStore) -> None:
    truncated = store.encode(vehicle_stats(store))[:100]
    with pytest.raises(
        CodecError, match=f"^{re.escape(STATS_KEY)}: telemetry/msg/VehicleStats: cannot decode 100 bytes"
    ):
        decode_vehicle_stats(store, STATS_KEY, truncated)


def test_an_empty_payload_is_a_codec_error_naming_the_key(store: TypeStore) -> None:
    with pytest.raises(CodecError, match=f"^{re.escape(STATS_KEY)}: "):
        decode_vehicle_stats(store, STATS_KEY, b"")


def test_an_unknown_status_value_is_a_codec_error_naming_the_key_and_the_value(store: TypeStore) -> None:
    payload = store.encode(vehicle_stats(store, status=7))
    message = f"^{re.escape(STATS_KEY)}: not a telemetry/msg/VehicleStats: 7 is not a valid VehicleStatus"
    with pytest.raises(CodecError, match=message):
        decode_vehicle_stats(store, STATS_KEY, payload)


# --- FleetStatus --------------------------------------------------------------------------------


def test_fleet_status_round_trips_into_a_fleet_report(store: TypeStore) -> None:
    report = decode_fleet_status(store, FLEET_KEY, store.encode(fleet_status(store)))
    assert report == FleetReport(
        aggregator="0123456789abcdef",
        regions=("eu-west",),
        stamp_ns=T0 + 5,
        vehicles=("eu-west/rover-01", "eu-west/rover-02"),
    )


def test_garbage_fleet_status_is_a_codec_error_naming_the_key(store: TypeStore) -> None:
    with pytest.raises(CodecError, match=f"^{re.escape(FLEET_KEY)}: telemetry/msg/FleetStatus: not CDR"):
        decode_fleet_status(store, FLEET_KEY, b"\xff\xfe garbage")


def test_truncated_fleet_status_is_a_codec_error_naming_the_key(store: TypeStore) -> None:
    payload = store.encode(fleet_status(store))
    with pytest.raises(CodecError, match=f"^{re.escape(FLEET_KEY)}: telemetry/msg/FleetStatus: cannot decode"):
        decode_fleet_status(store, FLEET_KEY, payload[:-3])


def test_a_message_published_with_another_schema_is_refused_with_both_names(store: TypeStore) -> None:
    fleet_bytes = store.encode(vehicle_stats(store))
    with pytest.raises(CodecError, match=re.escape(
        f"{STATS_KEY}: published as 'application/cdr;telemetry/msg/FleetStatus', "
        "expected application/cdr;telemetry/msg/VehicleStats"
    )):
        decode_vehicle_stats(store, STATS_KEY, fleet_bytes, "application/cdr;telemetry/msg/FleetStatus")


def test_a_message_with_the_right_schema_decodes(store: TypeStore) -> None:
    payload = store.encode(vehicle_stats(store))
    report = decode_vehicle_stats(store, STATS_KEY, payload, "application/cdr;telemetry/msg/VehicleStats")
    assert report.vehicle == "rover-01"
