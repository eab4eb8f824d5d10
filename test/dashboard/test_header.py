"""The header: where the data comes from and whether it is fresh, then the fleet's totals."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from support.dashboard_views import HEALTHY_IMU

from telemetry.dashboard.header import HeaderText, connection_line, recorder_part, totals_line
from telemetry.dashboard.view import (
    ConnectionState,
    ConnectionView,
    FleetTotals,
    RecorderView,
    StreamView,
    VehicleView,
)
from telemetry.fleet.status import VehicleStatus

ENDPOINT = ("tcp/127.0.0.1:7447",)
CONNECTED = ConnectionView(ConnectionState.CONNECTED, ENDPOINT, routers=("router-zid",))

_STREAM = HEALTHY_IMU


# --- the connection line ----------------------------------------------------------------------


def test_a_session_that_could_not_open_says_why() -> None:
    failed = ConnectionView(ConnectionState.FAILED, ENDPOINT, detail="--zenoh-config x.json5: file not found")
    assert connection_line(failed) == HeaderText(
        "cannot open the Zenoh session: --zenoh-config x.json5: file not found", True
    )


def test_connecting_names_the_endpoints_it_tries() -> None:
    assert connection_line(ConnectionView(ConnectionState.CONNECTING, ENDPOINT)) == HeaderText(
        "connecting to tcp/127.0.0.1:7447: no router answers yet, retrying", True
    )


def test_without_endpoints_the_line_speaks_of_the_configured_router() -> None:
    line = connection_line(ConnectionView(ConnectionState.CONNECTING, ()))
    assert line.text == "connecting to the configured router: no router answers yet, retrying"


def test_a_lost_router_is_spelled_out_as_a_problem() -> None:
    lost = ConnectionView(ConnectionState.ROUTER_LOST, ("tcp/10.0.0.1:7447", "tcp/10.0.0.2:7447"))
    assert connection_line(lost) == HeaderText(
        "router lost: tcp/10.0.0.1:7447, tcp/10.0.0.2:7447 went away, reconnecting by itself", True
    )


def test_connected_with_no_stats_yet_says_to_start_an_aggregator() -> None:
    assert connection_line(CONNECTED) == HeaderText(
        "router tcp/127.0.0.1:7447 (connected) · no aggregator: no stats received yet "
        "(start `aggregator`, or run the dashboard with --embedded)",
        True,
    )


def test_an_embedded_aggregators_detail_replaces_the_hint_while_no_stats_arrived() -> None:
    waiting = replace(CONNECTED, embedded=True, detail="starting an aggregator in this process")
    assert connection_line(waiting).text.endswith("no stats received yet (starting an aggregator in this process)")


def test_fresh_stats_name_the_aggregators_by_their_short_id_and_are_no_problem() -> None:
    fresh = replace(
        CONNECTED, routers=("r1", "r2"), aggregators=("0123456789abcdef", "fedcba9876543210"), last_stats_age_s=0.43
    )
    assert connection_line(fresh) == HeaderText(
        "router tcp/127.0.0.1:7447 (2 routers) · aggregator 01234567, fedcba98 · stats 0.4 s ago", False
    )


def test_an_embedded_aggregator_is_named_as_such() -> None:
    line = connection_line(replace(CONNECTED, embedded=True, aggregators=("0123456789abcdef",), last_stats_age_s=1.0))
    assert line == HeaderText("router tcp/127.0.0.1:7447 (connected) · aggregator embedded · stats 1.0 s ago", False)


def test_fresh_stats_without_a_fleet_message_show_only_their_age() -> None:
    line = connection_line(replace(CONNECTED, last_stats_age_s=0.5))
    assert line == HeaderText("router tcp/127.0.0.1:7447 (connected) · stats 0.5 s ago", False)


@pytest.mark.parametrize(("age_s", "late"), [(3.0, False), (3.6, True), (60.0, True)])
def test_stats_older_than_three_seconds_ask_whether_the_aggregator_runs(age_s: float, late: bool) -> None:
    line = connection_line(replace(CONNECTED, aggregators=("abc",), last_stats_age_s=age_s))
    assert line.problem is late
    assert ("is the aggregator running?" in line.text) is late
    if late:
        assert line.text.endswith(f"(connected) · no stats for {age_s:.0f} s: is the aggregator running?")


def test_bad_messages_are_counted_on_the_connection_line() -> None:
    line = connection_line(replace(CONNECTED, last_stats_age_s=0.5, malformed=3))
    assert line == HeaderText(
        "router tcp/127.0.0.1:7447 (connected) · stats 0.5 s ago · 3 bad messages ignored", False
    )


# --- the totals line ----------------------------------------------------------------------------


def test_a_healthy_fleets_totals_have_no_red() -> None:
    totals = FleetTotals(
        online=3, stale=0, offline=0, streams=12, streams_ok=12, samples_per_s=3333.0, bytes_per_s=1.5e6,
        worst_p99_ms=4.071, lost=0, loss_pct=0.0,
    )
    assert totals_line(totals) == (
        "vehicles [green]3 online[/] · 0 stale · 0 offline   streams 12/12 ok   3333.0 samples/s   "
        "1.5 MB/s   worst p99 4.07 ms   loss 0.00 %"
    )


def test_stale_offline_and_loss_are_coloured_and_unknown_p99_is_a_dash() -> None:
    totals = FleetTotals(
        online=1, stale=1, offline=1, streams=8, streams_ok=5, samples_per_s=12_345.0, bytes_per_s=999.0,
        worst_p99_ms=math.nan, lost=3, loss_pct=0.25,
    )
    assert totals_line(totals) == (
        "vehicles [green]1 online[/] · [yellow]1 stale[/] · [red]1 offline[/]   streams 5/8 ok   12.3 k samples/s   "
        "999 B/s   worst p99 —   loss [red]0.25 % (3 lost)[/]"
    )


def test_totals_are_summed_over_every_vehicle_and_stream() -> None:
    def vehicle(name: str, status: VehicleStatus, *streams: StreamView) -> VehicleView:
        return VehicleView("eu-west", name, status, 0, 0.0, 0, streams)

    vehicles = (
        vehicle("a", VehicleStatus.ONLINE, _STREAM, replace(_STREAM, topic="/odom", latency_p99_ms=12.0, lost=5)),
        vehicle("b", VehicleStatus.STALE, replace(_STREAM, ok=False, latency_p99_ms=math.nan)),
        vehicle("c", VehicleStatus.OFFLINE),
        vehicle("d", VehicleStatus.OFFLINE),
    )

    totals = FleetTotals.of(vehicles)

    assert replace(totals, loss_pct=0.0) == FleetTotals(
        online=1, stale=1, offline=2, streams=3, streams_ok=2, samples_per_s=3000.0, bytes_per_s=300_000.0,
        worst_p99_ms=12.0, lost=5, loss_pct=0.0,
    )  # every field exactly but loss_pct, which is a quotient: compared approximately
    assert totals.loss_pct == pytest.approx(100 * 5 / 15_005)


def test_totals_of_no_vehicles_are_zero_with_an_unknown_p99() -> None:
    totals = FleetTotals.of(())
    assert (totals.online, totals.streams, totals.samples_per_s, totals.lost, totals.loss_pct) == (0, 0, 0.0, 0, 0.0)
    assert math.isnan(totals.worst_p99_ms)


RECORDING = RecorderView("main", samples_per_s=3318.0, bytes_per_s=1.22e6, free_disk_bytes=41_000_000_000,
                         samples_dropped=0, disk_full=False, last_error="", age_s=0.4)


def test_without_a_recorder_the_header_says_nothing_of_recording() -> None:
    assert recorder_part(()) == HeaderText("", False)


def test_a_recording_recorder_shows_its_rate_and_free_disk() -> None:
    assert recorder_part((RECORDING,)) == HeaderText("recording 3318.0 samples/s 1.22 MB/s · 41 GB free", False)


def test_a_full_disk_is_spelled_out_with_what_was_dropped() -> None:
    full = replace(RECORDING, disk_full=True, samples_dropped=1234, last_error="disk full in /data: No space left")
    assert recorder_part((full,)) == HeaderText("recorder main: DISK FULL, 1234 samples dropped", True)


def test_a_silent_recorder_is_a_problem() -> None:
    assert recorder_part((replace(RECORDING, age_s=12.0),)) == HeaderText("recorder main silent for 12 s", True)


def test_a_recorders_last_error_is_shown_beside_its_rate() -> None:
    text = recorder_part((replace(RECORDING, last_error="retention: cannot delete x"),))
    assert text.problem and text.text.endswith("(retention: cannot delete x)")
