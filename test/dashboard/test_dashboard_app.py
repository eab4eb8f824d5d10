"""The dashboard app driven by Textual's pilot, fed by real stats on a real Zenoh router.

A test plays the aggregator (support.dashboard_side.StatsTicker publishes msg/VehicleStats
every 0.2 s) and the vehicles' bridges (liveliness tokens); the app runs its real
ZenohFleetSource against a router child process, refreshing every 0.1 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import zenoh
from support.dashboard_side import StatsTicker, StreamValues, VehicleValues, wait_for
from support.processes import free_port
from support.zenoh_net import endpoint, start_router
from textual.widgets import DataTable, Static

from telemetry.dashboard.app import DashboardApp, DashboardSettings
from telemetry.dashboard.source import ZenohFleetSource
from telemetry.dashboard.state import FleetState
from telemetry.keys import KeySpace
from telemetry.net import SessionOptions

KEYS = KeySpace()


def _fleet() -> list[VehicleValues]:
    return [
        VehicleValues("eu-west", "rover-01", [StreamValues("/imu", 1000.0, p99_ms=1.2),
                                              StreamValues("/odom", 100.0, 100.0, p99_ms=0.8)]),
        VehicleValues("eu-west", "rover-02", [StreamValues("/imu", 1000.0, p99_ms=7.5),
                                              StreamValues("/gnss", 10.0, 10.0, p99_ms=2.0),
                                              StreamValues("/battery", 1.0, 1.0, p99_ms=3.0)]),
        VehicleValues("us-east", "rover-03", [StreamValues("/imu", 850.0, p99_ms=0.4)]),
    ]


def _app(router_endpoint: str, store: Any) -> DashboardApp:
    options = SessionOptions(mode="client", connect=(router_endpoint,))
    source = ZenohFleetSource(options, KEYS, store, FleetState())
    return DashboardApp(source, DashboardSettings(refresh_s=0.1))


def _run(app: DashboardApp, script: Callable[[Any], Awaitable[None]]) -> None:
    async def main() -> None:
        async with app.run_test(size=(180, 50)) as pilot:
            await script(pilot)

    asyncio.run(main())


def _table(app: DashboardApp, selector: str = "#fleet") -> DataTable[str]:
    return app.screen.query_one(selector, DataTable)


def _column(table: DataTable[str], column: str) -> list[str]:
    return [str(table.get_cell(row.key, column)) for row in table.ordered_rows]


def _text(app: DashboardApp, selector: str) -> str:
    return str(app.fleet_screen.query_one(selector, Static).render())


@pytest.fixture
def fleet(processes: Any, zenoh_clients: Any, store: Any) -> Any:
    """A router, three vehicles' tokens, and their stats published every 0.2 s."""
    router = start_router(processes, free_port())
    session = zenoh_clients.open(router.endpoint)
    vehicles = _fleet()
    tokens = {v.vehicle: session.liveliness().declare_token(KEYS.alive(v.region, v.vehicle)) for v in vehicles}
    with StatsTicker(session, store, vehicles) as ticker:
        yield router, ticker, tokens
    for token in tokens.values():
        try:
            token.undeclare()
        except zenoh.ZError:
            pass  # undeclared by the test already


def test_dashboard_shows_one_row_per_vehicle_with_its_published_values(fleet: Any, store: Any) -> None:
    router, _, _ = fleet
    app = _app(router.endpoint, store)

    async def script(pilot: Any) -> None:
        table = _table(app)
        assert await wait_for(pilot, lambda: table.row_count == 3), "rows did not appear"
        assert await wait_for(pilot, lambda: "0.400" in _column(table, "p99"))
        assert _column(table, "vehicle") == ["rover-01", "rover-02", "rover-03"]
        assert _column(table, "region") == ["eu-west", "eu-west", "us-east"]
        assert _column(table, "streams") == ["2 / 2", "3 / 3", "[red]0 / 1[/]"]  # 850 of 1000 Hz: not ok
        assert _column(table, "rate") == ["1100.0", "1011.0", "850.0"]
        assert _column(table, "p99") == ["1.20", "7.50", "0.400"]
        assert "vehicles 3 online · 0 stale · 0 offline" in _text(app, "#totals")
        assert "streams 5/6 ok" in _text(app, "#totals")
        connection = _text(app, "#connection")
        assert f"router {router.endpoint} (connected)" in connection and "stats" in connection

    _run(app, script)


def test_sorting_and_filtering_change_the_rows_and_keep_the_selected_vehicle(fleet: Any, store: Any) -> None:
    router, _, _ = fleet
    app = _app(router.endpoint, store)

    async def script(pilot: Any) -> None:
        table = _table(app)
        assert await wait_for(pilot, lambda: table.row_count == 3)
        await pilot.press("down")  # select rover-02
        assert app.fleet_screen.selected_vehicle() == "eu-west/rover-02"
        for _ in range(7):  # status, vehicle, region, streams, rate, worst rate, worst p99
            await pilot.press("s")
        assert "sorted by Worst p99 ms ▲" in _text(app, "#table-state")
        await pilot.pause(0.3)
        assert _column(table, "vehicle") == ["rover-03", "rover-01", "rover-02"]
        assert app.fleet_screen.selected_vehicle() == "eu-west/rover-02", "selection moved with the sort"
        await pilot.press("S")
        assert _column(table, "vehicle") == ["rover-02", "rover-01", "rover-03"]
        assert app.fleet_screen.selected_vehicle() == "eu-west/rover-02"

        await pilot.press("slash", "0", "3")
        assert await wait_for(pilot, lambda: _column(table, "vehicle") == ["rover-03"])
        assert "filter: '03'" in _text(app, "#table-state")
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: table.row_count == 3)

        await pilot.press("r")  # first region
        assert await wait_for(pilot, lambda: _column(table, "region") == ["eu-west", "eu-west"])
        await pilot.press("r")
        assert await wait_for(pilot, lambda: _column(table, "vehicle") == ["rover-03"])
        await pilot.press("r")  # back to all
        assert await wait_for(pilot, lambda: table.row_count == 3)

    _run(app, script)


def test_enter_opens_the_vehicle_with_one_row_per_stream_and_escape_goes_back(fleet: Any, store: Any) -> None:
    router, _, _ = fleet
    app = _app(router.endpoint, store)

    async def script(pilot: Any) -> None:
        table = _table(app)
        assert await wait_for(pilot, lambda: table.row_count == 3)
        await pilot.press("down", "enter")
        assert await wait_for(pilot, lambda: type(app.screen).__name__ == "VehicleScreen")
        streams = _table(app, "#streams")
        assert await wait_for(pilot, lambda: streams.row_count == 3)
        assert _column(streams, "topic") == ["/battery", "/gnss", "/imu"]
        assert _column(streams, "rate") == ["1.0 / 1.0", "10.0 / 10.0", "1000.0 / 1000.0"]
        assert _column(streams, "p99")[2] == "7.50"
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: app.screen is app.fleet_screen)

    _run(app, script)


def test_a_vehicle_whose_token_goes_away_turns_offline_and_raises_an_alert(fleet: Any, store: Any) -> None:
    router, _, tokens = fleet
    app = _app(router.endpoint, store)

    async def script(pilot: Any) -> None:
        table = _table(app)
        assert await wait_for(pilot, lambda: table.row_count == 3)
        assert _column(table, "status")[2] == "[green]● online[/]"
        tokens["rover-03"].undeclare()  # the stats still say online: liveliness wins
        assert await wait_for(pilot, lambda: _column(table, "status")[2] == "[red]○ offline[/]"), \
            _column(table, "status")
        alerts = _table(app, "#alerts")
        assert await wait_for(pilot, lambda: "us-east/rover-03" in _column(alerts, "vehicle"))
        assert _column(alerts, "message")[0] == "offline: liveliness token gone"
        assert "1 offline" in _text(app, "#totals")

    _run(app, script)


def test_p_freezes_the_numbers_until_pressed_again(fleet: Any, store: Any) -> None:
    router, ticker, _ = fleet
    app = _app(router.endpoint, store)

    async def script(pilot: Any) -> None:
        table = _table(app)
        assert await wait_for(pilot, lambda: _column(table, "rate") == ["1100.0", "1011.0", "850.0"])
        await pilot.press("p")
        assert "PAUSED" in _text(app, "#table-state")
        ticker.update("us-east", "rover-03", lambda v: v.streams.__setitem__(0, StreamValues("/imu", 990.0)))

        def latest_rate() -> float:
            latest = app.latest.vehicle("us-east/rover-03") if app.latest else None
            return latest.rate_hz if latest else 0.0

        assert await wait_for(pilot, lambda: latest_rate() == 990.0), "the new value never arrived"
        await pilot.pause(0.3)  # a few refreshes with the new value pulled but not shown
        assert _column(table, "rate")[2] == "850.0"
        await pilot.press("p")
        assert await wait_for(pilot, lambda: _column(table, "rate")[2] == "990.0")
        assert "PAUSED" not in _text(app, "#table-state")

    _run(app, script)


def test_the_screen_says_when_no_router_or_aggregator_answers_and_recovers(processes: Any, store: Any) -> None:
    port = free_port()
    app = _app(endpoint(port), store)

    async def script(pilot: Any) -> None:
        assert await wait_for(pilot, lambda: "connecting to" in _text(app, "#connection"))
        assert "no router answers yet" in _text(app, "#connection")
        router = start_router(processes, port)
        assert await wait_for(pilot, lambda: "no aggregator" in _text(app, "#connection"), timeout_s=15), \
            _text(app, "#connection")
        router.process.stop()
        assert await wait_for(pilot, lambda: "router lost" in _text(app, "#connection"), timeout_s=15), \
            _text(app, "#connection")
        start_router(processes, port, name="router:again")
        assert await wait_for(pilot, lambda: "(connected)" in _text(app, "#connection"), timeout_s=15), \
            _text(app, "#connection")

    _run(app, script)


def test_bad_stats_on_the_wire_are_counted_in_the_header_and_the_rest_still_shows(
    fleet: Any, store: Any, zenoh_clients: Any
) -> None:
    router, _, _ = fleet
    rogue = zenoh_clients.open(router.endpoint)
    app = _app(router.endpoint, store)

    async def script(pilot: Any) -> None:
        table = _table(app)
        assert await wait_for(pilot, lambda: table.row_count == 3)
        stats_schema = zenoh.Encoding.APPLICATION_CDR.with_schema("telemetry/msg/VehicleStats")
        for _ in range(3):
            rogue.put(KEYS.stats("eu-west", "rover-09"), b"\x00\x01\x00\x00garbage", encoding=stats_schema)
            rogue.put(KEYS.stats("eu-west", "rover-08"), b"not even cdr", encoding=stats_schema)
            rogue.put(KEYS.fleet(), b"\x00\x01\x00\x00", encoding=zenoh.Encoding.TEXT_PLAIN)
            await pilot.pause(0.15)
        assert await wait_for(pilot, lambda: "bad messages ignored" in _text(app, "#connection")), \
            _text(app, "#connection")
        assert _column(table, "vehicle") == ["rover-01", "rover-02", "rover-03"]

    _run(app, script)
