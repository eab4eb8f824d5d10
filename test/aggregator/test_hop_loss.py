"""Downsampling is the bridge's choice, never loss: the aggregator says which hop dropped what.

A real one-vehicle fleet (support.live_fleet: routers, aggregator, sensor_sim, bridge) whose
1 kHz Imu the bridge forwards at most at 50 Hz. The aggregator's stats must show the source's
1000 Hz, the 50 Hz that arrive, the ~950 samples a second the bridge dropped on purpose, and
no loss at any hop; the dashboard raises no loss alert for it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.fleet_files import stream
from support.fleet_watch import StatsSample, StatsTimeline
from support.live_fleet import REGION, VEHICLE, LiveFleet
from support.zenoh_net import ClientSessions

from telemetry.codec import TypeStore
from telemetry.config import AlertThresholds
from telemetry.dashboard.alerts import AlertTracker
from telemetry.dashboard.reports import decode_vehicle_stats
from telemetry.dashboard.view import VehicleView

STATS_KEY = f"telemetry/stats/{REGION}/{VEHICLE}"
WINDOW_S = 5.0


@dataclass(frozen=True)
class Downsampled:
    imu: Any  # the StreamStats of /imu over a full window
    payload: bytes  # the VehicleStats it came in


def _full_window(sample: StatsSample) -> bool:
    """A full window of /imu, from a bridge that has been reporting its counters for a while."""
    imu = sample.find("/imu")
    return imu is not None and imu.window_s >= WINDOW_S and not math.isnan(imu.source_rate_hz)


@pytest.fixture(scope="module")
def downsampled(tmp_path_factory: pytest.TempPathFactory, store: TypeStore) -> Iterator[Downsampled]:
    # A deep reader queue, so that a busy test machine's late wake-ups add no loss on DDS.
    imu = stream("/imu", "sensor_msgs/msg/Imu", 1000, max_rate_hz=50, queue_depth=200)
    fleet = LiveFleet(Path(tmp_path_factory.mktemp("downsampled")), streams=[imu])
    clients = ClientSessions()
    try:
        fleet.start()
        with StatsTimeline(clients.open(fleet.cloud_endpoint), STATS_KEY, store) as stats:
            full = stats.wait_for(_full_window, 40.0, what="a full window of /imu with the bridge's counters")
            yield Downsampled(full.stream("/imu"), stats.payloads(full.arrival_ns)[0])
    finally:
        clients.close_all()
        fleet.stop()


def test_the_aggregator_reports_the_sources_rate_and_what_arrives(downsampled: Downsampled) -> None:
    assert downsampled.imu.rate_hz == pytest.approx(50.0, rel=0.1)
    assert downsampled.imu.source_rate_hz == pytest.approx(1000.0, rel=0.05)


def test_downsampled_samples_are_counted_as_the_bridges_choice_and_nothing_as_loss(downsampled: Downsampled) -> None:
    imu = downsampled.imu
    # ~950 a second dropped on purpose over the window (health reports come once a second).
    assert imu.downsampled == pytest.approx(950 * WINDOW_S, rel=0.25), imu
    assert (imu.lost, imu.lost_dds, imu.dropped_bridge) == (0, 0, 0), imu


def test_the_dashboard_raises_no_loss_alert_for_a_downsampled_stream(
    downsampled: Downsampled, store: TypeStore
) -> None:
    report = decode_vehicle_stats(store, STATS_KEY, downsampled.payload)
    vehicle = VehicleView(report.region, report.vehicle, report.status, report.status_since_ns,
                          report.clock_offset_ms, report.malformed, report.streams)
    alerts = AlertTracker(AlertThresholds()).observe([vehicle], report.stamp_ns)
    # (A busy test machine may still raise a latency alert: that one is not about loss.)
    assert [a.message for a in alerts if "lost" in a.message or "dropped" in a.message] == []
