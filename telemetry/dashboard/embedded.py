"""`dashboard --embedded`: run the aggregator inside the dashboard when none answers.

For a one-machine setup (a laptop next to one robot) a separate aggregator process is one
thing too many. On connect, the dashboard asks `telemetry/fleet` (every aggregator answers
it); if no one replies within `probe_timeout_s`, it runs an `AggregatorService` on its own
session, in a thread, and stops it on exit. This is the one mode in which the dashboard's
process receives the fleet's data.
"""

from __future__ import annotations

import logging
import threading
import time

import zenoh

from telemetry.aggregator.service import AggregatorService, ServiceSettings
from telemetry.codec import TypeStore

__all__ = ["EmbeddedAggregator"]

_log = logging.getLogger(__name__)


class EmbeddedAggregator:
    """Probes for an aggregator once the session is open; runs one if none is there."""

    def __init__(self, settings: ServiceSettings, store: TypeStore, probe_timeout_s: float = 1.5) -> None:
        self._settings = settings
        self._store = store
        self._probe_timeout_s = probe_timeout_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._phase = "waiting for the session"
        self.running = False

    def start(self, session: zenoh.Session) -> None:
        """Called from the session opener: probe and run on a thread of our own."""
        self._thread = threading.Thread(target=self._run, args=(session,), name="embedded-aggregator", daemon=True)
        self._thread.start()

    def describe(self) -> str:
        return self._phase

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)

    def _run(self, session: zenoh.Session) -> None:
        self._phase = "looking for an aggregator"
        others = self._other_aggregators(session)
        if others:
            self._phase = f"not started: aggregator {', '.join(others)} already running"
            _log.info("embedded aggregator %s", self._phase)
            return
        if self._stop.is_set():
            return
        service = AggregatorService(session, self._settings, self._store)
        try:
            service.start()
            self.running = True
            self._phase = "embedded aggregator running"
            _log.info("no aggregator answered %s: running one in this process", self._settings.keys.fleet())
            service.run(self._stop)
        except Exception:  # noqa: BLE001 - a thread's boundary: say so on screen, keep the UI up
            _log.exception("embedded aggregator failed")
            self._phase = "embedded aggregator failed (see the log)"
        finally:
            self.running = False
            service.close()

    def _other_aggregators(self, session: zenoh.Session) -> list[str]:
        """Ask until `probe_timeout_s` has passed: an aggregator that started a moment ago
        answers nothing before its first tick (0.5 s), and that must not count as none."""
        deadline = time.monotonic() + self._probe_timeout_s
        while not self._stop.is_set():
            remaining_s = deadline - time.monotonic()
            if remaining_s <= 0:
                return []
            try:
                replies = session.get(
                    self._settings.keys.fleet(), consolidation=zenoh.ConsolidationMode.NONE, timeout=remaining_s
                )
                found = [str(reply.replier_id or "?") for reply in replies if reply.ok is not None]
            except zenoh.ZError as error:
                _log.warning("probing for an aggregator failed: %s", error)
                found = []
            if found:
                return found
            self._stop.wait(min(0.2, max(0.0, deadline - time.monotonic())))
        return []
