"""Where the dashboard's `FleetView`s come from: a Zenoh session, or (in tests) anything else.

`FleetSource` is the one thing the Textual app knows about data. `ZenohFleetSource` opens
its session in the background (the screen is up and says "connecting" before any router
answers), records through `FleetFeed`, and on each `collect()` decodes what arrived into
the `FleetState`. `collect()` runs on a worker thread, never on the UI thread.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import Protocol

import zenoh

from telemetry.codec import TypeStore
from telemetry.dashboard.embedded import EmbeddedAggregator
from telemetry.dashboard.feed import FeedRecords, FleetFeed
from telemetry.dashboard.reports import decode_fleet_status, decode_recorder_status, decode_vehicle_stats
from telemetry.dashboard.state import FleetState
from telemetry.dashboard.view import ConnectionState, ConnectionView, FleetView
from telemetry.errors import CodecError, KeyExprError, TelemetryError
from telemetry.keys import KeyKind, KeySpace
from telemetry.net import BackgroundSession, SessionOptions, build_config, configured_endpoints

__all__ = ["FleetSource", "ZenohFleetSource"]

_log = logging.getLogger(__name__)


class FleetSource(Protocol):
    def start(self) -> None: ...

    def collect(self) -> FleetView: ...

    def close(self) -> None: ...


class ZenohFleetSource:
    """Stats, fleet summaries and liveliness from a Zenoh session, as `FleetView`s."""

    def __init__(
        self,
        options: SessionOptions,
        keys: KeySpace,
        store: TypeStore,
        state: FleetState,
        embedded: EmbeddedAggregator | None = None,
    ) -> None:
        self._options = options
        self._endpoints = configured_endpoints(build_config(options), "connect")
        self._keys = keys
        self._store = store
        self._state = state
        self._embedded = embedded
        self._lock = threading.Lock()
        self._feed: FleetFeed | None = None
        self._link: BackgroundSession | None = None
        self._failure = ""
        self._ever_connected = False
        self._malformed = 0
        self._reported_bad: set[str] = set()

    def start(self) -> None:
        self._link = BackgroundSession(self._options, on_open=[self._on_open], name="dashboard").start()

    def collect(self) -> FleetView:
        now_ns = time.time_ns()
        with self._lock:
            feed = self._feed
        if feed is not None:
            self._apply(feed.take())
        return self._state.view(now_ns, self._connection())

    def close(self) -> None:
        if self._embedded is not None:
            self._embedded.close()
        with self._lock:
            feed, self._feed = self._feed, None
        if feed is not None:
            feed.close()
        if self._link is not None:
            self._link.close()

    def _on_open(self, session: zenoh.Session) -> None:
        feed = FleetFeed(session, self._keys).declare()
        with self._lock:
            self._feed = feed
        if self._embedded is not None:
            self._embedded.start(session)

    def _apply(self, records: FeedRecords) -> None:
        state = self._state
        for key, (payload, encoding, received_ns) in records.stats.items():
            try:
                state.add_report(decode_vehicle_stats(self._store, key, payload, encoding), received_ns)
            except CodecError as error:
                self._bad_input(key, error)
        for key, payload, encoding, received_ns in records.fleet:
            try:
                state.add_fleet(decode_fleet_status(self._store, key, payload, encoding), received_ns)
            except CodecError as error:
                self._bad_input(key, error)
        for key, (payload, encoding, received_ns) in records.recorders.items():
            try:
                state.add_recorder(decode_recorder_status(self._store, key, payload, encoding), received_ns)
            except CodecError as error:
                self._bad_input(key, error)
        for key, alive, at_ns in records.liveliness:
            try:
                parsed = self._keys.parse(key)
            except KeyExprError as error:
                self._bad_input(key, error)
                continue
            if parsed.kind is KeyKind.ALIVE and parsed.region and parsed.vehicle:
                state.set_alive(parsed.region, parsed.vehicle, alive, at_ns)
        self._malformed += records.dropped

    def _bad_input(self, key: str, error: TelemetryError) -> None:
        """Count every bad message; log each key's first one only (it would repeat at 2 Hz)."""
        self._malformed += 1
        if key not in self._reported_bad and len(self._reported_bad) < 1_000:
            self._reported_bad.add(key)
            _log.warning("ignoring bad input: %s", error)

    def _connection(self) -> ConnectionView:
        link = self._link
        detail = self._embedded.describe() if self._embedded is not None else ""
        embedded = self._embedded is not None and self._embedded.running
        base = ConnectionView(ConnectionState.CONNECTING, self._endpoints, embedded=embedded,
                              detail=detail, malformed=self._malformed)
        if link is None:
            return base
        try:
            session = link.wait(0)
        except TelemetryError as error:
            return replace(base, state=ConnectionState.FAILED, detail=str(error))
        if session is None:
            return base
        try:
            routers = tuple(str(zid) for zid in session.info.routers_zid())
        except zenoh.ZError:  # the session is closing under us
            routers = ()
        if routers:
            self._ever_connected = True
            return replace(base, state=ConnectionState.CONNECTED, routers=routers)
        return replace(base, state=ConnectionState.ROUTER_LOST if self._ever_connected else ConnectionState.CONNECTING)

