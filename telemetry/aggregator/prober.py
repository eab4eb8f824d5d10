"""Asks each vehicle's bridge for its catalogue (expected rates) and its clock.

Queries wait for replies, so they run on their own thread, never on the aggregator's tick
or in a Zenoh callback. The clock is sampled NTP-style: several round trips, keeping the
one with the shortest round trip (telemetry.fleet.clock), refreshed every 10 s.
"""

from __future__ import annotations

import json
import logging
import struct
import threading
import time
from dataclasses import dataclass
from typing import Any

from telemetry.fleet.clock import ClockEstimate, ClockSample, estimate_offset
from telemetry.fleet.vehicle_key import VehicleKey
from telemetry.keys import KeySpace

__all__ = ["Catalogue", "Prober"]

_log = logging.getLogger(__name__)
_CLOCK = struct.Struct("<q")
_QUERY_TIMEOUT_S = 1.0
_ROUND_TRIPS = 8


@dataclass(frozen=True)
class Catalogue:
    """What a vehicle's bridge says about its streams: topic -> expected rate (Hz or None)."""

    expected_hz: dict[str, float | None]
    types: dict[str, str]


def parse_catalogue(payload: bytes) -> Catalogue:
    """The bridge's meta JSON (telemetry/bridge/plan.py); raises ValueError when malformed."""
    document = json.loads(payload)
    streams = document["streams"]
    expected = {str(s["topic"]): (float(s["expected_hz"]) if s.get("expected_hz") else None) for s in streams}
    types = {str(s["topic"]): str(s.get("type", "")) for s in streams}
    return Catalogue(expected, types)


class Prober:
    """A thread that refreshes catalogues and clock offsets of the vehicles it is told about."""

    def __init__(self, session: Any, keys: KeySpace, refresh_s: float = 10.0) -> None:
        self._session = session
        self._keys = keys
        self._refresh_s = refresh_s
        self._lock = threading.Lock()
        self._vehicles: dict[VehicleKey, float] = {}  # -> next probe (monotonic s)
        self._catalogues: dict[VehicleKey, Catalogue] = {}
        self._clocks: dict[VehicleKey, ClockEstimate] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prober", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5.0)

    def watch(self, region: str, vehicle: str) -> None:
        """Probe this vehicle now and every `refresh_s` from now on."""
        with self._lock:
            if (region, vehicle) not in self._vehicles:
                self._vehicles[VehicleKey(region, vehicle)] = 0.0
                self._wake.set()

    def probe_soon(self, region: str, vehicle: str) -> None:
        """Probe again at once (its token came back: it may have restarted)."""
        with self._lock:
            self._vehicles[VehicleKey(region, vehicle)] = 0.0
        self._wake.set()

    def forget(self, region: str, vehicle: str) -> None:
        with self._lock:
            self._vehicles.pop(VehicleKey(region, vehicle), None)
            self._catalogues.pop(VehicleKey(region, vehicle), None)
            self._clocks.pop(VehicleKey(region, vehicle), None)

    def catalogue(self, region: str, vehicle: str) -> Catalogue | None:
        with self._lock:
            return self._catalogues.get(VehicleKey(region, vehicle))

    def clock(self, region: str, vehicle: str) -> ClockEstimate | None:
        with self._lock:
            return self._clocks.get(VehicleKey(region, vehicle))

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            with self._lock:
                due = [v for v, at in self._vehicles.items() if at <= now]
                for key in due:
                    self._vehicles[key] = now + self._refresh_s
                pending = list(self._vehicles.values())
            for region, vehicle in due:
                if self._stop.is_set():
                    return
                self._probe(region, vehicle)
            wait_s = max(0.05, min(pending, default=now + 1.0) - time.monotonic())
            self._wake.wait(wait_s)
            self._wake.clear()

    def _probe(self, region: str, vehicle: str) -> None:
        # A broad except: this is the worker's boundary; one vehicle's odd reply must not
        # stop probing the others.
        try:
            catalogue = self._query_catalogue(region, vehicle)
            estimate = self._query_clock(region, vehicle)
        except Exception:  # noqa: BLE001
            _log.exception("probing %s/%s failed", region, vehicle)
            return
        with self._lock:
            if (region, vehicle) not in self._vehicles:
                return
            if catalogue is not None:
                self._catalogues[VehicleKey(region, vehicle)] = catalogue
            if estimate is not None:
                self._clocks[VehicleKey(region, vehicle)] = estimate

    def _query_catalogue(self, region: str, vehicle: str) -> Catalogue | None:
        for reply in self._session.get(self._keys.meta(region, vehicle), timeout=_QUERY_TIMEOUT_S):
            if reply.ok is None:
                continue
            try:
                return parse_catalogue(reply.ok.payload.to_bytes())
            except (ValueError, KeyError, TypeError) as error:
                _log.warning("%s/%s: malformed catalogue: %s", region, vehicle, error)
        return None

    def _query_clock(self, region: str, vehicle: str) -> ClockEstimate | None:
        samples: list[ClockSample] = []
        key = self._keys.clock(region, vehicle)
        for _ in range(_ROUND_TRIPS):
            sent_ns = time.time_ns()
            for reply in self._session.get(key, timeout=_QUERY_TIMEOUT_S):
                received_ns = time.time_ns()
                if reply.ok is None:
                    continue
                payload = reply.ok.payload.to_bytes()
                if len(payload) == _CLOCK.size:
                    samples.append(ClockSample(sent_ns, _CLOCK.unpack(payload)[0], received_ns))
                break
        return estimate_offset(samples) if samples else None
