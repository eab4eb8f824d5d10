"""A 100-vehicle x 10-stream fleet: decoding, the model and one screen update stay fast.

Not a benchmark: the bound only catches an order-of-magnitude regression (a quadratic
model, a decode per cell); the measured figures are recorded as junit properties. On this
project's slower hosts one pass measured 150-240 ms (decode 57-90, model and table 55-185)
against the 50 ms aim, so the aim is not what this test judges.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from support.dashboard_side import FixedSource, StreamValues, fleet_of, stats_payload
from textual.widgets import DataTable

from telemetry.dashboard.app import DashboardApp, DashboardSettings
from telemetry.dashboard.reports import decode_vehicle_stats
from telemetry.keys import KeySpace

_NS = 1_000_000_000
START_NS = 1_767_268_800 * _NS
#: The aim per update pass; asserted with a 10x margin: hosts differ ~2x per wake-up and CI
#: runs this beside other tests on 2 cores.
BUDGET_S = 0.050


def test_one_update_pass_of_a_100_by_10_fleet_takes_under_half_a_second(store: Any, record_property: Any) -> None:
    fleet = fleet_of(100, 10)
    keys = KeySpace()
    payloads = [(keys.stats(v.region, v.vehicle), stats_payload(store, v, START_NS)) for v in fleet]
    source = FixedSource(store, START_NS)
    source.feed(fleet, START_NS)
    app = DashboardApp(source, DashboardSettings(live=False))
    timings: dict[str, float] = {}

    async def script() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            app.refresh_now()  # first fill: adds 100 rows
            await pilot.pause()
            for vehicle in fleet:  # every vehicle's numbers change, as they do each tick
                vehicle.streams[0] = StreamValues("/sensor_00", 50.0, 100.0, p99_ms=12.0, lost=3)
            source.now_ns = START_NS + _NS
            start = time.perf_counter()
            for key, payload in payloads:
                decode_vehicle_stats(store, key, payload)
            timings["decode_s"] = time.perf_counter() - start
            source.feed(fleet, source.now_ns)
            start = time.perf_counter()
            view = app.refresh_now()
            timings["model_and_table_s"] = time.perf_counter() - start
            start = time.perf_counter()
            await pilot.pause()
            timings["render_s"] = time.perf_counter() - start
            table = app.fleet_screen.query_one("#fleet", DataTable)
            assert table.row_count == 100
            assert len(view.vehicles) == 100 and view.totals.streams == 1000
            assert str(table.get_cell("eu-west/rover-001", "loss")).startswith("[red]")

    asyncio.run(script())
    for name, seconds in timings.items():
        record_property(name, f"{seconds * 1000:.1f} ms")
    update_s = timings["decode_s"] + timings["model_and_table_s"]
    print(f"100 x 10 fleet: decode {timings['decode_s'] * 1e3:.1f} ms, model+table "
          f"{timings['model_and_table_s'] * 1e3:.1f} ms, render {timings['render_s'] * 1e3:.1f} ms")
    assert update_s < 10 * BUDGET_S, timings
