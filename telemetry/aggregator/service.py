"""The aggregator process: subscribes to the fleet's data, computes stats on a tick, publishes.

Zenoh callbacks (telemetry/aggregator/ingest.py) only record; every `tick_s` the main
thread drains what they recorded into the engine (telemetry/aggregator/engine.py, pure
numpy), publishes each vehicle's msg/VehicleStats and the msg/FleetStatus, and keeps the
latest of each to answer queries. Catalogue and clock queries run on the prober's thread.

Vehicles on rmw_zenoh (`source: rmw_zenoh` in the fleet config, which the aggregator then
needs) are heard on their own keys and graph tokens, mapped by keys.py's RmwZenohMap; they
have no catalogue or clock queryable, so the prober leaves them alone.

    aggregator -e tcp/127.0.0.1:7447 [--config config/fleet.yaml] [--region eu-west]
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import zenoh

from telemetry.aggregator.engine import EngineSettings, FleetEngine
from telemetry.aggregator.ingest import Ingest
from telemetry.aggregator.prober import Prober
from telemetry.bridge.plan import starts_with_header
from telemetry.codec import TypeStore
from telemetry.codec.names import FLEET_STATUS, VEHICLE_STATS
from telemetry.config import FleetConfig, load_fleet_config, rmw_zenoh_map
from telemetry.console import run_console, stop_on_signals
from telemetry.errors import TelemetryError
from telemetry.keys import KeyKind, KeySpace, RmwZenohMap, validate_name
from telemetry.net.declarations import undeclare_all
from telemetry.net.session import BackgroundSession
from telemetry.net.session_flags import add_session_arguments, options_from_args
from telemetry.net.zenoh_config import SessionOptions

__all__ = ["AggregatorService", "main"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceSettings:
    keys: KeySpace
    region: str | None = None
    tick_s: float = 0.5
    engine: EngineSettings = field(default_factory=EngineSettings)
    rmw_zenoh: RmwZenohMap = field(default_factory=lambda: RmwZenohMap(()))


class AggregatorService:
    """Owns the subscriptions, queryables, prober and engine on one open session."""

    def __init__(self, session: zenoh.Session, settings: ServiceSettings, store: TypeStore) -> None:
        self._session = session
        self._settings = settings
        self._keys = settings.keys
        self._ingest = Ingest(settings.keys, settings.rmw_zenoh, lambda ros_type: starts_with_header(store, ros_type))
        self._unprobed = {(v.region, v.vehicle) for v in settings.rmw_zenoh.vehicles()}
        self._engine = FleetEngine(store, settings.engine, settings.region, aggregator_id=str(session.info.zid()))
        self._prober = Prober(session, settings.keys)
        self._declared: list[Any] = []
        self._lock = threading.Lock()
        self._latest_stats: dict[str, bytes] = {}
        self._latest_fleet: bytes | None = None
        self._stats_encoding = zenoh.Encoding.APPLICATION_CDR.with_schema(VEHICLE_STATS)
        self._fleet_encoding = zenoh.Encoding.APPLICATION_CDR.with_schema(FLEET_STATUS)

    def start(self) -> None:
        keys, region, session = self._keys, self._settings.region, self._session
        self._declared += [
            session.declare_subscriber(keys.selector(KeyKind.DATA, region), self._ingest.on_data),
            session.declare_subscriber(keys.selector(KeyKind.HEALTH, region), self._ingest.on_health),
            session.liveliness().declare_subscriber(
                keys.selector(KeyKind.ALIVE, region), self._ingest.on_liveliness, history=True
            ),
            session.declare_queryable(keys.selector(KeyKind.STATS, region), self._answer_stats),
            session.declare_queryable(keys.fleet(), self._answer_fleet),
        ]
        rmw_zenoh = self._settings.rmw_zenoh
        self._declared += [session.declare_subscriber(s, self._ingest.on_rmw_data) for s in rmw_zenoh.data_selectors()]
        self._declared += [
            session.liveliness().declare_subscriber(s, self._ingest.on_rmw_liveliness, history=True)
            for s in rmw_zenoh.liveliness_selectors()
        ]
        self._prober.start()
        _log.info("aggregating %s (window %g s, tick %g s)",
                  keys.selector(KeyKind.DATA, region), self._settings.engine.window_s, self._settings.tick_s)

    def tick(self, now_ns: int | None = None) -> None:
        """Drain the callbacks' records, compute, publish: one pass of the main loop."""
        now_ns = time.time_ns() if now_ns is None else now_ns
        self._engine.ingest(self._ingest.drain(), now_ns)
        for region, vehicle in self._engine.vehicles_to_probe():
            if (region, vehicle) not in self._unprobed:
                self._prober.probe_soon(region, vehicle)
        snapshot = self._engine.snapshot(now_ns, self._prober.catalogue, self._prober.clock)
        for region, vehicle in snapshot.evicted:
            self._prober.forget(region, vehicle)
        for key in snapshot.evicted_streams:
            self._ingest.forget(key)
        for (region, vehicle), payload in snapshot.vehicle_stats.items():
            try:
                self._session.put(self._keys.stats(region, vehicle), payload, encoding=self._stats_encoding)
            except TelemetryError as error:  # one unpublishable name must not stop the others
                _log.warning("%s/%s: stats not published: %s", region, vehicle, error)
        self._session.put(self._keys.fleet(), snapshot.fleet_status, encoding=self._fleet_encoding)
        with self._lock:
            self._latest_stats = {
                self._keys.stats(r, v): p for (r, v), p in snapshot.vehicle_stats.items() if _publishable(r, v)
            }
            self._latest_fleet = snapshot.fleet_status

    def run(self, stop: threading.Event) -> None:
        """Tick on absolute deadlines until `stop` is set."""
        period_ns = int(self._settings.tick_s * 1e9)
        next_ns = time.monotonic_ns() + period_ns
        while not stop.wait(max(0.0, (next_ns - time.monotonic_ns()) / 1e9)):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the loop's boundary: log, count, keep ticking
                _log.exception("tick failed")
            next_ns += period_ns
            if next_ns < time.monotonic_ns():
                next_ns = time.monotonic_ns() + period_ns

    def close(self) -> None:
        self._prober.stop()
        undeclare_all(self._declared)

    def _answer_stats(self, query: zenoh.Query) -> None:
        # Replies are non-blocking enqueues; answering here keeps the query's latency low.
        asked = zenoh.KeyExpr(str(query.key_expr))
        with self._lock:
            latest = list(self._latest_stats.items())
        for key, payload in latest:
            if asked.intersects(zenoh.KeyExpr(key)):
                query.reply(key, payload, encoding=self._stats_encoding)

    def _answer_fleet(self, query: zenoh.Query) -> None:
        with self._lock:
            latest = self._latest_fleet
        if latest is not None:
            query.reply(self._keys.fleet(), latest, encoding=self._fleet_encoding)


def _publishable(region: str, vehicle: str) -> bool:
    try:
        validate_name(region, "region")
        validate_name(vehicle, "vehicle")
    except TelemetryError:
        return False
    return True


def expected_rates(fleet: FleetConfig | None) -> dict[tuple[str, str, str], float]:
    """(region, vehicle, topic) -> the rate the fleet config says will arrive."""
    if fleet is None:
        return {}
    return {
        (v.region, v.name, s.topic): s.forwarded_rate_hz for v in fleet.vehicles for s in v.streams
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aggregator", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, help="fleet config: expected rates for vehicles without a catalogue")
    parser.add_argument("--region", help="aggregate only this region (one aggregator per region shares the load)")
    parser.add_argument("--key-root", metavar="ROOT",
                        help="first key chunk to aggregate (default: the config's key_root); `replay` for a replay")
    parser.add_argument("--window", type=float, default=5.0, metavar="S", help="sliding window in seconds (default 5)")
    parser.add_argument("--tick", type=float, default=0.5, metavar="S", help="stats period in seconds (default 0.5)")
    parser.add_argument("--evict-after", type=float, default=600.0, metavar="S",
                        help="forget streams and vehicles silent this long (default 600)")
    add_session_arguments(parser, default_mode="client")
    return parser


def settings_from_args(args: argparse.Namespace, store: TypeStore) -> tuple[ServiceSettings, SessionOptions]:
    fleet = load_fleet_config(args.config, store) if args.config else None
    keys = KeySpace(args.key_root or (fleet.key_root if fleet else KeySpace().root))
    region = validate_name(args.region, "region") if args.region else None
    for value, flag in ((args.window, "--window"), (args.tick, "--tick"), (args.evict_after, "--evict-after")):
        if value <= 0:
            raise TelemetryError(f"{flag}: must be > 0, got {value}")
    session = options_from_args(args)
    if fleet is not None and not session.connect and session.config_path is None:
        session = replace(session, connect=fleet.cloud.listen)
    engine = EngineSettings(window_s=args.window, evict_after_s=args.evict_after, expected_hz=expected_rates(fleet))
    rmw_zenoh = rmw_zenoh_map(fleet, region) if fleet is not None else RmwZenohMap(())
    return ServiceSettings(keys, region, args.tick, engine, rmw_zenoh), session


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_console("aggregator", lambda: _serve(args))


def _serve(args: argparse.Namespace) -> int:
    store = TypeStore.from_environment()
    settings, session_options = settings_from_args(args, store)
    stop = stop_on_signals()
    return run(settings, session_options, store, stop)


def run(settings: ServiceSettings, options: SessionOptions, store: TypeStore, stop: threading.Event) -> int:
    """Open the session, aggregate until `stop`, close everything (also on errors).

    Raises TelemetryError when the session cannot be configured or opened.
    """
    with BackgroundSession(options, name="aggregator") as link:
        session = link.wait_or_stop(stop)
        if session is None:
            return 0
        service = AggregatorService(session, settings, store)
        service.start()
        print(f"aggregator {session.info.zid()} ready", flush=True)
        try:
            service.run(stop)
        finally:
            service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
