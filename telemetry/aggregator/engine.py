"""The aggregator's state between ticks: streams, vehicles, bad-input counts, and the
messages built from them. No Zenoh here: the service feeds it drained records and
publishes what `snapshot()` returns, so tests can drive it with hand-made input.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from telemetry.aggregator.health import VehicleHealth, decode_health
from telemetry.aggregator.ingest import UNKNOWN_SOURCE, BadInput, Drained, Inbox, parse_attachments
from telemetry.aggregator.messages import MessageBuilder, StreamRow, VehicleRow
from telemetry.codec import CodecError, TypeStore
from telemetry.codec.attachment import ATTACHMENT_VERSION
from telemetry.codec.batch import read_batch
from telemetry.fleet.buffer import StreamBuffer
from telemetry.fleet.clock import ClockEstimate
from telemetry.fleet.hops import hop_stats
from telemetry.fleet.sequence import SequenceTracker, jump_limit_for
from telemetry.fleet.stats import window_stats
from telemetry.fleet.status import StatusChange, VehiclePresence, VehicleStatus
from telemetry.fleet.vehicle_key import VehicleKey

__all__ = [
    "EngineSettings", "FleetEngine", "Snapshot", "TickArrivals", "batch_arrivals", "merge_arrivals", "single_arrivals",
]

_log = logging.getLogger(__name__)
_NS = 1_000_000_000
_BAD_INPUT_LOG_PERIOD_NS = 60 * _NS
#: A tick bringing more than this many times the expected samples counts as a flood.
_FLOOD_FACTOR = 10.0
#: Bad input naming a vehicle not yet known is charged to it only below this many vehicles.
MAX_VEHICLES = 2_000

CatalogueLookup = Callable[[str, str], object | None]
ClockLookup = Callable[[str, str], ClockEstimate | None]


@dataclass(frozen=True)
class EngineSettings:
    window_s: float = 5.0
    evict_after_s: float = 600.0
    expected_hz: Mapping[tuple[str, str, str], float] = field(default_factory=dict)


@dataclass
class _Stream:
    key: str
    region: str
    vehicle: str
    topic: str
    ros_type: str
    batched: bool
    first_seen_ns: int
    buffer: StreamBuffer = field(default_factory=StreamBuffer)
    tracker: SequenceTracker = field(default_factory=SequenceTracker)
    last_ingest_ns: int = 0


@dataclass
class _Vehicle:
    region: str
    name: str
    presence: VehiclePresence
    token_present: bool = False
    bad_input: dict[str, int] = field(default_factory=dict)
    logged_bad_ns: int = -_BAD_INPUT_LOG_PERIOD_NS
    last_activity_ns: int = 0
    health: VehicleHealth = field(default_factory=VehicleHealth)


@dataclass(frozen=True)
class Snapshot:
    """What one tick publishes, and what it forgot."""

    vehicle_stats: dict[VehicleKey, bytes]
    fleet_status: bytes
    changes: list[tuple[str, str, StatusChange]]
    evicted: list[VehicleKey]
    evicted_streams: list[str]


class FleetEngine:
    """Per-stream buffers and trackers, per-vehicle presence, and the stats built from them."""

    def __init__(
        self, store: TypeStore, settings: EngineSettings, region: str | None = None, aggregator_id: str = ""
    ) -> None:
        self._store = store
        self._settings = settings
        self._builder = MessageBuilder(store, regions=(region,) if region else (), aggregator_id=aggregator_id)
        self._streams: dict[str, _Stream] = {}
        self._vehicles: dict[VehicleKey, _Vehicle] = {}
        self._to_probe: list[VehicleKey] = []
        self._expected: dict[str, float | None] = {}

    # --- ingest ----------------------------------------------------------------------

    def ingest(self, drained: Drained, now_ns: int) -> None:
        """Fold one tick's records into the streams, vehicles and counters."""
        for (region, vehicle), bad_counts in drained.bad.items():
            if (region, vehicle) not in self._vehicles and len(self._vehicles) >= MAX_VEHICLES:
                region, vehicle = UNKNOWN_SOURCE, UNKNOWN_SOURCE  # a rogue inventing names
            target = self._vehicle(region, vehicle, now_ns)
            for kind, count in bad_counts.items():
                target.bad_input[kind] = target.bad_input.get(kind, 0) + count
        for region, vehicle, alive, at_ns in drained.presence:
            target = self._vehicle(region, vehicle, at_ns)
            target.token_present = alive
            target.last_activity_ns = max(target.last_activity_ns, at_ns)
            if alive:
                self._to_probe.append(VehicleKey(region, vehicle))
        for key, inbox in drained.inboxes.items():
            if len(inbox.receive_ns) or inbox.batches:
                self._ingest_stream(key, inbox, now_ns)
        window_ns = int(self._settings.window_s * _NS)
        for report in drained.health:
            if (report.region, report.vehicle) not in self._vehicles and len(self._vehicles) >= MAX_VEHICLES:
                continue
            target = self._vehicle(report.region, report.vehicle, report.receive_ns)
            try:
                load, counts = decode_health(self._store, report)
            except CodecError as error:
                self._bad(target, BadInput.BAD_HEALTH, 1, str(error))
                continue
            target.health.add(load, counts, now_ns, window_ns)

    def vehicles_to_probe(self) -> list[VehicleKey]:
        """Vehicles whose token (re)appeared since the last call: ask for catalogue and clock."""
        due, self._to_probe = self._to_probe, []
        return due

    def _ingest_stream(self, key: str, inbox: Inbox, now_ns: int) -> None:
        parsed = inbox.parsed
        assert parsed.region is not None and parsed.vehicle is not None and parsed.topic is not None
        vehicle = self._vehicle(parsed.region, parsed.vehicle, now_ns)
        stream = self._streams.get(key)
        if stream is None:
            # Its age counts from its first sample, not from this tick: the tick's samples
            # arrived over the last tick period, and a rate over the shorter span overstated
            # a new stream's rate (2x at the second tick, 10 % after 4.5 s of a 5 s window).
            stream = _Stream(key, parsed.region, parsed.vehicle, parsed.topic, inbox.ros_type,
                             bool(inbox.batches), _first_receive_ns(inbox, now_ns), last_ingest_ns=now_ns)
            self._streams[key] = stream
            self._to_probe.append(VehicleKey(parsed.region, parsed.vehicle))
        tick = self._tick_arrivals(inbox, vehicle, stream)
        if tick is None:
            return
        expected = self._expected.get(key)
        stream.tracker.jump_limit = jump_limit_for(expected)
        gaps = stream.tracker.update(tick.sequence)
        if gaps.jumps:
            self._bad(vehicle, BadInput.SEQUENCE_JUMP, gaps.jumps)
        samples = tick.sequence.size
        if expected and samples > _FLOOD_FACTOR * expected * max(now_ns - stream.last_ingest_ns, _NS // 10) / _NS:
            self._bad(vehicle, BadInput.FLOOD, 1)
        stream.last_ingest_ns = now_ns
        stream.buffer.extend(tick.receive_ns, tick.samples, tick.payload_bytes, tick.latency_ns, gaps)
        vehicle.last_activity_ns = now_ns

    def _tick_arrivals(self, inbox: Inbox, vehicle: _Vehicle, stream: _Stream) -> TickArrivals | None:
        """The tick's arrivals of one stream, alone and batched, in arrival order."""
        single = self._data_arrivals(inbox, vehicle) if len(inbox.receive_ns) else None
        batched = self._batch_arrivals(inbox, vehicle, stream) if inbox.batches else None
        if single is None or batched is None:
            return single or batched
        stream.batched = True
        return merge_arrivals(single, batched)

    def _data_arrivals(self, inbox: Inbox, vehicle: _Vehicle) -> TickArrivals | None:
        attachments = parse_attachments(inbox.attachments)
        known = attachments["version"] == ATTACHMENT_VERSION
        unknown = int(known.size - np.count_nonzero(known))
        if unknown:
            self._bad(vehicle, BadInput.UNKNOWN_VERSION, unknown)
        if not known.any():
            return None
        receive_ns = np.frombuffer(inbox.receive_ns, dtype=np.int64)
        size = np.frombuffer(inbox.size, dtype=np.int64)
        if not unknown:
            return single_arrivals(receive_ns, attachments["source_time_ns"], attachments["sequence"], size)
        return single_arrivals(receive_ns[known], attachments["source_time_ns"][known], attachments["sequence"][known],
                               size[known])

    def _batch_arrivals(self, inbox: Inbox, vehicle: _Vehicle, stream: _Stream) -> TickArrivals | None:
        receive_ns: list[int] = []
        count: list[int] = []
        payload_bytes: list[int] = []
        sequence: list[npt.NDArray[np.uint64]] = []
        source_ns: list[npt.NDArray[np.int64]] = []
        for received_ns, payload, data_len in inbox.batches:
            try:
                batch = read_batch(self._store, payload, data_len)
            except CodecError as error:
                self._bad(vehicle, BadInput.BAD_BATCH, 1, str(error))
                continue
            stream.ros_type = batch.ros_type or stream.ros_type
            stream.batched = True
            if batch.sequence.size:
                receive_ns.append(received_ns)
                count.append(batch.sequence.size)
                payload_bytes.append(batch.data.size if data_len is None else data_len)  # checked: sum of sizes
                sequence.append(batch.sequence)
                source_ns.append(batch.source_ns)
        if not receive_ns:
            return None
        return batch_arrivals(np.array(receive_ns, np.int64), np.array(count, np.int32),
                              np.array(payload_bytes, np.int64), np.concatenate(sequence), np.concatenate(source_ns))

    def _bad(self, vehicle: _Vehicle, kind: str, count: int, detail: str = "") -> None:
        vehicle.bad_input[kind] = vehicle.bad_input.get(kind, 0) + count
        if detail:
            _log.debug("%s/%s: %s: %s", vehicle.region, vehicle.name, kind, detail)

    def _vehicle(self, region: str, name: str, now_ns: int) -> _Vehicle:
        vehicle = self._vehicles.get(VehicleKey(region, name))
        if vehicle is None:
            vehicle = _Vehicle(region, name, VehiclePresence(now_ns), last_activity_ns=now_ns)
            self._vehicles[VehicleKey(region, name)] = vehicle
        return vehicle

    # --- snapshot --------------------------------------------------------------------

    def snapshot(self, now_ns: int, catalogue_of: CatalogueLookup, clock_of: ClockLookup) -> Snapshot:
        """Stats for every vehicle and the fleet, as CDR messages; forget the long silent."""
        evicted_streams = self._evict_streams(now_ns)
        window_ns = int(self._settings.window_s * _NS)
        rows: dict[VehicleKey, list[StreamRow]] = {key: [] for key in self._vehicles}
        for stream in self._streams.values():
            expected = self._expected_hz(stream, catalogue_of)
            self._expected[stream.key] = expected
            clock = clock_of(stream.region, stream.vehicle)
            stream.buffer.trim(now_ns - window_ns)
            stats = window_stats(
                stream.buffer.columns(), stream.buffer.gap_rows(), now_ns=now_ns, window_ns=window_ns,
                expected_hz=expected, first_seen_ns=stream.first_seen_ns, last_receive_ns=stream.buffer.last_receive_ns,
                clock_offset_ns=clock.offset_ns if clock else None,
            )
            owner = self._vehicles.get(VehicleKey(stream.region, stream.vehicle))
            hops = hop_stats(owner.health.reports(stream.topic) if owner else [], now_ns, window_ns)
            rows[VehicleKey(stream.region, stream.vehicle)].append(
                StreamRow(stream.topic, stream.ros_type, stream.batched, stats, stream.tracker.totals(),
                          stream.buffer.overflowed_total, hops))
        changes, evicted, payloads, summaries = [], [], {}, []
        for key, vehicle in list(self._vehicles.items()):
            stream_rows = sorted(rows.get(key, []), key=lambda row: row.topic)
            change = vehicle.presence.update(now_ns, token_present=vehicle.token_present,
                                             streams_stale=[row.stats.stale for row in stream_rows])
            if change is not None:
                changes.append((vehicle.region, vehicle.name, change))
                _log.info("%s/%s: %s -> %s", vehicle.region, vehicle.name, change.old.name, change.new.name)
            if self._evictable(vehicle, stream_rows, now_ns):
                del self._vehicles[key]
                evicted.append(key)
                continue
            self._log_bad_input(vehicle, now_ns)
            row = VehicleRow(vehicle.region, vehicle.name, vehicle.presence.status, vehicle.presence.since_ns,
                             clock_of(vehicle.region, vehicle.name), dict(vehicle.bad_input), stream_rows,
                             vehicle.health.load)
            payloads[key] = self._builder.vehicle_stats(row, now_ns)
            summaries.append(row)
        return Snapshot(payloads, self._builder.fleet_status(summaries, now_ns), changes, evicted, evicted_streams)

    def _expected_hz(self, stream: _Stream, catalogue_of: CatalogueLookup) -> float | None:
        catalogue = catalogue_of(stream.region, stream.vehicle)
        if catalogue is not None:
            rate = getattr(catalogue, "expected_hz", {}).get(stream.topic)
            if rate:
                return float(rate)
        configured = self._settings.expected_hz.get((stream.region, stream.vehicle, stream.topic))
        return float(configured) if configured else None

    def _evict_streams(self, now_ns: int) -> list[str]:
        limit_ns = int(self._settings.evict_after_s * _NS)
        gone = [key for key, s in self._streams.items()
                if now_ns - (s.buffer.last_receive_ns or s.first_seen_ns) > limit_ns]
        for key in gone:
            del self._streams[key]
            self._expected.pop(key, None)
        return gone

    def _evictable(self, vehicle: _Vehicle, rows: list[StreamRow], now_ns: int) -> bool:
        silent_ns = now_ns - vehicle.last_activity_ns
        return (not rows and vehicle.presence.status is VehicleStatus.OFFLINE
                and silent_ns > int(self._settings.evict_after_s * _NS))

    def _log_bad_input(self, vehicle: _Vehicle, now_ns: int) -> None:
        """At most one line per source per minute, with the totals so far."""
        if vehicle.bad_input and now_ns - vehicle.logged_bad_ns >= _BAD_INPUT_LOG_PERIOD_NS:
            vehicle.logged_bad_ns = now_ns
            counts = ", ".join(f"{kind} {count}" for kind, count in sorted(vehicle.bad_input.items()))
            _log.warning("%s/%s: rejected input since start: %s", vehicle.region, vehicle.name, counts)


def _first_receive_ns(inbox: Inbox, now_ns: int) -> int:
    """When the first of an inbox's samples arrived (`now_ns` if it holds none)."""
    first = [inbox.receive_ns[0]] if len(inbox.receive_ns) else []
    first += [receive_ns for receive_ns, _, _ in inbox.batches[:1]]
    return min(first, default=now_ns)


class TickArrivals(NamedTuple):
    """One stream's arrivals of one tick (a single sample or a batch each), in arrival order,
    with their samples' sequence numbers and latencies (receive - source time, ns) in order."""

    receive_ns: npt.NDArray[np.int64]  # per arrival
    samples: npt.NDArray[np.int32]  # per arrival
    payload_bytes: npt.NDArray[np.int64]  # per arrival
    sequence: npt.NDArray[np.uint64]  # per sample
    latency_ns: npt.NDArray[np.int64]  # per sample


def single_arrivals(
    receive_ns: npt.NDArray[np.int64], source_ns: npt.NDArray[np.int64], sequence: npt.NDArray[np.uint64],
    size: npt.NDArray[np.int64],
) -> TickArrivals:
    """Samples that came alone: one arrival each."""
    return TickArrivals(receive_ns, np.ones(receive_ns.size, np.int32), size, sequence, receive_ns - source_ns)


def batch_arrivals(
    receive_ns: npt.NDArray[np.int64], samples: npt.NDArray[np.int32], payload_bytes: npt.NDArray[np.int64],
    sequence: npt.NDArray[np.uint64], source_ns: npt.NDArray[np.int64],
) -> TickArrivals:
    """Batches, one arrival each (receive time, samples, their bytes), and their samples'
    columns back to back: the samples of a batch share its receive time."""
    return TickArrivals(receive_ns, samples, payload_bytes, sequence, np.repeat(receive_ns, samples) - source_ns)


def merge_arrivals(first: TickArrivals, second: TickArrivals) -> TickArrivals:
    """Both sets of arrivals in one arrival order (by receive time; `first` first on ties),
    their samples moved along with them."""
    receive_ns = np.concatenate((first.receive_ns, second.receive_ns))
    count = np.concatenate((first.samples, second.samples))
    order = np.argsort(receive_ns, kind="stable")
    starts = np.cumsum(count, dtype=np.int64) - count  # where each arrival's samples sit in first's + second's
    moved = count[order]
    sample = np.repeat(starts[order] - (np.cumsum(moved, dtype=np.int64) - moved), moved) + np.arange(int(moved.sum()))
    return TickArrivals(
        receive_ns[order], moved, np.concatenate((first.payload_bytes, second.payload_bytes))[order],
        np.concatenate((first.sequence, second.sequence))[sample],
        np.concatenate((first.latency_ns, second.latency_ns))[sample],
    )
