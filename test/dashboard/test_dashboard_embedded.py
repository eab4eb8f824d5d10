"""`dashboard --embedded`: an aggregator in the dashboard's process only when none answers.

Real router, real synthetic vehicles publishing 1 kHz-style data (support.synthetic), the app
built from command-line flags exactly as the `dashboard` entry point builds it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from support.aggregator_side import start_aggregator
from support.dashboard_side import wait_for
from support.processes import free_port
from support.synthetic import start_synthetic_vehicle
from support.zenoh_net import start_router
from textual.widgets import DataTable, Static

from telemetry.dashboard.cli import build_parser, options_from_cli
from telemetry.dashboard.run import build_app


def _cells(table: DataTable[str], column: str) -> list[str]:
    return [str(table.get_cell(row.key, column)) for row in table.ordered_rows]


def _rate(table: DataTable[str]) -> float:
    cells = _cells(table, "rate")
    return float(cells[0]) if cells and cells[0] != "—" else 0.0


def test_embedded_mode_aggregates_the_fleet_when_no_aggregator_runs(processes: Any, store: Any) -> None:
    router = start_router(processes, free_port())
    start_synthetic_vehicle(processes, router.endpoint, "eu-west", "rover-01", "imu:400", "odom:50")
    app = build_app(options_from_cli(build_parser().parse_args(["--router", router.endpoint, "--embedded"]), store),
                    store)

    async def script() -> None:
        async with app.run_test(size=(160, 40)) as pilot:
            table = app.fleet_screen.query_one("#fleet", DataTable)
            # Until the vehicle's catalogue answers, expected rates come from the fleet config
            # (1000 / 100 Hz), so the streams count as OK only once it has: wait for both.
            assert await wait_for(pilot, lambda: 440 <= _rate(table) <= 460 and _cells(table, "streams") == ["2 / 2"],
                                  timeout_s=20), (_cells(table, "rate"), _cells(table, "streams"))
            assert _cells(table, "vehicle") == ["rover-01"]
            connection = str(app.fleet_screen.query_one("#connection", Static).render())
            assert "aggregator embedded" in connection

    asyncio.run(script())


def test_embedded_mode_leaves_a_running_aggregator_alone(processes: Any, store: Any) -> None:
    router = start_router(processes, free_port())
    aggregator = start_aggregator(processes, router.endpoint)
    start_synthetic_vehicle(processes, router.endpoint, "us-east", "rover-03", "imu:200")
    app = build_app(options_from_cli(build_parser().parse_args(["--router", router.endpoint, "--embedded"]), store),
                    store)

    async def script() -> None:
        async with app.run_test(size=(160, 40)) as pilot:
            table = app.fleet_screen.query_one("#fleet", DataTable)
            assert await wait_for(pilot, lambda: 190 <= _rate(table) <= 210, timeout_s=20), _cells(table, "rate")
            line = app.fleet_screen.query_one("#connection", Static)
            assert await wait_for(pilot, lambda: f"aggregator {aggregator.zid[:8]}" in str(line.render())), \
                str(line.render())
            assert "embedded" not in str(line.render())

    asyncio.run(script())
