"""The main screen: connection and totals, one row per vehicle, and the alerts below."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from telemetry.dashboard import cells
from telemetry.dashboard.columns import FLEET_COLUMNS, matches, ordered
from telemetry.dashboard.header import connection_line, recorder_part, totals_line
from telemetry.dashboard.screens.vehicle import VehicleScreen
from telemetry.dashboard.tables import TableRows
from telemetry.dashboard.view import Alert, FleetView, VehicleView

__all__ = ["FleetScreen"]

_ALERT_COLUMNS = (("time", "Time"), ("level", "Level"), ("vehicle", "Vehicle"), ("topic", "Stream"),
                  ("message", "What"))
_LEVEL_MARKUP = {"error": "[red]error[/]", "warning": "[yellow]warning[/]", "info": "[green]info[/]"}
#: The alert pane shows the newest this many; the tracker keeps more.
SHOWN_ALERTS = 200


class FleetScreen(Screen[None]):
    CSS_PATH = "fleet.tcss"
    BINDINGS = [
        Binding("enter", "open", "Open"),  # the table's own Enter does it; this shows it in the footer
        Binding("s", "sort_next", "Sort"),
        Binding("S", "sort_reverse", "Reverse", show=False),
        Binding("slash", "filter", "Filter"),
        Binding("r", "region", "Region"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sort_index: int | None = None  # None: by region, then vehicle
        self.descending = False
        self.filter_text = ""
        self.region_filter: str | None = None
        self.paused = False
        self._view: FleetView | None = None
        self._rows: TableRows | None = None
        self._alerts: TableRows | None = None
        self._shown_alerts: tuple[Alert, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static(id="connection")
        yield Static(id="totals")
        yield Static(id="table-state")
        yield Input(placeholder="filter: part of a region/vehicle name, or online / stale / offline", id="filter")
        yield DataTable(id="fleet", cursor_type="row", zebra_stripes=True)
        yield Static("Alerts (newest first)", id="alerts-title")
        yield DataTable(id="alerts", cursor_type="row", show_cursor=False)
        yield Footer()

    def on_mount(self) -> None:
        fleet = self.query_one("#fleet", DataTable)
        self._rows = TableRows(fleet, [(c.key, c.label) for c in FLEET_COLUMNS], identity=("vehicle", "region"))
        self._alerts = TableRows(self.query_one("#alerts", DataTable), _ALERT_COLUMNS, identity=())
        self.query_one("#filter", Input).display = False
        fleet.focus()
        self._show_table_state()

    def show(self, view: FleetView) -> None:
        """Render `view`: header lines, the (filtered, sorted) vehicle rows, new alerts."""
        self._view = view
        connection = connection_line(view.connection)
        recording = recorder_part(view.recorders)
        line = self.query_one("#connection", Static)
        line.update(f"{connection.text} · {recording.text}" if recording.text else connection.text)
        line.set_class(connection.problem or recording.problem, "-problem")
        self.query_one("#totals", Static).update(totals_line(view.totals))
        self._sync_rows()
        self._sync_alerts(view.alerts)

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.query_one("#table-state", Static).set_class(paused, "-paused")
        self._show_table_state()

    def selected_vehicle(self) -> str | None:
        return self._rows.selected_key() if self._rows else None

    # --- keys ------------------------------------------------------------------------------

    def action_sort_next(self) -> None:
        self.sort_index = 0 if self.sort_index is None else (self.sort_index + 1) % len(FLEET_COLUMNS)
        self.descending = False
        self._resort()

    def action_sort_reverse(self) -> None:
        if self.sort_index is None:
            self.sort_index = 0
        self.descending = not self.descending
        self._resort()

    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.display = True
        field.focus()

    def action_clear_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.value = ""
        field.display = False
        self.query_one("#fleet", DataTable).focus()

    def action_region(self) -> None:
        regions = list(self._view.regions) if self._view else []
        cycle: list[str | None] = [None, *regions]
        position = cycle.index(self.region_filter) if self.region_filter in cycle else 0
        self.region_filter = cycle[(position + 1) % len(cycle)]
        self._resort()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self._resort()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one("#fleet", DataTable).focus()

    @on(DataTable.HeaderSelected, "#fleet")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        index = event.column_index
        self.descending = not self.descending if index == self.sort_index else False
        self.sort_index = index
        self._resort()

    @on(DataTable.RowSelected, "#fleet")
    def _open_vehicle(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self._open(event.row_key.value)

    def action_open(self) -> None:
        selected = self.selected_vehicle()
        if selected is not None:
            self._open(selected)

    def _open(self, vehicle_key: str) -> None:
        self.app.push_screen(VehicleScreen(vehicle_key))

    # --- rendering -------------------------------------------------------------------------

    def _resort(self) -> None:
        self._show_table_state()
        self._sync_rows()

    def _visible(self, vehicles: tuple[VehicleView, ...]) -> list[VehicleView]:
        shown = [v for v in vehicles if matches(v, self.filter_text, self.region_filter)]
        if self.sort_index is None:
            return shown
        return ordered(shown, FLEET_COLUMNS[self.sort_index], self.descending, tie=lambda v: v.key)

    def _sync_rows(self) -> None:
        if self._view is None or self._rows is None:
            return
        rows = [(v.key, {c.key: c.cell(v) for c in FLEET_COLUMNS}) for v in self._visible(self._view.vehicles)]
        self._rows.sync(rows)
        self._show_table_state(len(rows), len(self._view.vehicles))

    def _show_table_state(self, shown: int | None = None, total: int | None = None) -> None:
        sort = "region, vehicle" if self.sort_index is None else FLEET_COLUMNS[self.sort_index].label
        arrow = " ▼" if self.descending else " ▲"
        parts = ["PAUSED: numbers frozen, p resumes"] if self.paused else []
        parts += [f"sorted by {sort}{arrow}", f"region: {self.region_filter or 'all'}"]
        if self.filter_text:
            parts.append(f"filter: {self.filter_text!r}")
        if total == 0:
            parts.append("no vehicles yet: waiting for stats or liveliness tokens")
        elif shown is not None and total is not None and shown != total:
            parts.append(f"showing {shown} of {total}")
        self.query_one("#table-state", Static).update(" · ".join(parts))

    def _sync_alerts(self, alerts: tuple[Alert, ...]) -> None:
        if self._alerts is None or alerts[:SHOWN_ALERTS] == self._shown_alerts:
            return
        self._shown_alerts = alerts[:SHOWN_ALERTS]
        rows = [
            (
                f"{alert.at_ns}:{alert.vehicle}:{alert.topic}:{alert.message}",
                {
                    "time": cells.alert_time(alert.at_ns),
                    "level": _LEVEL_MARKUP[alert.level.value],
                    "vehicle": alert.vehicle,
                    "topic": alert.topic or "—",
                    "message": alert.message,
                },
            )
            for alert in self._shown_alerts
        ]
        self._alerts.sync(list(dict(rows).items()))  # two identical alerts in one instant: show one
