"""NTP-style clock offset: the round trip with the smallest round-trip time wins."""

from __future__ import annotations

import math

import pytest

from telemetry.fleet.clock import ClockEstimate, ClockSample, ClockTracker, estimate_offset

MS = 1_000_000
SECOND = 1_000_000_000
T0 = 1_700_000_000 * SECOND


def round_trip(send_ns: int, out_ns: int, back_ns: int, vehicle_ahead_ns: int) -> ClockSample:
    """A query sent at `send_ns` that takes `out_ns` there and `back_ns` back, to a vehicle whose
    clock is `vehicle_ahead_ns` ahead of the aggregator's."""
    return ClockSample(send_ns, send_ns + out_ns + vehicle_ahead_ns, send_ns + out_ns + back_ns)


def test_a_symmetric_round_trip_gives_the_exact_offset() -> None:
    sample = round_trip(T0, 400_000, 400_000, 250 * MS)
    assert sample.round_trip_ns == 800_000
    assert sample.offset_ns == 250 * MS


def test_a_vehicle_250_ms_ahead_is_found_within_1_ms_despite_asymmetric_round_trips() -> None:
    legs_ms = [(20.0, 1.0), (0.3, 9.0), (0.35, 0.5), (4.0, 4.5), (12.0, 0.2), (0.9, 2.5)]
    samples = [
        round_trip(T0 + index * 50 * MS, round(out * MS), round(back * MS), 250 * MS)
        for index, (out, back) in enumerate(legs_ms)
    ]
    estimate = estimate_offset(samples)
    assert estimate is not None
    assert estimate.offset_ms == pytest.approx(250.0, abs=1.0)
    assert estimate.round_trip_ns == round(0.85 * MS)  # the 0.35 + 0.5 ms round trip
    assert estimate.uncertainty_ns == round(0.425 * MS)
    assert abs(estimate.offset_ns - 250 * MS) <= estimate.uncertainty_ns
    assert estimate.samples == 6


def test_a_vehicle_behind_the_aggregator_has_a_negative_offset() -> None:
    estimate = estimate_offset([round_trip(T0, MS, MS, -3 * SECOND)])
    assert estimate == ClockEstimate(offset_ns=-3 * SECOND, uncertainty_ns=MS, round_trip_ns=2 * MS, samples=1)


def test_negative_round_trips_are_ignored() -> None:
    stepped_back = ClockSample(T0, T0 + 250 * MS, T0 - 5 * MS)
    estimate = estimate_offset([stepped_back, round_trip(T0, MS, MS, 250 * MS)])
    assert estimate is not None and estimate.offset_ns == 250 * MS and estimate.samples == 1
    assert estimate_offset([stepped_back]) is None
    assert estimate_offset([]) is None


def test_the_tracker_is_due_at_once_then_every_refresh_period() -> None:
    tracker = ClockTracker(refresh_ns=10 * SECOND)
    assert tracker.due(T0)
    assert math.isnan(tracker.offset_ms) and math.isnan(tracker.uncertainty_ms)
    tracker.record([round_trip(T0, MS, MS, 250 * MS)], T0)
    assert not tracker.due(T0 + 10 * SECOND - 1)
    assert tracker.due(T0 + 10 * SECOND)
    assert tracker.offset_ms == 250.0 and tracker.uncertainty_ms == 1.0
    assert tracker.estimated_at_ns == T0


def test_a_failed_measurement_keeps_the_previous_estimate_and_waits_a_period() -> None:
    tracker = ClockTracker(refresh_ns=10 * SECOND)
    tracker.record([round_trip(T0, MS, MS, 250 * MS)], T0)
    assert tracker.record([], T0 + 10 * SECOND) is None
    assert tracker.offset_ms == 250.0 and tracker.estimated_at_ns == T0
    assert not tracker.due(T0 + 15 * SECOND)
    tracker.forget()
    assert tracker.due(T0 + 15 * SECOND) and tracker.estimate is None


def test_a_tracker_needs_a_positive_refresh_period() -> None:
    with pytest.raises(ValueError, match="refresh_ns must be > 0, got 0"):
        ClockTracker(refresh_ns=0)
