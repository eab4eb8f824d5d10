"""The fleet and detail tables' columns: what each cell shows, how rows sort and which rows a filter keeps."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest
from support.dashboard_views import HEALTHY_IMU

from telemetry.dashboard.columns import FLEET_COLUMNS, STREAM_COLUMNS, Column, matches, ordered
from telemetry.dashboard.view import StreamView, VehicleView, nan_max, nan_min
from telemetry.fleet.status import VehicleStatus

NAN = math.nan
ONLINE, STALE, OFFLINE = VehicleStatus.ONLINE, VehicleStatus.STALE, VehicleStatus.OFFLINE

_STREAM = HEALTHY_IMU


def stream(topic: str = "/imu", **values: Any) -> StreamView:
    return replace(_STREAM, topic=topic, **values)


def vehicle(
    name: str,
    region: str = "eu-west",
    status: VehicleStatus = ONLINE,
    streams: tuple[StreamView, ...] | None = None,
    clock_offset_ms: float = 0.0,
) -> VehicleView:
    return VehicleView(
        region=region,
        vehicle=name,
        status=status,
        status_since_ns=0,
        clock_offset_ms=clock_offset_ms,
        malformed=0,
        streams=(stream(),) if streams is None else streams,
    )


def column(columns: tuple[Column[Any], ...], key: str) -> Column[Any]:
    return next(c for c in columns if c.key == key)


def names(rows: list[VehicleView]) -> list[str]:
    return [row.vehicle for row in rows]


def by_key(row: VehicleView) -> str:
    return row.key


# --- sorting ----------------------------------------------------------------------------------


def test_p99_sorts_by_value_so_9_ms_comes_before_10_and_100_ms() -> None:
    rows = [vehicle(name, streams=(stream(latency_p99_ms=p99),)) for name, p99 in (("a", 100), ("b", 9), ("c", 10))]
    p99 = column(FLEET_COLUMNS, "p99")

    assert names(ordered(rows, p99, descending=False, tie=by_key)) == ["b", "c", "a"]
    assert names(ordered(rows, p99, descending=True, tie=by_key)) == ["a", "c", "b"]


@pytest.mark.parametrize("descending", [False, True])
def test_unknown_values_sort_last_whichever_way_the_table_is_sorted(descending: bool) -> None:
    rows = [
        vehicle("unknown-1", streams=(stream(latency_p99_ms=NAN),)),
        vehicle("low", streams=(stream(latency_p99_ms=1.0),)),
        vehicle("no-streams", streams=()),
        vehicle("high", streams=(stream(latency_p99_ms=50.0),)),
    ]

    result = names(ordered(rows, column(FLEET_COLUMNS, "p99"), descending, tie=by_key))

    assert result[:2] == (["high", "low"] if descending else ["low", "high"])
    assert result[2:] == ["no-streams", "unknown-1"]  # unknown: by the tie key, ascending


@pytest.mark.parametrize("descending", [False, True])
def test_equal_values_keep_the_tie_order_ascending_in_both_directions(descending: bool) -> None:
    rows = [
        vehicle(name, region)
        for name, region in (("rover-02", "us-east"), ("rover-03", "eu-west"), ("rover-01", "eu-west"))
    ]
    rows.append(vehicle("rover-04", "eu-west", streams=(stream(rate_hz=5.0),)))

    result = names(ordered(rows, column(FLEET_COLUMNS, "rate"), descending, tie=by_key))

    tied = ["rover-01", "rover-03", "rover-02"]  # eu-west/rover-01 < eu-west/rover-03 < us-east/rover-02
    assert result == ([*tied, "rover-04"] if descending else ["rover-04", *tied])


def test_status_sorts_offline_first_then_stale_then_online() -> None:
    rows = [vehicle("a", status=ONLINE), vehicle("b", status=OFFLINE), vehicle("c", status=STALE)]
    assert names(ordered(rows, column(FLEET_COLUMNS, "status"), descending=False, tie=by_key)) == ["b", "c", "a"]


def test_streams_ok_sorts_the_vehicle_with_most_failing_streams_first() -> None:
    bad = stream("/bad", stale=True)
    rows = [
        vehicle("one-bad", streams=(stream(ok=True), replace(bad, ok=False))),
        vehicle("all-good", streams=(stream(), stream("/odom"))),
        vehicle("two-bad", streams=(replace(bad, ok=False), replace(bad, topic="/x", ok=False), stream())),
    ]
    assert names(ordered(rows, column(FLEET_COLUMNS, "streams"), descending=False, tie=by_key)) == [
        "two-bad", "one-bad", "all-good"
    ]


def test_stream_rows_sort_by_their_p99_value() -> None:
    rows = [stream("/a", latency_p99_ms=20.0), stream("/b", latency_p99_ms=NAN), stream("/c", latency_p99_ms=3.0)]
    result = ordered(rows, column(STREAM_COLUMNS, "p99"), descending=True, tie=lambda s: s.topic)
    assert [s.topic for s in result] == ["/a", "/c", "/b"]


# --- filtering --------------------------------------------------------------------------------


def test_the_filter_finds_text_anywhere_in_region_or_vehicle_ignoring_case_and_spaces() -> None:
    rover = vehicle("rover-01", "eu-west")
    assert matches(rover, "ROVER-0", None)
    assert matches(rover, "  west ", None)
    assert matches(rover, "eu-west/rover-01", None)
    assert not matches(rover, "rover-02", None)


def test_an_empty_filter_keeps_every_vehicle() -> None:
    assert matches(vehicle("rover-01"), "", None)
    assert matches(vehicle("rover-01"), "   ", None)


def test_the_filter_matches_a_status_only_by_its_whole_name() -> None:
    stale = vehicle("rover-01", status=STALE)
    assert matches(stale, "stale", None)
    assert matches(stale, "Stale", None)
    assert not matches(stale, "sta", None)
    assert not matches(stale, "offline", None)


def test_the_region_filter_is_exact_and_combines_with_the_text() -> None:
    rover = vehicle("rover-01", "eu-west")
    assert matches(rover, "", "eu-west")
    assert not matches(rover, "", "eu")
    assert not matches(rover, "rover-01", "us-east")
    assert matches(rover, "rover", "eu-west")
    assert not matches(rover, "rover-03", "eu-west")


# --- cells ------------------------------------------------------------------------------------


def test_every_column_key_is_unique_within_its_table() -> None:
    for columns in (FLEET_COLUMNS, STREAM_COLUMNS):
        keys = [c.key for c in columns]
        assert len(keys) == len(set(keys))


def test_fleet_cells_show_a_vehicle_summed_over_its_streams() -> None:
    rover = vehicle(
        "rover-01",
        streams=(stream(rate_hz=990.0, latency_p99_ms=4.071), stream("/odom", rate_hz=100.0, latency_p99_ms=12.34)),
        clock_offset_ms=-1.5,
    )
    cells = {c.key: c.cell(rover) for c in FLEET_COLUMNS}
    assert cells == {
        "status": "[green]● online[/]",
        "vehicle": "rover-01",
        "region": "eu-west",
        "streams": "2 / 2",
        "rate": "1090.0",
        "ratio": "100 %",
        "p99": "12.3",
        "loss": "0.00 %",
        "clock": "-1.50",
    }


def test_fleet_cells_turn_red_for_a_failing_stream_and_for_loss() -> None:
    rover = vehicle(
        "rover-01",
        streams=(stream(), stream("/odom", rate_ratio=0.5, ok=False, lost=5, received=995)),
    )
    assert column(FLEET_COLUMNS, "streams").cell(rover) == "[red]1 / 2[/]"
    assert column(FLEET_COLUMNS, "ratio").cell(rover) == "[red]50 %[/]"
    assert column(FLEET_COLUMNS, "loss").cell(rover) == "[red]0.08 %[/]"  # 5 of 6000 sent


def test_a_vehicle_without_streams_shows_dashes_not_zeros() -> None:
    rover = vehicle("rover-01", streams=(), clock_offset_ms=NAN)
    cells = {c.key: c.cell(rover) for c in FLEET_COLUMNS}
    assert (cells["streams"], cells["ratio"], cells["p99"], cells["clock"]) == ("0 / 0", "—", "—", "—")


def test_stream_cells_show_rate_against_expected_type_and_trends() -> None:
    imu = stream(
        rate_hz=990.0, rate_ratio=0.99, batched=True, bytes_per_s=1234.0, lost=2, received=998,
        rate_history=(1000.0, 990.0), p99_history=(1.0, 4.0),
    )
    cells = {c.key: c.cell(imu) for c in STREAM_COLUMNS}
    assert cells["rate"] == "990.0 / 1000.0"
    assert cells["type"] == "sensor_msgs/Imu (batched)"
    assert cells["ratio"] == "███████▉ 99 %"
    assert cells["bandwidth"] == "1.23 kB/s"
    assert cells["hops"] == "[red]0/0/2[/]"  # lost before the bridge / in it / on the network
    assert cells["rate_trend"] == "██"  # scaled from 0: 990 of 1000 is still the top block
    assert cells["p99_trend"] == "▃█"  # 1 ms is a quarter of 4 ms


def test_stream_cells_show_the_sources_rate_each_hops_loss_and_samples_per_message() -> None:
    imu = stream(rate_hz=930.0, source_rate_hz=931.0, lost_dds=37, dropped_bridge=1, lost=0, samples_per_message=3.2)
    cells = {c.key: c.cell(imu) for c in STREAM_COLUMNS}
    assert (cells["source"], cells["hops"]) == ("931.0", "[red]37/1/0[/]")
    assert cells["type"] == "sensor_msgs/Imu ×3.2"
    assert {c.key: c.cell(stream()) for c in STREAM_COLUMNS}["hops"] == "0/0/0"


def test_a_stream_that_is_not_ok_has_its_rate_bar_in_red() -> None:
    slow = stream(rate_hz=500.0, rate_ratio=0.5, ok=False)
    assert column(STREAM_COLUMNS, "ratio").cell(slow) == "[red]████     50 %[/]"


# --- the figures behind the cells ---------------------------------------------------------------


def test_nan_max_and_nan_min_skip_unknown_values_and_are_nan_when_none_is_known() -> None:
    assert nan_max([NAN, 3.0, 7.0]) == 7.0
    assert nan_min((NAN, 3.0, 7.0)) == 3.0
    assert math.isnan(nan_max([NAN])) and math.isnan(nan_min([]))


def test_a_vehicles_worst_figures_ignore_streams_whose_values_are_unknown() -> None:
    rover = vehicle(
        "rover-01",
        streams=(
            stream(rate_ratio=0.8, latency_p99_ms=NAN, lost=1, received=99),
            stream("/odom", rate_ratio=NAN, latency_p99_ms=6.0, lost=0, received=900),
        ),
    )
    assert rover.worst_rate_ratio == 0.8
    assert rover.worst_p99_ms == 6.0
    assert rover.lost == 1
    assert rover.loss_pct == pytest.approx(0.1)  # 1 of 1000 sent
    assert rover.key == "eu-west/rover-01"


def test_a_stream_that_sent_nothing_has_no_loss() -> None:
    assert stream(lost=0, received=0).loss_pct == 0.0
    assert stream(lost=3, received=0).loss_pct == 100.0
