"""FleetState: decoded reports and liveliness in, one FleetView out; StreamHistory behind its sparklines."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest
from support.dashboard_views import HEALTHY_IMU

from telemetry.config import AlertThresholds
from telemetry.dashboard.history import StreamHistory
from telemetry.dashboard.reports import FleetReport, VehicleReport
from telemetry.dashboard.state import FleetState, StateSettings
from telemetry.dashboard.view import AlertLevel, ConnectionState, ConnectionView, FleetView, StreamView, VehicleView
from telemetry.fleet.status import VehicleStatus

NAN = math.nan
SECOND = 1_000_000_000
T0 = 1_767_268_800 * SECOND
ONLINE, STALE, OFFLINE = VehicleStatus.ONLINE, VehicleStatus.STALE, VehicleStatus.OFFLINE
CONNECTED = ConnectionView(ConnectionState.CONNECTED, ("tcp/127.0.0.1:7447",), routers=("router-zid",))

_STREAM = HEALTHY_IMU


def stream(topic: str = "/imu", **values: Any) -> StreamView:
    return replace(_STREAM, topic=topic, **values)


def report(
    vehicle: str = "rover-01",
    region: str = "eu-west",
    status: VehicleStatus = ONLINE,
    since_ns: int = T0 - 60 * SECOND,
    streams: tuple[StreamView, ...] = (_STREAM,),
    clock_offset_ms: float = 1.5,
) -> VehicleReport:
    return VehicleReport(region, vehicle, status, since_ns, T0, clock_offset_ms, 2, streams)


def fleet_report(aggregator: str) -> FleetReport:
    return FleetReport(aggregator, (), T0, ())


def only(view: FleetView) -> VehicleView:
    assert len(view.vehicles) == 1
    return view.vehicles[0]


@pytest.fixture
def state() -> FleetState:
    return FleetState()


# --- status -----------------------------------------------------------------------------------


def test_a_reported_vehicle_shows_the_aggregators_status_clock_and_streams(state: FleetState) -> None:
    state.add_report(report(status=STALE, since_ns=T0 - 7 * SECOND), T0)

    rover = only(state.view(T0 + SECOND // 2, CONNECTED))

    assert (rover.key, rover.status, rover.status_since_ns) == ("eu-west/rover-01", STALE, T0 - 7 * SECOND)
    assert (rover.clock_offset_ms, rover.malformed, rover.stats_age_s) == (1.5, 2, 0.5)
    assert [s.topic for s in rover.streams] == ["/imu"]


def test_a_token_gone_makes_the_vehicle_offline_at_once_even_if_its_last_report_says_online(
    state: FleetState,
) -> None:
    state.set_alive("eu-west", "rover-01", True, T0 - 10 * SECOND)
    state.add_report(report(status=ONLINE), T0)
    state.set_alive("eu-west", "rover-01", False, T0 + 200_000_000)

    rover = only(state.view(T0 + 300_000_000, CONNECTED))

    assert (rover.status, rover.status_since_ns) == (OFFLINE, T0 + 200_000_000)
    assert rover.streams  # the last figures stay on screen


def test_a_token_gone_keeps_the_aggregators_offline_time_when_it_already_agrees(state: FleetState) -> None:
    state.add_report(report(status=OFFLINE, since_ns=T0 - 5 * SECOND), T0)
    state.set_alive("eu-west", "rover-01", False, T0 + SECOND)

    assert only(state.view(T0 + SECOND, CONNECTED)).status_since_ns == T0 - 5 * SECOND


def test_with_the_token_present_the_aggregators_word_stands(state: FleetState) -> None:
    state.set_alive("eu-west", "rover-01", True, T0)
    state.add_report(report(status=STALE, since_ns=T0 + SECOND), T0 + 2 * SECOND)

    rover = only(state.view(T0 + 2 * SECOND, CONNECTED))

    assert (rover.status, rover.status_since_ns) == (STALE, T0 + SECOND)


def test_a_token_that_comes_back_lets_the_next_report_decide_again(state: FleetState) -> None:
    state.add_report(report(status=ONLINE), T0)
    state.set_alive("eu-west", "rover-01", False, T0 + SECOND)
    state.set_alive("eu-west", "rover-01", True, T0 + 2 * SECOND)
    state.add_report(report(status=ONLINE, since_ns=T0 + 2 * SECOND), T0 + 3 * SECOND)

    assert only(state.view(T0 + 3 * SECOND, CONNECTED)).status is ONLINE


def test_a_vehicle_known_only_by_its_token_is_online_with_no_streams(state: FleetState) -> None:
    state.set_alive("us-east", "rover-03", True, T0)

    rover = only(state.view(T0 + SECOND, CONNECTED))

    assert (rover.key, rover.status, rover.status_since_ns, rover.streams) == ("us-east/rover-03", ONLINE, T0, ())
    assert math.isnan(rover.clock_offset_ms) and math.isnan(rover.stats_age_s)
    assert rover.malformed == 0


def test_vehicles_are_listed_by_region_then_name(state: FleetState) -> None:
    for region, name in (("us-east", "rover-03"), ("eu-west", "rover-02"), ("eu-west", "rover-01")):
        state.add_report(report(name, region), T0)

    view = state.view(T0, CONNECTED)

    assert [v.key for v in view.vehicles] == ["eu-west/rover-01", "eu-west/rover-02", "us-east/rover-03"]
    assert view.regions == ("eu-west", "us-east")
    assert view.vehicle("eu-west/rover-02") is view.vehicles[1]
    assert view.vehicle("eu-west/rover-09") is None


def test_the_view_raises_the_alerts_it_implies_newest_first(state: FleetState) -> None:
    state.add_report(report(), T0)
    state.view(T0, CONNECTED)
    state.set_alive("eu-west", "rover-01", False, T0 + SECOND)

    view = state.view(T0 + SECOND, CONNECTED)

    assert [(a.level, a.vehicle, a.message) for a in view.alerts] == [
        (AlertLevel.ERROR, "eu-west/rover-01", "offline: liveliness token gone")
    ]


def test_totals_sum_the_vehicles_on_screen(state: FleetState) -> None:
    state.add_report(report("rover-01", streams=(stream(), stream("/odom", rate_hz=100.0, lost=5, received=495))), T0)
    state.add_report(report("rover-02", status=STALE), T0)
    state.set_alive("eu-west", "rover-02", False, T0)

    totals = state.view(T0, CONNECTED).totals

    assert (totals.online, totals.stale, totals.offline) == (1, 0, 1)
    assert (totals.streams, totals.streams_ok, totals.samples_per_s, totals.lost) == (3, 3, 2100.0, 5)
    assert totals.loss_pct == pytest.approx(100 * 5 / 10_500)


# --- stream health ------------------------------------------------------------------------------


def test_a_streams_ok_flag_uses_the_configured_minimum_rate_ratio() -> None:
    streams = (stream("/imu", rate_ratio=0.6), stream("/odom", rate_ratio=0.4), stream("/gnss", stale=True))
    strict, lenient = FleetState(), FleetState(StateSettings(thresholds=AlertThresholds(min_rate_ratio=0.5)))
    for state in (strict, lenient):
        state.add_report(report(streams=streams), T0)

    assert [(s.topic, s.ok) for s in only(strict.view(T0, CONNECTED)).streams] == [
        ("/imu", False), ("/odom", False), ("/gnss", False)
    ]
    assert [(s.topic, s.ok) for s in only(lenient.view(T0, CONNECTED)).streams] == [
        ("/imu", True), ("/odom", False), ("/gnss", False)
    ]
    assert lenient.view(T0, CONNECTED).totals.streams_ok == 1


# --- histories --------------------------------------------------------------------------------


def test_histories_keep_one_point_per_step_from_reports_every_half_second() -> None:
    state = FleetState(StateSettings(history_span_s=180.0, history_step_s=2.0))
    for n in range(21):  # 0 .. 10 s
        values = stream(rate_hz=float(n), latency_p99_ms=float(100 + n))
        state.add_report(report(streams=(values,)), T0 + n * SECOND // 2)

    imu = only(state.view(T0 + 10 * SECOND, CONNECTED)).streams[0]

    assert imu.rate_history == (0.0, 4.0, 8.0, 12.0, 16.0, 20.0)  # reports at 0, 2, 4, 6, 8, 10 s
    assert imu.p99_history == (100.0, 104.0, 108.0, 112.0, 116.0, 120.0)


def test_histories_reach_back_only_their_span() -> None:
    state = FleetState(StateSettings(history_span_s=6.0, history_step_s=2.0))
    for n in range(6):
        state.add_report(report(streams=(stream(rate_hz=float(n)),)), T0 + 2 * n * SECOND)

    assert only(state.view(T0 + 10 * SECOND, CONNECTED)).streams[0].rate_history == (3.0, 4.0, 5.0)


def test_each_stream_of_each_vehicle_has_its_own_history(state: FleetState) -> None:
    state.add_report(report("rover-01", streams=(stream("/imu", rate_hz=1.0), stream("/odom", rate_hz=2.0))), T0)
    state.add_report(report("rover-02", streams=(stream("/imu", rate_hz=3.0),)), T0)

    view = state.view(T0, CONNECTED)

    assert [(v.vehicle, s.topic, s.rate_history) for v in view.vehicles for s in v.streams] == [
        ("rover-01", "/imu", (1.0,)), ("rover-01", "/odom", (2.0,)), ("rover-02", "/imu", (3.0,))
    ]


def test_a_stream_history_keeps_points_at_least_a_step_apart_and_the_newest_span() -> None:
    history = StreamHistory(span_s=4.0, step_s=1.0)
    for at_s, rate in ((0.0, 1.0), (0.5, 99.0), (1.0, 2.0), (2.9, 3.0), (3.0, 99.0), (4.0, 4.0), (5.0, 5.0)):
        history.add(T0 + int(at_s * SECOND), rate, rate * 10)

    assert history.rate_hz == (2.0, 3.0, 4.0, 5.0)
    assert history.p99_ms == (20.0, 30.0, 40.0, 50.0)


def test_an_empty_history_has_no_points() -> None:
    assert StreamHistory().rate_hz == () and StreamHistory().p99_ms == ()


# --- the connection line's figures -------------------------------------------------------------------


def test_aggregators_are_listed_only_while_they_keep_publishing(state: FleetState) -> None:
    state.add_fleet(fleet_report("bbbb-aggregator"), T0)
    state.add_fleet(fleet_report("aaaa-aggregator"), T0 + 2 * SECOND)

    at_timeout = state.view(T0 + 3 * SECOND, CONNECTED).connection
    after = state.view(T0 + 3 * SECOND + 1, CONNECTED).connection

    assert at_timeout.aggregators == ("aaaa-aggregator", "bbbb-aggregator")
    assert after.aggregators == ("aaaa-aggregator",)
    assert state.view(T0 + 6 * SECOND, CONNECTED).connection.aggregators == ()


def test_the_aggregator_timeout_can_be_set() -> None:
    state = FleetState(StateSettings(aggregator_timeout_s=10.0))
    state.add_fleet(fleet_report("a"), T0)
    assert state.view(T0 + 9 * SECOND, CONNECTED).connection.aggregators == ("a",)


def test_last_stats_age_is_none_until_a_stats_or_fleet_message_arrives(state: FleetState) -> None:
    state.set_alive("eu-west", "rover-01", True, T0)
    assert state.view(T0, CONNECTED).connection.last_stats_age_s is None

    state.add_report(report(), T0)
    assert state.view(T0 + 1_500_000_000, CONNECTED).connection.last_stats_age_s == 1.5

    state.add_fleet(fleet_report("a"), T0 + SECOND)
    assert state.view(T0 + 1_500_000_000, CONNECTED).connection.last_stats_age_s == 0.5


def test_last_stats_age_is_never_negative_when_a_message_is_stamped_after_now(state: FleetState) -> None:
    state.add_report(report(), T0 + SECOND)
    assert state.view(T0, CONNECTED).connection.last_stats_age_s == 0.0


def test_the_view_keeps_the_callers_connection_state_and_endpoints(state: FleetState) -> None:
    lost = ConnectionView(ConnectionState.ROUTER_LOST, ("tcp/10.0.0.1:7447",), malformed=4)
    connection = state.view(T0, lost).connection
    assert (connection.state, connection.endpoints, connection.malformed) == (
        ConnectionState.ROUTER_LOST, ("tcp/10.0.0.1:7447",), 4
    )


# --- forgetting ---------------------------------------------------------------------------------


def test_a_vehicle_with_neither_token_nor_stats_for_forget_after_leaves_the_table() -> None:
    state = FleetState(StateSettings(forget_after_s=600.0))
    state.add_report(report("rover-01"), T0)
    state.set_alive("eu-west", "rover-01", False, T0 + 10 * SECOND)
    state.add_report(report("rover-02"), T0)  # token never seen: the reports alone keep it

    at_limit = state.view(T0 + 610 * SECOND, CONNECTED)
    after = state.view(T0 + 610 * SECOND + 1, CONNECTED)

    assert [v.vehicle for v in at_limit.vehicles] == ["rover-01"]  # rover-02's reports stopped at T0
    assert after.vehicles == ()


def test_a_vehicle_whose_token_is_present_is_never_forgotten() -> None:
    state = FleetState(StateSettings(forget_after_s=600.0))
    state.set_alive("eu-west", "rover-01", True, T0)

    assert [v.vehicle for v in state.view(T0 + 3600 * SECOND, CONNECTED).vehicles] == ["rover-01"]


def test_a_forgotten_vehicle_that_returns_starts_a_fresh_history() -> None:
    state = FleetState(StateSettings(forget_after_s=60.0))
    state.add_report(report(streams=(stream(rate_hz=1.0),)), T0)
    state.view(T0 + 61 * SECOND, CONNECTED)
    state.add_report(report(streams=(stream(rate_hz=2.0),)), T0 + 62 * SECOND)

    assert only(state.view(T0 + 62 * SECOND, CONNECTED)).streams[0].rate_history == (2.0,)


def test_a_topic_that_leaves_the_report_loses_its_history() -> None:
    state = FleetState(StateSettings(history_step_s=1.0))
    state.add_report(report(streams=(stream("/imu", rate_hz=1.0), stream("/odom", rate_hz=2.0))), T0)
    state.add_report(report(streams=(stream("/imu", rate_hz=3.0),)), T0 + 2 * SECOND)
    state.add_report(report(streams=(stream("/imu", rate_hz=4.0), stream("/odom", rate_hz=5.0))), T0 + 4 * SECOND)

    odom = only(state.view(T0 + 4 * SECOND, CONNECTED)).streams[1]
    assert (odom.topic, odom.rate_history) == ("/odom", (5.0,))
