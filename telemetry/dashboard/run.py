"""Wire the dashboard's parts together from checked options, and run it in the terminal."""

from __future__ import annotations

from telemetry.codec import TypeStore
from telemetry.dashboard.app import DashboardApp, DashboardSettings
from telemetry.dashboard.embedded import EmbeddedAggregator
from telemetry.dashboard.options import DashboardOptions
from telemetry.dashboard.source import ZenohFleetSource
from telemetry.dashboard.state import FleetState, StateSettings
from telemetry.keys import KeySpace

__all__ = ["build_app", "run_dashboard"]


def build_app(options: DashboardOptions, store: TypeStore) -> DashboardApp:
    embedded = EmbeddedAggregator(options.embedded, store) if options.embedded is not None else None
    state = FleetState(StateSettings(thresholds=options.thresholds))
    source = ZenohFleetSource(options.session, KeySpace(options.fleet.key_root), store, state, embedded)
    return DashboardApp(source, DashboardSettings(refresh_s=options.refresh_s))


def run_dashboard(options: DashboardOptions, store: TypeStore) -> None:
    """Run until the user quits; the app's unmount closes the session (and embedded aggregator)."""
    build_app(options, store).run()
