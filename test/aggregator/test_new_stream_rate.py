"""A stream the engine has just met is rated over the time since its first sample, not since
the tick that first ingested it: otherwise a restarted aggregator (or a new vehicle) reported
twice the real rate at its second tick and 10 % too much until its window filled (found by
test/reliability/test_aggregator_loss.py)."""

from __future__ import annotations

import pytest
from support.engine_input import SECOND, T0, arrivals
from support.engine_run import EU, ROVER, TICK, Run

from telemetry.codec import TypeStore


def test_a_new_kilohertz_stream_is_rated_one_kilohertz_from_its_first_tick(store: TypeStore) -> None:
    run = Run(store, expected_hz={(EU, ROVER, "/imu"): 1000.0})
    run.token(EU, ROVER, True, T0)
    run.ticks({(EU, ROVER, "/imu"): arrivals(1000, 3)}, T0, T0 + 3 * SECOND)

    rates = [run.stream(snapshot, EU, ROVER, "/imu").rate_hz for snapshot in run.snapshots]
    assert len(rates) == 3 * SECOND // TICK
    assert rates == pytest.approx([1000.0] * len(rates), rel=0.005)
