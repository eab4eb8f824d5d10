"""Snapshots of the fleet view and the vehicle detail, rendered from recorded, fixed input.

The input is deterministic: stats built by the test (support.dashboard_side), a fixed clock,
a fixed connection, the time zone pinned to UTC, no live timer. When a change to the
screens is intended, review the new SVGs and accept them with
`pytest test/dashboard/test_dashboard_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from support.dashboard_side import FixedSource, StreamValues, VehicleValues

from telemetry.dashboard.app import DashboardApp, DashboardSettings
from telemetry.fleet.status import VehicleStatus

_NS = 1_000_000_000
#: 2026-01-01 12:00:00 UTC
START_NS = 1_767_268_800 * _NS
SIZE = (160, 40)


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


def _recorded_fleet(store: Any) -> DashboardApp:
    """Three minutes of a four-vehicle fleet: one slows down, one loses samples, one goes offline."""
    source = FixedSource(store, START_NS)
    rover1 = VehicleValues("eu-west", "rover-01", [
        StreamValues("/imu", 1000.0, p99_ms=0.9), StreamValues("/odom", 100.0, 100.0, p99_ms=0.7, bytes_per_s=72_000),
        StreamValues("/gnss", 10.0, 10.0, p99_ms=0.6, bytes_per_s=1_100),
        StreamValues("/battery", 1.0, 1.0, p99_ms=2.4, bytes_per_s=180),
    ], clock_offset_ms=0.21)
    rover2 = VehicleValues("eu-west", "rover-02", [StreamValues("/imu", 1000.0, p99_ms=1.1)], clock_offset_ms=-0.4)
    rover3 = VehicleValues("us-east", "rover-03", [StreamValues("/imu", 999.6, p99_ms=0.8)], clock_offset_ms=250.0)
    rover4 = VehicleValues("us-east", "rover-04", [StreamValues("/imu", 1000.0, p99_ms=0.5)])
    fleet = [rover1, rover2, rover3, rover4]
    for step in range(90):
        now_ns = START_NS + step * 2 * _NS
        dip, spike = 30 <= step < 34, 50 <= step < 53  # seen in the detail view's trends
        rover1.streams[0] = StreamValues("/imu", 700.0 if dip else 1000.0 - (step % 5),
                                         p99_ms=6.0 if spike else 0.9 + (step % 7) / 10)
        if step == 40:
            rover2.streams[0] = StreamValues("/imu", 612.0, p99_ms=14.5)
        if step == 60:
            rover3.streams[0] = StreamValues("/imu", 990.0, p99_ms=0.8, lost=12)
        if step == 75:
            rover4.status = VehicleStatus.OFFLINE
            source.state.set_alive("us-east", "rover-04", False, now_ns)
        source.feed(fleet, now_ns)
        source.state.view(now_ns, source.connection)
    source.now_ns = START_NS + 89 * 2 * _NS + 400_000_000
    return DashboardApp(source, DashboardSettings(live=False))


def test_fleet_view_matches_its_snapshot(snap_compare: Any, store: Any) -> None:
    async def refresh(pilot: Any) -> None:
        pilot.app.refresh_now()
        await pilot.pause()

    assert snap_compare(_recorded_fleet(store), terminal_size=SIZE, run_before=refresh)


def test_vehicle_detail_matches_its_snapshot(snap_compare: Any, store: Any) -> None:
    async def open_rover1(pilot: Any) -> None:
        pilot.app.refresh_now()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(_recorded_fleet(store), terminal_size=SIZE, run_before=open_rover1)


def test_help_matches_its_snapshot(snap_compare: Any, store: Any) -> None:
    async def open_help(pilot: Any) -> None:
        pilot.app.refresh_now()
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(_recorded_fleet(store), terminal_size=SIZE, run_before=open_help)
