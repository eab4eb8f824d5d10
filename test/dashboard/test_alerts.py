"""Alerts are raised on the edge of a condition: one when it starts, one INFO when it clears."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest
from support.dashboard_views import stream_view

from telemetry.config import AlertThresholds
from telemetry.dashboard.alerts import AlertTracker, stream_ok
from telemetry.dashboard.view import Alert, AlertLevel, StreamView, VehicleView
from telemetry.fleet.status import VehicleStatus

NAN = math.nan
SECOND = 1_000_000_000
T0 = 1_767_268_800 * SECOND
ONLINE, STALE, OFFLINE = VehicleStatus.ONLINE, VehicleStatus.STALE, VehicleStatus.OFFLINE
INFO, WARNING, ERROR = AlertLevel.INFO, AlertLevel.WARNING, AlertLevel.ERROR

_STREAM = stream_view(
    "/odom", ros_type="nav_msgs/msg/Odometry", rate_hz=100.0, expected_hz=100.0, received=500, bytes_per_s=10_000.0
)


def stream(topic: str = "/odom", **values: Any) -> StreamView:
    return replace(_STREAM, topic=topic, **values)


def slow(topic: str = "/odom", rate_hz: float = 80.0) -> StreamView:
    return stream(topic, rate_hz=rate_hz, rate_ratio=rate_hz / 100.0)


def vehicle(*streams: StreamView, status: VehicleStatus = ONLINE, name: str = "rover-01") -> VehicleView:
    return VehicleView("eu-west", name, status, 0, 0.0, 0, streams or (stream(),))


def brief(alerts: list[Alert] | tuple[Alert, ...]) -> list[tuple[AlertLevel, str, str, str]]:
    return [(a.level, a.vehicle, a.topic, a.message) for a in alerts]


@pytest.fixture
def tracker() -> AlertTracker:
    return AlertTracker(AlertThresholds(min_rate_ratio=0.9, max_latency_p99_ms=10.0))


# --- stream conditions --------------------------------------------------------------------------


def test_a_slow_stream_raises_one_warning_when_it_starts_and_one_info_when_it_clears(tracker: AlertTracker) -> None:
    assert tracker.observe([vehicle(stream())], T0) == []

    started = tracker.observe([vehicle(slow())], T0 + SECOND)
    during = [tracker.observe([vehicle(slow())], T0 + n * SECOND) for n in range(2, 10)]
    cleared = tracker.observe([vehicle(stream())], T0 + 10 * SECOND)

    assert started == [
        Alert(T0 + SECOND, WARNING, "eu-west/rover-01", "/odom", "rate 80 Hz is 80% of 100 Hz (alert below 90%)")
    ]
    assert during == [[]] * 8
    assert cleared == [Alert(T0 + 10 * SECOND, INFO, "eu-west/rover-01", "/odom", "rate back to normal")]
    assert len(tracker.alerts) == 2


def test_a_condition_that_gets_worse_is_not_raised_again(tracker: AlertTracker) -> None:
    tracker.observe([vehicle(slow(rate_hz=80.0))], T0)
    assert tracker.observe([vehicle(slow(rate_hz=40.0))], T0 + SECOND) == []


def test_a_p99_over_the_threshold_raises_a_warning_and_its_recovery_an_info(tracker: AlertTracker) -> None:
    started = tracker.observe([vehicle(stream(latency_p99_ms=12.34))], T0)
    cleared = tracker.observe([vehicle(stream(latency_p99_ms=3.0))], T0 + SECOND)

    assert brief(started) == [(WARNING, "eu-west/rover-01", "/odom", "p99 latency 12.3 ms over 10 ms")]
    assert brief(cleared) == [(INFO, "eu-west/rover-01", "/odom", "p99 latency back under threshold")]


def test_any_loss_raises_an_error_and_its_end_an_info(tracker: AlertTracker) -> None:
    started = tracker.observe([vehicle(stream(lost=3, received=997))], T0)
    cleared = tracker.observe([vehicle(stream(lost=0))], T0 + SECOND)

    assert brief(started) == [(ERROR, "eu-west/rover-01", "/odom",
                               "lost 3 samples (0.3 %) in the last 5 s, between the bridge and the aggregator")]
    assert brief(cleared) == [(INFO, "eu-west/rover-01", "/odom", "no more loss")]


def test_loss_before_the_bridge_is_named_as_that_hop_and_clears_on_its_own(tracker: AlertTracker) -> None:
    started = tracker.observe([vehicle(stream(lost_dds=37))], T0)
    cleared = tracker.observe([vehicle(stream(lost_dds=0))], T0 + SECOND)

    assert brief(started) == [
        (ERROR, "eu-west/rover-01", "/odom", "lost 37 between the sensor and the bridge in the last 5 s")
    ]
    assert brief(cleared) == [(INFO, "eu-west/rover-01", "/odom", "no more loss before the bridge")]


def test_the_bridges_own_drops_are_an_alert_of_their_own_but_downsampling_is_not(tracker: AlertTracker) -> None:
    started = tracker.observe([vehicle(stream(dropped_bridge=4, downsampled=950))], T0)

    assert [(a.level, a.message.split(" (")[0]) for a in started] == [(ERROR, "the bridge dropped 4 in the last 5 s")]


def test_each_condition_of_a_stream_is_raised_and_cleared_on_its_own(tracker: AlertTracker) -> None:
    bad = stream(rate_hz=50.0, rate_ratio=0.5, latency_p99_ms=20.0, lost=1, received=249)
    started = tracker.observe([vehicle(bad)], T0)
    cleared = tracker.observe([vehicle(replace(bad, lost=0))], T0 + SECOND)

    assert [(a.level, a.message.split()[0]) for a in started] == [(WARNING, "rate"), (WARNING, "p99"), (ERROR, "lost")]
    assert brief(cleared) == [(INFO, "eu-west/rover-01", "/odom", "no more loss")]


def test_the_same_topic_on_two_vehicles_is_two_conditions(tracker: AlertTracker) -> None:
    new = tracker.observe([vehicle(slow(), name="rover-01"), vehicle(slow(), name="rover-02")], T0)
    assert [(a.vehicle, a.topic) for a in new] == [("eu-west/rover-01", "/odom"), ("eu-west/rover-02", "/odom")]


def test_thresholds_decide_what_is_slow_and_what_is_late() -> None:
    tracker = AlertTracker(AlertThresholds(min_rate_ratio=0.5, max_latency_p99_ms=25.0))
    assert tracker.observe([vehicle(stream(rate_hz=60.0, rate_ratio=0.6, latency_p99_ms=20.0))], T0) == []
    new = tracker.observe([vehicle(stream(rate_hz=40.0, rate_ratio=0.4, latency_p99_ms=30.0))], T0 + SECOND)
    assert [a.message for a in new] == [
        "rate 40 Hz is 40% of 100 Hz (alert below 50%)",
        "p99 latency 30 ms over 25 ms",
    ]


def test_a_value_exactly_at_a_threshold_is_not_an_alert(tracker: AlertTracker) -> None:
    assert tracker.observe([vehicle(stream(rate_hz=90.0, rate_ratio=0.9, latency_p99_ms=10.0))], T0) == []


def test_unknown_rates_and_latencies_raise_nothing(tracker: AlertTracker) -> None:
    unknown = stream(expected_hz=NAN, rate_ratio=NAN, latency_p99_ms=NAN)
    assert tracker.observe([vehicle(unknown)], T0) == []


def test_a_stale_stream_of_known_rate_is_a_rate_alert(tracker: AlertTracker) -> None:
    stale = stream(stale=True)  # the window's rate can still look fine just after it stopped
    new = tracker.observe([vehicle(stale, stream("/imu"))], T0)
    assert brief(new) == [(WARNING, "eu-west/rover-01", "/odom", "rate 100 Hz is 100% of 100 Hz (alert below 90%)")]


def test_a_stale_stream_of_unknown_rate_raises_an_alert(tracker: AlertTracker) -> None:
    stale = stream(expected_hz=NAN, rate_ratio=NAN, stale=True)
    new = tracker.observe([vehicle(stale, stream("/imu"))], T0)
    assert [(a.level, a.topic) for a in new] == [(WARNING, "/odom")]


# --- vehicle status ---------------------------------------------------------------------------------


def test_a_vehicle_first_seen_online_raises_nothing(tracker: AlertTracker) -> None:
    assert tracker.observe([vehicle()], T0) == []


def test_offline_stale_and_back_online_each_raise_one_alert(tracker: AlertTracker) -> None:
    tracker.observe([vehicle()], T0)
    offline = tracker.observe([vehicle(status=OFFLINE)], T0 + SECOND)
    still = tracker.observe([vehicle(status=OFFLINE)], T0 + 2 * SECOND)
    back = tracker.observe([vehicle()], T0 + 13 * SECOND + SECOND // 2)
    stale = tracker.observe([vehicle(status=STALE)], T0 + 20 * SECOND)
    back_again = tracker.observe([vehicle()], T0 + 23 * SECOND)

    assert brief(offline) == [(ERROR, "eu-west/rover-01", "", "offline: liveliness token gone")]
    assert still == []
    assert brief(back) == [(INFO, "eu-west/rover-01", "", "back online after 12.5 s offline")]
    assert brief(stale) == [(WARNING, "eu-west/rover-01", "", "stale: token present, no data arriving")]
    assert brief(back_again) == [(INFO, "eu-west/rover-01", "", "back online after 3.0 s stale")]


def test_a_vehicle_first_seen_offline_raises_an_error(tracker: AlertTracker) -> None:
    assert brief(tracker.observe([vehicle(status=OFFLINE)], T0)) == [
        (ERROR, "eu-west/rover-01", "", "offline: liveliness token gone")
    ]


def test_stream_conditions_are_not_judged_while_the_vehicle_is_stale_or_offline(tracker: AlertTracker) -> None:
    assert brief(tracker.observe([vehicle(slow(), status=STALE)], T0)) == [
        (WARNING, "eu-west/rover-01", "", "stale: token present, no data arriving")
    ]
    assert brief(tracker.observe([vehicle(slow(), status=OFFLINE)], T0 + SECOND)) == [
        (ERROR, "eu-west/rover-01", "", "offline: liveliness token gone")
    ]


def test_a_vehicle_going_offline_is_one_alert_not_one_per_stream_and_no_recoveries(tracker: AlertTracker) -> None:
    tracker.observe([vehicle(slow("/odom"), slow("/imu"))], T0)

    offline = tracker.observe([vehicle(slow("/odom"), slow("/imu"), status=OFFLINE)], T0 + SECOND)
    back = tracker.observe([vehicle(slow("/odom"), stream("/imu"))], T0 + 2 * SECOND)

    assert brief(offline) == [(ERROR, "eu-west/rover-01", "", "offline: liveliness token gone")]
    # back online: the still-slow stream is raised afresh; the recovered one has nothing to clear
    assert [(a.level, a.topic, a.message.split(" after")[0]) for a in back] == [
        (INFO, "", "back online"),
        (WARNING, "/odom", "rate 80 Hz is 80% of 100 Hz (alert below 90%)"),
    ]


# --- the list -----------------------------------------------------------------------------------


def test_alerts_are_listed_newest_first(tracker: AlertTracker) -> None:
    tracker.observe([vehicle(slow())], T0)
    tracker.observe([vehicle(status=OFFLINE)], T0 + SECOND)
    tracker.observe([vehicle()], T0 + 2 * SECOND)

    assert [(a.at_ns, a.level) for a in tracker.alerts] == [
        (T0 + 2 * SECOND, INFO),
        (T0 + SECOND, ERROR),
        (T0, WARNING),
    ]


def test_only_the_newest_alerts_up_to_the_limit_are_kept() -> None:
    tracker = AlertTracker(AlertThresholds(), limit=3)
    for n in range(5):
        tracker.observe([vehicle(status=OFFLINE if n % 2 == 0 else ONLINE)], T0 + n * SECOND)

    assert [a.at_ns for a in tracker.alerts] == [T0 + 4 * SECOND, T0 + 3 * SECOND, T0 + 2 * SECOND]


# --- stream_ok ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "ok"),
    [
        ({}, True),
        ({"rate_ratio": 0.9}, True),
        ({"rate_ratio": 0.89}, False),
        ({"rate_ratio": NAN}, True),  # no expected rate: any rate will do
        ({"stale": True}, False),
        ({"rate_ratio": NAN, "stale": True}, False),
        ({"lost": 5, "latency_p99_ms": 50.0}, True),  # loss and latency alert, but do not make a stream "not OK"
    ],
)
def test_a_stream_is_ok_when_not_stale_and_at_the_minimum_rate_ratio(values: dict[str, Any], ok: bool) -> None:
    assert stream_ok(stream(**values), AlertThresholds(min_rate_ratio=0.9)) is ok


def test_a_stream_that_leaves_the_report_does_not_claim_to_have_recovered(tracker: AlertTracker) -> None:
    tracker.observe([vehicle(slow("/odom"), stream("/imu"))], 1)
    assert brief(tracker.observe([vehicle(stream("/imu"))], 2)) == []


def test_a_forgotten_vehicle_seen_again_offline_is_a_new_alert(tracker: AlertTracker) -> None:
    tracker.observe([vehicle(status=VehicleStatus.OFFLINE)], 1)
    tracker.forget("eu-west/rover-01")
    assert [a.message for a in tracker.observe([vehicle(status=VehicleStatus.OFFLINE)], 2)] == [
        "offline: liveliness token gone"
    ]
