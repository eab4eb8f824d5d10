"""A recording put back onto Zenoh, under another key root, with the timing it was received with.

Several files (one vehicle's consecutive segments, or several vehicles') are merged into one
stream in receive-time order. Sample i goes out at `t0 + (receive_i - receive_0) / rate`,
so the gaps between samples are the recorded ones (divided by `rate`). Its attachment keeps
the recorded sequence, and its source time is shifted by the same amount as its put time,
so `put - source` equals the recorded `receive - source`: the aggregator watching the replay
root sees the latency distribution of the recording, not the replay's.

Payloads go out exactly as recorded, on `<key_root>/data/<region>/<vehicle>/<topic>`, region and
vehicle from each file's `telemetry` metadata record. The root defaults to `replay` so that a
replay never mixes with live data. The pacing (`play`) is shared with the ROS side
(telemetry/ros/replay_ros.py), which hands it a different `send`.
"""

from __future__ import annotations

import heapq
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import zenoh
from mcap.exceptions import McapError
from mcap.reader import make_reader

from telemetry.bridge.plan import starts_with_header
from telemetry.codec import TypeStore
from telemetry.codec.attachment import pack_fields
from telemetry.errors import TelemetryError
from telemetry.keys import KeySpace
from telemetry.net.declarations import undeclare_all
from telemetry.net.session import BackgroundSession
from telemetry.net.zenoh_config import SessionOptions
from telemetry.recorder.archive import RecordedSample, file_metadata, read_samples
from telemetry.recorder.layout import PART_SUFFIX
from telemetry.sim.schedule import LatenessSummary, LatenessWindow

__all__ = [
    "DEFAULT_REPLAY_ROOT",
    "RecordedChannel",
    "ReplayOptions",
    "ReplayReport",
    "ReplaySource",
    "SendSample",
    "ZenohOutlet",
    "merged_samples",
    "open_sources",
    "play",
    "recording_start_ns",
    "resolve_time_ns",
    "run_replay",
    "schedule_ns",
    "shifted_source_ns",
    "wait_until_ns",
    "wire_sequence",
]

_log = logging.getLogger(__name__)

DEFAULT_REPLAY_ROOT = "replay"
#: The last part of each wait polls the clock, as a sleep overshoots by 50-100 µs. 200 µs gave
#: p99 15 µs of timing error for 16 % of a core at 1 kHz (100 µs: p99 77 µs, 6 %; measured here).
SPIN_NS = 200_000
#: Timing errors kept for the report (8 MB): about 17 minutes of a 1 kHz stream.
_TIMING_CAPACITY = 1 << 20
#: MCAP's sequence is the bridge's modulo 2**32; 0 there stood for a multiple of 2**32.
_U32 = 2**32
_NS_PER_S = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: MCAP: every record starts with opcode (u8) and length (u64); a Message with channel id,
#: sequence, log time and publish time before its data.
#: The gap between passes of a loop is the mean gap, and at least this.
_MIN_LOOP_GAP_NS = 1_000_000


@dataclass(frozen=True)
class ReplayOptions:
    """What to replay and how: times are absolute recorded receive times (ns since the epoch)."""

    files: tuple[Path, ...]
    key_root: str = DEFAULT_REPLAY_ROOT
    rate: float = 1.0
    start_ns: int | None = None
    end_ns: int | None = None
    loop: bool = False
    #: Wait up to this long for every publisher to be matched before the first sample
    #: (0: start at once): a subscriber that starts with the replay would miss its beginning.
    wait_subscribers_s: float = 0.0

    def __post_init__(self) -> None:
        if not self.files:
            raise TelemetryError("replay: no files given")
        if not (self.rate > 0 and math.isfinite(self.rate)):
            raise TelemetryError(f"replay: rate must be a finite number > 0, got {self.rate:g}")
        if self.start_ns is not None and self.end_ns is not None and self.end_ns < self.start_ns:
            raise TelemetryError(f"replay: end ({self.end_ns} ns) is before start ({self.start_ns} ns)")
        if self.wait_subscribers_s < 0:
            raise TelemetryError(f"replay: wait for subscribers must be >= 0 s, got {self.wait_subscribers_s:g}")
        KeySpace(self.key_root)  # a bad root fails here, before any file is opened


@dataclass(frozen=True)
class RecordedChannel:
    """One topic of a file as the recorder wrote it (`offered_qos` is rosbag2's YAML, or "")."""

    topic: str
    ros_type: str
    offered_qos: str


@dataclass(frozen=True)
class ReplaySource:
    """One closed segment to replay, and whose it is."""

    path: Path
    region: str
    vehicle: str
    channels: tuple[RecordedChannel, ...]
    first_receive_ns: int | None  # None: the file holds no sample


@dataclass(frozen=True)
class ReplayReport:
    """What a replay did; `timing_error` is |actual - target| put time (µs) per sample."""

    samples: int
    passes: int
    duration_s: float
    timing_error: LatenessSummary
    stopped: bool = False


#: Puts one sample: (index of its source, the sample, its put time in ns since the epoch).
SendSample = Callable[[int, RecordedSample, int], None]


# -- timing (pure) ---------------------------------------------------------------------


def schedule_ns(receive_ns: int, first_receive_ns: int, t0_ns: int, rate: float) -> int:
    """When a sample is due: `t0 + (receive - first receive) / rate` (integer exact at rate 1)."""
    offset_ns = receive_ns - first_receive_ns
    if rate == 1.0:
        return t0_ns + offset_ns
    return t0_ns + round(offset_ns / rate)


def shifted_source_ns(source_ns: int, receive_ns: int, put_ns: int) -> int:
    """The source time that keeps the recorded latency: `put - source == receive - source_recorded`."""
    return put_ns - (receive_ns - source_ns)


def resolve_time_ns(text: str | None, recording_start_ns: int) -> int | None:
    """`--start`/`--end` as absolute ns: seconds from the recording's start (`12.5`) or RFC 3339.

    An RFC 3339 time without an offset is refused: it would silently mean the local zone."""
    if text is None:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            raise TelemetryError(f"replay: time {text!r}: must be a finite number of seconds")
        return recording_start_ns + round(seconds * _NS_PER_S)
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise TelemetryError(
            f"replay: time {text!r}: expected seconds from the recording's start or an RFC 3339 time"
        ) from None
    if instant.tzinfo is None:
        raise TelemetryError(f"replay: time {text!r}: give a zone offset (Z or +01:00)")
    since = instant - _EPOCH
    return (since.days * 86_400 + since.seconds) * _NS_PER_S + since.microseconds * 1000


# -- the plan: which files, in which order --------------------------------------------


def open_sources(files: Sequence[Path]) -> tuple[ReplaySource, ...]:
    """Each file's identity and channels; files without a vehicle (the fleet stats) are skipped.

    TelemetryError for a `.part` (no summary, maybe still growing: `telemetry recover` it), a
    file that is missing or not MCAP, or when no file of a vehicle is left."""
    sources: list[ReplaySource] = []
    for path in files:
        if path.name.endswith(PART_SUFFIX):
            raise TelemetryError(f"{path}: an open or crashed segment (.part); repair it with "
                                 f"`telemetry recover {path}` and replay the .mcap it writes")
        channels, first_ns = _summary(path)
        metadata = file_metadata(path)
        region, vehicle = metadata.get("region"), metadata.get("vehicle")
        if not region or not vehicle:
            what = f"content={metadata['content']!r}" if "content" in metadata else "no region and vehicle"
            _log.warning("%s: not a vehicle's recording (%s); skipped", path, what)
            continue
        sources.append(ReplaySource(path, region, vehicle, channels, first_ns))
    if not sources:
        raise TelemetryError(f"replay: none of {', '.join(str(p) for p in files)} is a vehicle's recording "
                             "(no region and vehicle in its 'telemetry' metadata)")
    return tuple(sources)


def recording_start_ns(sources: Sequence[ReplaySource]) -> int:
    """The earliest receive time of all sources: what `--start 0` means."""
    starts = [source.first_receive_ns for source in sources if source.first_receive_ns is not None]
    if not starts:
        raise TelemetryError(f"replay: {', '.join(str(s.path) for s in sources)}: no samples")
    return min(starts)


def merged_samples(
    sources: Sequence[ReplaySource], start_ns: int | None = None, end_ns: int | None = None
) -> Iterator[tuple[int, RecordedSample]]:
    """(source index, sample) of every source in [start_ns, end_ns], in receive-time order.

    Each file is read lazily by its chunk index, so memory stays at a few chunks per file."""
    streams = [_indexed(index, read_samples(source.path, None, start_ns, end_ns))
               for index, source in enumerate(sources)]
    return heapq.merge(*streams, key=lambda item: item[1].receive_ns)


def _indexed(index: int, samples: Iterator[RecordedSample]) -> Iterator[tuple[int, RecordedSample]]:
    for sample in samples:
        yield index, sample


def _summary(path: Path) -> tuple[tuple[RecordedChannel, ...], int | None]:
    """The channels and first receive time a closed segment's summary lists."""
    if not path.is_file():
        raise TelemetryError(f"{path}: no such file")
    try:
        with path.open("rb") as stream:
            summary = make_reader(stream).get_summary()
    except (McapError, OSError, ValueError) as error:
        raise TelemetryError(f"{path}: not a readable MCAP file ({error})") from None
    if summary is None:
        raise TelemetryError(f"{path}: no summary (written by a crashed recorder?); "
                             f"repair it with `telemetry recover {path}`")
    channels = tuple(
        RecordedChannel(channel.topic, summary.schemas[channel.schema_id].name if channel.schema_id in summary.schemas
                        else "", channel.metadata.get("offered_qos_profiles", ""))
        for channel in summary.channels.values()
    )
    statistics = summary.statistics
    first_ns = statistics.message_start_time if statistics is not None and statistics.message_count else None
    return channels, first_ns


# -- pacing ----------------------------------------------------------------------------


def wait_until_ns(target_ns: int, stop: threading.Event, spin_ns: int = SPIN_NS) -> int | None:
    """Wait until `time.monotonic_ns()` reaches `target_ns`: the clock then, or None if `stop` was set.

    Sleeps most of the gap (on `stop`, so a stop is seen at once) and polls the clock for the
    last `spin_ns`, yielding the GIL between polls: a sleep alone overshoots by 50-100 µs."""
    while True:
        if stop.is_set():
            return None
        now_ns = time.monotonic_ns()
        remaining_ns = target_ns - now_ns
        if remaining_ns <= 0:
            return now_ns
        if remaining_ns > spin_ns:
            stop.wait((remaining_ns - spin_ns) / 1e9)
        else:
            os.sched_yield()  # lets other threads take the GIL; time.sleep(0) would sleep ~50 µs


@dataclass
class _Progress:
    """The pacing loop's counters across passes."""

    errors: LatenessWindow = field(default_factory=lambda: LatenessWindow(_TIMING_CAPACITY))
    samples: int = 0
    passes: int = 0
    stopped: bool = False
    first_put_ns: int = 0  # monotonic
    last_put_ns: int = 0


def play(
    sources: Sequence[ReplaySource], options: ReplayOptions, send: SendSample, stop: threading.Event
) -> ReplayReport:
    """Send every selected sample at its scheduled time; again and again with `options.loop`.

    A pass that falls behind sends back to back until it has caught up (nothing is skipped:
    a skipped sample would read as loss). TelemetryError when the selection holds no sample."""
    progress = _Progress()
    epoch_offset_ns = time.time_ns() - time.monotonic_ns()
    t0_ns: int | None = None  # the first pass starts when its first sample has been read
    while True:
        next_t0_ns = _play_pass(sources, options, send, stop, t0_ns, epoch_offset_ns, progress)
        if next_t0_ns is None:
            break
        progress.passes += 1
        if not options.loop or stop.is_set():
            break
        t0_ns = next_t0_ns
    if progress.samples == 0 and not progress.stopped:
        raise TelemetryError(f"replay: no samples in {', '.join(str(s.path) for s in sources)}"
                             f"{_range_text(options)}")
    duration_s = (progress.last_put_ns - progress.first_put_ns) / 1e9
    return ReplayReport(progress.samples, progress.passes, duration_s, progress.errors.take(), progress.stopped)


def _play_pass(
    sources: Sequence[ReplaySource], options: ReplayOptions, send: SendSample, stop: threading.Event,
    t0_ns: int | None, epoch_offset_ns: int, progress: _Progress,
) -> int | None:
    """One pass; the t0 of the next (one mean gap after the last sample), None if empty or stopped."""
    first_ns = start_ns = last_target_ns = 0
    count = 0
    for index, sample in merged_samples(sources, options.start_ns, options.end_ns):
        if count == 0:
            first_ns, start_ns = sample.receive_ns, time.monotonic_ns() if t0_ns is None else t0_ns
            progress.first_put_ns = progress.first_put_ns or start_ns
        last_target_ns = schedule_ns(sample.receive_ns, first_ns, start_ns, options.rate)
        now_ns = wait_until_ns(last_target_ns, stop)
        if now_ns is None:
            progress.stopped = True
            return None
        send(index, sample, epoch_offset_ns + now_ns)
        progress.errors.add(abs(now_ns - last_target_ns))
        progress.samples += 1
        progress.last_put_ns = now_ns
        count += 1
    if count == 0:
        return None
    mean_gap_ns = (last_target_ns - start_ns) // max(count - 1, 1)
    return last_target_ns + max(mean_gap_ns, _MIN_LOOP_GAP_NS)


def _range_text(options: ReplayOptions) -> str:
    if options.start_ns is None and options.end_ns is None:
        return ""
    return f" between {options.start_ns or 'the start'} and {options.end_ns or 'the end'} ns"


def wire_sequence(recorded: int) -> int:
    """The attachment's sequence (from 1) for a recorded one (modulo 2**32, so 0 means 2**32)."""
    return recorded or _U32


# -- Zenoh -----------------------------------------------------------------------------


class ZenohOutlet:
    """One publisher per key of the sources' channels; `send` puts a sample with its attachment."""

    def __init__(self, session: zenoh.Session, sources: Sequence[ReplaySource], keys: KeySpace,
                 store: TypeStore) -> None:
        self._declared: list[zenoh.Publisher] = []
        by_key: dict[str, tuple[zenoh.Publisher, str]] = {}
        self._routes: dict[tuple[int, str], tuple[zenoh.Publisher, bool]] = {}
        for index, source in enumerate(sources):
            for channel in source.channels:
                key = keys.data(source.region, source.vehicle, channel.topic)
                if key not in by_key:
                    by_key[key] = (self._declare(session, key, channel.ros_type), channel.ros_type)
                publisher, ros_type = by_key[key]
                if ros_type != channel.ros_type:
                    raise TelemetryError(f"{source.path}: {channel.topic} is {channel.ros_type} here but "
                                         f"{ros_type} in another file of {source.vehicle}")
                self._routes[(index, channel.topic)] = (publisher, starts_with_header(store, ros_type))

    def _declare(self, session: zenoh.Session, key: str, ros_type: str) -> zenoh.Publisher:
        # BLOCK, not DROP: a replay feeds analysis, where a sample lost on the way would read
        # as a gap in the recording; its cost is at worst a late sample, shown in the report.
        publisher = session.declare_publisher(key, encoding=zenoh.Encoding.APPLICATION_CDR.with_schema(ros_type),
                                              congestion_control=zenoh.CongestionControl.BLOCK)
        self._declared.append(publisher)
        return publisher

    def send(self, index: int, sample: RecordedSample, put_ns: int) -> None:
        publisher, stamp_from_header = self._routes[(index, sample.topic)]
        source_ns = shifted_source_ns(sample.source_ns, sample.receive_ns, put_ns)
        attachment = pack_fields(wire_sequence(sample.sequence), source_ns, put_ns, stamp_from_header)
        publisher.put(sample.data, attachment=attachment)

    def wait_matched(self, timeout_s: float, stop: threading.Event) -> bool:
        """Wait until every publisher has a matching subscriber (True) or `timeout_s` passes."""
        deadline = time.monotonic() + timeout_s
        while not all(publisher.matching_status for publisher in self._declared):
            if time.monotonic() >= deadline or stop.wait(0.02):
                return False
        return True

    def close(self) -> None:
        undeclare_all(self._declared)


def run_replay(
    options: ReplayOptions, session_options: SessionOptions, store: TypeStore, stop: threading.Event,
    sources: Sequence[ReplaySource] | None = None,
) -> ReplayReport:
    """Open a session through telemetry.net, replay `options.files` onto it, close everything.

    `sources`: `open_sources(options.files)` when the caller has it already (the CLI needs it
    to resolve `--start`). Returns an empty report when `stop` is set before the session opened."""
    sources = open_sources(options.files) if sources is None else sources
    keys = KeySpace(options.key_root)
    with BackgroundSession(session_options, name="replay") as link:
        session = link.wait_or_stop(stop)
        if session is None:
            return ReplayReport(0, 0, 0.0, LatenessWindow(1).take(), stopped=True)
        outlet = ZenohOutlet(session, sources, keys, store)
        try:
            if options.wait_subscribers_s > 0 and not outlet.wait_matched(options.wait_subscribers_s, stop):
                _log.warning("replay: not every key has a subscriber after %.1f s; starting anyway",
                             options.wait_subscribers_s)
            _log.info("replay: %d files onto %s/data at rate %g", len(sources), keys.root, options.rate)
            report = play(sources, options, outlet.send, stop)
        finally:
            outlet.close()
    _log.info("replay: %d samples in %.3f s, timing error p50 %.0f µs, p99 %.0f µs, max %.0f µs", report.samples,
              report.duration_s, report.timing_error.p50_us, report.timing_error.p99_us, report.timing_error.max_us)
    return report
