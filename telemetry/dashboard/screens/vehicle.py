"""One vehicle's streams: rate against expected, latency percentiles, loss, and their trends."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from telemetry.dashboard import cells
from telemetry.dashboard.columns import STREAM_COLUMNS
from telemetry.dashboard.tables import TableRows
from telemetry.dashboard.view import FleetView, VehicleView

__all__ = ["VehicleScreen"]


class VehicleScreen(Screen[None]):
    CSS_PATH = "vehicle.tcss"
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, vehicle_key: str) -> None:
        super().__init__()
        self.vehicle_key = vehicle_key
        self._rows: TableRows | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="vehicle-title")
        yield Static(id="vehicle-info")
        yield DataTable(id="streams", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#streams", DataTable)
        self._rows = TableRows(table, [(c.key, c.label) for c in STREAM_COLUMNS], identity=("topic",))
        table.focus()
        shown = getattr(self.app, "shown", None)
        if isinstance(shown, FleetView):
            self.show(shown)

    def show(self, view: FleetView) -> None:
        vehicle = view.vehicle(self.vehicle_key)
        title = self.query_one("#vehicle-title", Static)
        if vehicle is None:
            title.update(f"{self.vehicle_key}: no longer reported (Escape goes back)")
            title.add_class("-problem")
            return
        title.remove_class("-problem")
        title.update(f"{vehicle.vehicle} · region {vehicle.region} · {cells.status(vehicle.status)} "
                     f"since {cells.alert_time(vehicle.status_since_ns)}")
        self.query_one("#vehicle-info", Static).update(_info(vehicle))
        if self._rows is not None:
            self._rows.sync([(s.topic, {c.key: c.cell(s) for c in STREAM_COLUMNS}) for s in vehicle.streams])


def _info(vehicle: VehicleView) -> str:
    age = "—" if vehicle.stats_age_s != vehicle.stats_age_s else f"{vehicle.stats_age_s:.1f} s ago"
    return (
        f"streams {vehicle.streams_ok}/{len(vehicle.streams)} ok · {cells.hz(vehicle.rate_hz)} samples/s · "
        f"{cells.bytes_rate(vehicle.bytes_per_s)} · clock offset {cells.signed_ms(vehicle.clock_offset_ms)} ms · "
        f"{vehicle.malformed} bad inputs · bridge CPU {cells.percent(100 * vehicle.bridge_cpu_share, 0)}, "
        f"busiest wake-up {vehicle.bridge_largest_take} samples · stats {age}"
    )
