"""The `recorder` process: the fleet's streams (and the aggregator's stats) into MCAP segments,
and the history queryable over them.

Zenoh callbacks only append what arrived (receive time, key, payload, attachment, encoding)
to a list; the writer thread swaps that list out every few milliseconds, takes each message
apart (a SampleBatch into its samples; never the samples themselves), thins and writes it,
flushes chunks and rotates segments. Queries are answered on their own thread, so neither a
slow disk nor a long history query ever holds a Zenoh callback, and recording is one more
subscriber: it cannot slow the live path. Vehicles on rmw_zenoh (in the fleet config) are
recorded from their own keys, mapped by keys.py's RmwZenohMap: their attachment gives the
sequence and, for a type without a header, the source time.

    recorder -e tcp/127.0.0.1:7447 --config config/fleet.yaml [--region eu-west] [--folder DIR]
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import zenoh

from telemetry.bridge.plan import starts_with_header
from telemetry.codec import TypeStore
from telemetry.codec.attachment import unpack_fields
from telemetry.codec.batch import is_batch, read_batch
from telemetry.codec.names import RECORDER_STATUS, TIME
from telemetry.codec.rmw_zenoh import unpack_attachment_fields
from telemetry.codec.stamp import header_stamp_ns, ns_to_stamp
from telemetry.config import FleetConfig, RecordedStreams, load_fleet_config, rmw_zenoh_map
from telemetry.console import run_console, stop_on_signals
from telemetry.errors import TelemetryError
from telemetry.fleet.vehicle_key import VehicleKey
from telemetry.keys import KeyKind, KeySpace, RmwZenohMap, validate_name
from telemetry.net.declarations import undeclare_all
from telemetry.net.session import BackgroundSession
from telemetry.net.session_flags import add_session_arguments, options_from_args
from telemetry.net.zenoh_config import SessionOptions
from telemetry.recorder.history import History, HistoryLimits
from telemetry.recorder.layout import PART_SUFFIX, list_segments
from telemetry.recorder.recover import recover_segment
from telemetry.recorder.segment import ChannelSpec
from telemetry.recorder.selection import Selection, Thinning
from telemetry.recorder.writer import FLEET_SOURCE, Recording, SegmentLimits

__all__ = ["RecorderService", "RecorderSettings", "main", "prepare_folder"]

_log = logging.getLogger(__name__)

#: What the callbacks may hold for the writer thread; beyond it samples are dropped and counted.
MAX_PENDING = 500_000
_WRITE_PERIOD_S = 0.02
#: Arrivals written between two looks at the clock (flushes, status, retention): ~10-40 ms of work.
_SLICE = 2000
_RETENTION_PERIOD_S = 10.0
#: The fleet file's topics: `/fleet` and `/<region>/<vehicle>/stats`.
FLEET_TOPIC = "/fleet"

# (receive ns, key, payload, attachment or None, encoding)
_Arrival = tuple[int, str, bytes, bytes | None, str]


@dataclass(frozen=True)
class RecorderSettings:
    keys: KeySpace
    name: str
    folder: Path
    region: str | None = None
    selection: Selection = field(default_factory=Selection)
    limits: SegmentLimits = field(default_factory=SegmentLimits)
    history: HistoryLimits = field(default_factory=HistoryLimits)
    fleet: FleetConfig | None = None
    record_stats: bool = True
    status_s: float = 1.0

    @property
    def rmw_zenoh(self) -> RmwZenohMap:
        return rmw_zenoh_map(self.fleet, self.region) if self.fleet is not None else RmwZenohMap(())


@dataclass
class _Stream:
    """What the writer thread decided about one key, once."""

    source: VehicleKey
    topic: str
    thinning: Thinning | None  # None: not recorded
    rmw_type: str = ""  # an rmw_zenoh vehicle's stream: its type (from the key), else ""
    stamped: bool = False  # rmw_zenoh: the type starts with a header, whose stamp is the source time


@dataclass
class _Intake:
    """The callbacks' side: arrivals waiting for the writer thread."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: list[_Arrival] = field(default_factory=list)
    overflow: int = 0

    def add(self, sample: Any) -> None:
        receive_ns = time.time_ns()
        attachment = sample.attachment
        arrival = (receive_ns, str(sample.key_expr), sample.payload.to_bytes(),
                   None if attachment is None else attachment.to_bytes(), str(sample.encoding))
        with self.lock:
            if len(self.pending) >= MAX_PENDING:
                self.overflow += 1
                return
            self.pending.append(arrival)

    def drain(self) -> tuple[list[_Arrival], int]:
        with self.lock:
            pending, self.pending = self.pending, []
            overflow, self.overflow = self.overflow, 0
        return pending, overflow


class RecorderService:
    """Owns the subscriptions, the writer thread, the history thread and the status publisher."""

    def __init__(self, session: zenoh.Session, settings: RecorderSettings, store: TypeStore) -> None:
        self._session = session
        self._settings = settings
        self._keys = settings.keys
        self._store = store
        identity = {"recorder": settings.name, "key_root": settings.keys.root}
        if settings.fleet is not None:
            identity["fleet"] = settings.fleet.source
        self.recording = Recording(settings.folder, store, settings.limits, identity, self._channel_spec)
        self._history = History(settings.keys, self.recording, store, settings.history)
        self._intake = _Intake()
        self._rmw_zenoh = settings.rmw_zenoh
        self._streams: dict[str, _Stream] = {}
        self._queries: queue.Queue[zenoh.Query] = queue.Queue(maxsize=64)
        self._declared: list[Any] = []
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._status_key = settings.keys.recorder(settings.name)
        self._status_encoding = zenoh.Encoding.APPLICATION_CDR.with_schema(RECORDER_STATUS)
        self._last_status = (time.monotonic(), 0, 0)
        self._next_status = self._next_retention = time.monotonic()

    def selectors(self) -> list[str]:
        keys, region = self._keys, self._settings.region
        chosen = [keys.selector(KeyKind.DATA, region)]
        if self._settings.record_stats:
            chosen += [keys.selector(KeyKind.STATS, region), keys.fleet()]
        return chosen + self._rmw_zenoh.data_selectors()

    def start(self) -> None:
        session = self._session
        self._declared += [session.declare_subscriber(key, self._intake.add) for key in self.selectors()]
        self._declared.append(session.declare_queryable(
            self._keys.selector(KeyKind.HISTORY, self._settings.region), self._enqueue_query))
        for target, name in ((self._write_loop, "recorder-write"), (self._history_loop, "recorder-history")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        _log.info("recording %s into %s", ", ".join(self.selectors()), self._settings.folder)

    def close(self) -> None:
        """Stop taking input, write what is pending, close every segment."""
        undeclare_all(self._declared)
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10.0)

    # -- the writer thread ------------------------------------------------------------------

    def _write_loop(self) -> None:
        while True:
            stopping = self._stop.wait(_WRITE_PERIOD_S)
            arrivals, overflow = self._intake.drain()
            self.recording.counters.samples_dropped += overflow
            # In slices, with the periodic work between them: a backlog (a slow disk, a burst)
            # never holds back the flushes, the status or a history query for long.
            for start in range(0, max(len(arrivals), 1), _SLICE):
                try:
                    self._write(arrivals[start:start + _SLICE])
                    self._periodic()
                except Exception:  # noqa: BLE001 - the thread's boundary: log and keep recording
                    _log.exception("recorder: write pass failed")
            if stopping:
                with self.recording.lock:
                    self.recording.close_all()
                self._publish_status()
                return

    def _write(self, arrivals: list[_Arrival]) -> None:
        with self.recording.lock:
            for arrival in arrivals:
                self._write_one(*arrival)
            self.recording.tick(time.time_ns())

    def _periodic(self) -> None:
        now = time.monotonic()
        if now >= self._next_retention:
            self.recording.apply_retention(time.time())
            self._next_retention = now + _RETENTION_PERIOD_S
        if now >= self._next_status:
            self._publish_status()
            self._next_status = now + self._settings.status_s

    def _write_one(self, receive_ns: int, key: str, payload: bytes, attachment: bytes | None, encoding: str) -> None:
        stream = self._streams.get(key)
        if stream is None:
            stream = self._new_stream(key)
            if stream is None:
                return
        counters = self.recording.counters
        if stream.source == FLEET_SOURCE:
            ros_type = encoding.partition(";")[2]
            self.recording.write(FLEET_SOURCE, stream.topic, ros_type, receive_ns, receive_ns, 0, payload)
            return
        if stream.thinning is None:
            return
        if stream.rmw_type:
            self._write_rmw_zenoh(stream, receive_ns, payload, attachment)
            return
        if attachment is None:
            if not is_batch(encoding):
                counters.count_bad(stream.source)
                return
            try:
                batch = read_batch(self._store, payload)
            except TelemetryError:
                counters.count_bad(stream.source)
                return
            for sequence, source_ns, data in batch.samples():
                self._keep(stream, batch.ros_type, receive_ns, source_ns, sequence, data)
            return
        try:
            _, sequence, source_ns, _ = unpack_fields(attachment)
        except TelemetryError:
            counters.count_bad(stream.source)
            return
        ros_type = encoding.partition(";")[2]
        if not ros_type:
            counters.count_bad(stream.source)
            return
        self._keep(stream, ros_type, receive_ns, source_ns, sequence, payload)

    def _write_rmw_zenoh(self, stream: _Stream, receive_ns: int, payload: bytes, attachment: bytes | None) -> None:
        try:
            if attachment is None:
                raise TelemetryError("no attachment")
            sequence, sent_ns, _ = unpack_attachment_fields(attachment)
            source_ns = header_stamp_ns(payload) if stream.stamped else sent_ns
        except TelemetryError:
            self.recording.counters.count_bad(stream.source)
            return
        self._keep(stream, stream.rmw_type, receive_ns, source_ns, sequence, payload)

    def _keep(self, stream: _Stream, ros_type: str, receive_ns: int, source_ns: int, sequence: int,
              data: bytes) -> None:
        assert stream.thinning is not None
        if not stream.thinning.keep(source_ns):
            self.recording.counters.samples_thinned += 1
            return
        self.recording.write(stream.source, stream.topic, ros_type, receive_ns, source_ns, sequence, data)

    def _new_stream(self, key: str) -> _Stream | None:
        rmw_stream = self._rmw_zenoh.stream(key)
        if rmw_stream is not None:
            parsed = rmw_stream.parsed
            assert parsed.region is not None and parsed.vehicle is not None and parsed.topic is not None
            kept, max_rate_hz = self._settings.selection.choose(parsed.vehicle, parsed.topic)
            stream = _Stream(VehicleKey(parsed.region, parsed.vehicle), parsed.topic,
                             Thinning(max_rate_hz) if kept else None, rmw_stream.ros_type,
                             starts_with_header(self._store, rmw_stream.ros_type))
            self._streams[key] = stream
            return stream
        try:
            parsed = self._keys.parse(key)
        except TelemetryError:
            if key.startswith(f"{self._keys.root}/"):
                self.recording.counters.count_bad(VehicleKey("_unknown", "_unknown"))
            else:  # another robot's topic in an rmw_zenoh vehicle's domain: not ours to record
                self._streams[key] = _Stream(VehicleKey("_unknown", "_unknown"), "", None)
            return None
        if parsed.kind is KeyKind.FLEET:
            stream = _Stream(FLEET_SOURCE, FLEET_TOPIC, None)
        elif parsed.kind is KeyKind.STATS:
            stream = _Stream(FLEET_SOURCE, f"/{parsed.region}/{parsed.vehicle}/stats", None)
        else:
            assert parsed.region is not None and parsed.vehicle is not None and parsed.topic is not None
            source = VehicleKey(parsed.region, parsed.vehicle)
            kept, max_rate_hz = self._settings.selection.choose(parsed.vehicle, parsed.topic)
            stream = _Stream(source, parsed.topic, Thinning(max_rate_hz) if kept else None)
        self._streams[key] = stream
        return stream

    def _channel_spec(self, source: VehicleKey, topic: str, ros_type: str) -> ChannelSpec:
        """The QoS the fleet config gives the stream (the bridge's publisher side); else sensor data's."""
        fleet = self._settings.fleet
        if fleet is not None and source != FLEET_SOURCE:
            for vehicle in fleet.vehicles:
                if vehicle.name == source.vehicle:
                    for stream in vehicle.streams:
                        if stream.topic == topic:
                            return ChannelSpec(topic, ros_type, stream.reliable, stream.queue_depth or 5)
        return ChannelSpec(topic, ros_type, reliable=source == FLEET_SOURCE, depth=5 if source != FLEET_SOURCE else 10)

    # -- status -----------------------------------------------------------------------------

    def _publish_status(self) -> None:
        recording, counters = self.recording, self.recording.counters
        now = time.monotonic()
        then, samples_then, bytes_then = self._last_status
        elapsed = max(now - then, 1e-6)
        self._last_status = (now, counters.samples_written, counters.bytes_written)
        segments = list_segments(recording.folder)
        sec, nanosec = ns_to_stamp(time.time_ns())
        message = self._store.new(
            RECORDER_STATUS,
            stamp=self._store.new(TIME, sec=sec, nanosec=nanosec),
            name=self._settings.name,
            folder=str(recording.folder),
            recording=self.selectors(),
            topics=list(self._settings.selection.patterns()),
            samples_per_s=(counters.samples_written - samples_then) / elapsed,
            bytes_per_s=(counters.bytes_written - bytes_then) / elapsed,
            samples_written=counters.samples_written,
            bytes_written=counters.bytes_written,
            samples_dropped=counters.samples_dropped,
            samples_thinned=counters.samples_thinned,
            bad_input=sum(counters.bad_input.values()),
            segments_open=recording.open_count(),
            segments_closed=sum(1 for s in segments if s.closed),
            bytes_on_disk=sum(s.size for s in segments),
            free_disk_bytes=recording.free_bytes(),
            disk_full=recording.disk_full,
            last_error=recording.last_error,
        )
        try:
            self._session.put(self._status_key, self._store.encode(message), encoding=self._status_encoding)
        except zenoh.ZError as error:
            _log.warning("status not published: %s", error)

    # -- the history thread -----------------------------------------------------------------

    def _enqueue_query(self, query: zenoh.Query) -> None:
        try:
            self._queries.put_nowait(query)
        except queue.Full:
            query.reply_err("history: this recorder is busy with 64 queries; ask again shortly")

    def _history_loop(self) -> None:
        while not self._stop.is_set():
            try:
                query = self._queries.get(timeout=0.2)
            except queue.Empty:
                continue
            with query:
                try:
                    self._history.answer(query)
                except Exception:  # noqa: BLE001 - one bad query must not end the thread
                    _log.exception("history query failed")
                    query.reply_err("history: internal error (see the recorder's log)")


def prepare_folder(folder: Path) -> list[str]:
    """Make sure `folder` exists and is writable, and repair the `.part` files a crash left in it.

    Returns one line per repaired file; TelemetryError naming the folder when it cannot be used."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".recorder-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise TelemetryError(f"recording folder {folder}: cannot write there: {error.strerror or error}") from None
    lines = []
    for segment in list_segments(folder):
        if segment.path.name.endswith(PART_SUFFIX):
            try:
                saved = recover_segment(segment.path)
            except TelemetryError as error:  # one unreadable file must not keep the fleet unrecorded
                lines.append(f"left {segment.path} as it is: {error}")
                continue
            lines.append(f"repaired {segment.path}: {saved.samples} samples saved in {saved.path.name}")
    return lines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recorder", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, help="fleet config: its `recording:` section, and each stream's QoS")
    parser.add_argument("--name", default="recorder", help="this recorder's name: its status key (default recorder)")
    parser.add_argument("--folder", type=Path, help="where segments go (default: the config's recording.folder)")
    parser.add_argument("--region", help="record only this region (one recorder per region shares the load)")
    parser.add_argument("--vehicle", action="append", default=[], metavar="NAME",
                        help="record only this vehicle (repeat for several)")
    parser.add_argument("--topic", action="append", default=[], metavar="PATTERN",
                        help="record only topics matching this shell pattern, e.g. '/imu*' (repeat for several)")
    parser.add_argument("--segment-s", type=float, metavar="S", help="segment length in seconds")
    parser.add_argument("--segment-mb", type=float, metavar="MB", help="segment size limit in MB")
    parser.add_argument("--keep-mb", type=float, metavar="MB", help="retention: delete the oldest past this total")
    parser.add_argument("--keep-h", type=float, metavar="H", help="retention: delete segments older than this")
    parser.add_argument("--fsync", action="store_true", help="fsync every flush (power-loss safety; costs IO)")
    parser.add_argument("--no-stats", action="store_true", help="do not record the aggregator's stats")
    parser.add_argument("--nice", type=int, default=0, metavar="N",
                        help="lower this process's CPU priority by N (0-19): on a machine shared with the live "
                        "path (routers, bridges, aggregator), recording should be the one that waits")
    parser.add_argument("--max-query-samples", type=int, default=HistoryLimits.max_samples, metavar="N",
                        help=f"most samples one history query gets (default {HistoryLimits.max_samples})")
    add_session_arguments(parser, default_mode="client")
    return parser


def settings_from_args(args: argparse.Namespace, store: TypeStore) -> tuple[RecorderSettings, SessionOptions]:
    fleet = load_fleet_config(args.config, store) if args.config else None
    keys = KeySpace(fleet.key_root) if fleet else KeySpace()
    recording = fleet.recording if fleet else None
    region = validate_name(args.region, "region") if args.region else None
    name = validate_name(args.name, "recorder")
    for value, flag in ((args.segment_s, "--segment-s"), (args.segment_mb, "--segment-mb"),
                        (args.keep_mb, "--keep-mb"), (args.keep_h, "--keep-h")):
        if value is not None and value <= 0:
            raise TelemetryError(f"{flag}: must be > 0, got {value:g}")
    if args.max_query_samples <= 0:
        raise TelemetryError(f"--max-query-samples: must be > 0, got {args.max_query_samples}")
    folder = args.folder or Path(recording.folder if recording else "recordings")
    streams = tuple(RecordedStreams(p if p.startswith(("/", "*")) else "/" + p) for p in args.topic)
    selection = Selection(
        tuple(validate_name(v, "vehicle") for v in args.vehicle) or (recording.vehicles if recording else ()),
        streams or (recording.streams if recording else ()),
    )
    limits = SegmentLimits(
        duration_s=args.segment_s or (recording.segment_s if recording else SegmentLimits.duration_s),
        max_bytes=int((args.segment_mb or (recording.segment_mb if recording else 512.0)) * 1e6),
        retention_bytes=_mb(args.keep_mb or (recording.retention.max_total_mb if recording else None)),
        retention_age_s=_hours(args.keep_h or (recording.retention.max_age_h if recording else None)),
        fsync=args.fsync,
    )
    session = options_from_args(args)
    if fleet is not None and not session.connect and session.config_path is None:
        session = replace(session, connect=fleet.cloud.listen)
    settings = RecorderSettings(keys, name, folder.resolve(), region, selection, limits,
                                HistoryLimits(max_samples=args.max_query_samples), fleet, not args.no_stats)
    return settings, session


def _mb(value: float | None) -> int | None:
    return None if value is None else int(value * 1e6)


def _hours(value: float | None) -> float | None:
    return None if value is None else value * 3600.0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_console("recorder", lambda: _serve(args))


def _serve(args: argparse.Namespace) -> int:
    store = TypeStore.from_environment()
    settings, session_options = settings_from_args(args, store)
    if not 0 <= args.nice <= 19:
        raise TelemetryError(f"--nice: must be in 0..19, got {args.nice}")
    os.nice(args.nice)
    for line in prepare_folder(settings.folder):
        print(f"recorder: {line}", flush=True)
    stop = stop_on_signals()
    return run(settings, session_options, store, stop)


def run(settings: RecorderSettings, options: SessionOptions, store: TypeStore, stop: threading.Event) -> int:
    """Open the session, record until `stop`, close every segment (also on errors)."""
    with BackgroundSession(options, name="recorder") as link:
        session = link.wait_or_stop(stop)
        if session is None:
            return 0
        service = RecorderService(session, settings, store)
        service.start()
        print(f"recorder {settings.name} ready: {settings.folder}", flush=True)
        try:
            stop.wait()
        finally:
            service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
