"""The Textual app: pulls a `FleetView` from its source on a timer and hands it to the screen.

The pull runs in a thread worker (decoding a few hundred stats messages must not stall
keystrokes) and re-arms itself only when its result has been applied, so pulls never
overlap. Paused, the app keeps pulling (alerts keep being judged) but shows nothing new.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass

from textual.app import App
from textual.binding import Binding

from telemetry.dashboard.screens import FleetScreen, HelpScreen, VehicleScreen
from telemetry.dashboard.source import FleetSource
from telemetry.dashboard.view import FleetView

__all__ = ["DashboardApp", "DashboardSettings"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DashboardSettings:
    refresh_s: float = 0.5  # the aggregator publishes every 0.5 s: faster would show nothing new
    live: bool = True  # False: no timer; tests and snapshots call `refresh_now()` themselves


class DashboardApp(App[None]):
    TITLE = "Fleet telemetry"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        # Ctrl-C quits, as in every other fleet tool (Textual's default only says how to quit).
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("p", "pause", "Pause"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(self, source: FleetSource, settings: DashboardSettings = DashboardSettings()) -> None:
        super().__init__()
        self.source = source
        self.settings = settings
        self.paused = False
        self.shown: FleetView | None = None  # what the screens display
        self.latest: FleetView | None = None  # the newest pull, shown or not
        self.fleet_screen = FleetScreen()

    def on_mount(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # a supervisor stops us cleanly
            loop.add_signal_handler(signum, self.exit)
        self.push_screen(self.fleet_screen)
        self.source.start()
        if self.settings.live:
            self._pull()

    def on_unmount(self) -> None:
        self.source.close()

    def refresh_now(self) -> FleetView:
        """Pull and show at once, on the calling thread (for tests and snapshots)."""
        view = self.source.collect()
        self._received(view, rearm=False)
        return view

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.fleet_screen.set_paused(self.paused)
        if not self.paused and self.latest is not None:
            self._show(self.latest)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
        else:
            self.push_screen(HelpScreen())

    def _pull(self) -> None:
        self.run_worker(self._collect, thread=True, exclusive=True, group="pull", exit_on_error=False)

    def _collect(self) -> None:
        try:
            view: FleetView | None = self.source.collect()
        except Exception:  # noqa: BLE001 - the worker's boundary: log it, keep the screen up
            _log.exception("collecting fleet stats failed")
            view = None
        try:
            self.call_from_thread(self._received, view)
        except RuntimeError:  # the app is shutting down
            pass

    def _received(self, view: FleetView | None, rearm: bool = True) -> None:
        if view is not None:
            self.latest = view
            if not self.paused:
                self._show(view)
        if rearm and self.settings.live:
            self.set_timer(self.settings.refresh_s, self._pull)

    def _show(self, view: FleetView) -> None:
        self.shown = view
        screen = self.screen
        if isinstance(screen, VehicleScreen):
            screen.show(view)
        self.fleet_screen.show(view)
