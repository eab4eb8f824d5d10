"""The aggregator's Zenoh callbacks: record each sample in as few operations as possible.

A data sample costs: one dict lookup by key, the receive time, and three appends (the raw
32 attachment bytes, the receive time, the payload size). The attachments are parsed later,
on the aggregator's tick, all at once with numpy (`parse_attachments`), so the callback
never decodes anything. A SampleBatch (on the same key, no attachment, its encoding says
so) has its head kept and decoded on the tick. The bridges' health reports are kept whole
for the tick.

A vehicle on rmw_zenoh sends its own 33-byte attachment (sequence, source time, publisher
GID) on its own keys; `on_rmw_data` translates each into the fleet's 32-byte layout on
arrival (its `header.stamp` as the source time where the type has a header, rmw_zenoh's
timestamp as the send time), so from the inbox on such a stream is one like any other.
Its publishers' liveliness tokens say whether it is present.

Everything the callbacks fill is swapped out under one lock by `Ingest.drain()`.
"""

from __future__ import annotations

import struct
import threading
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from telemetry.codec.attachment import ATTACHMENT_DTYPE, ATTACHMENT_SIZE, pack_fields
from telemetry.codec.batch import batch_head, is_batch
from telemetry.codec.rmw_zenoh import parse_token, unpack_attachment_fields
from telemetry.codec.stamp import header_stamp_ns
from telemetry.errors import CodecError, KeyExprError
from telemetry.fleet.vehicle_key import VehicleKey
from telemetry.keys import KeyKind, KeySpace, ParsedKey, RmwZenohMap, validate_name

__all__ = ["BadInput", "HealthReport", "Inbox", "Ingest", "parse_attachments"]


_MAX_REMEMBERED_KEYS = 10_000
#: Region and vehicle name charged with input that names no valid source.
UNKNOWN_SOURCE = "_unknown"
_UNKNOWN = VehicleKey(UNKNOWN_SOURCE, UNKNOWN_SOURCE)
#: What the callbacks may hold between two ticks (48 bytes a single sample; a batch's head,
#: ~21 bytes a sample, plus its Python objects): beyond it, input is dropped and counted as
#: overload, so memory stays bounded when the aggregator cannot keep up. 40 MB of batches is
#: 1.6 s of 1 000 000 samples/s in batches of 50 (a tick late by more than 1 s).
MAX_PENDING_SAMPLES = 1_000_000
MAX_PENDING_BATCH_BYTES = 40 * 1024 * 1024
#: What one kept batch costs beyond its head's bytes: the bytes object's header, the tuple,
#: two ints and the list slot (measured with sys.getsizeof on CPython 3.11).
KEPT_BATCH_OVERHEAD_BYTES = 160


class BadInput(StrEnum):
    """Names of the bad-input counters, as reported per source (msg/BadInputCount's `kind`)."""

    NO_ATTACHMENT = "no_attachment"
    BAD_ATTACHMENT = "bad_attachment"  # wrong length
    UNKNOWN_VERSION = "unknown_version"
    BAD_KEY = "bad_key"
    BAD_BATCH = "bad_batch"
    SEQUENCE_JUMP = "sequence_jump"
    FLOOD = "flood"
    BAD_HEALTH = "bad_health"  # a bridge health report that does not decode
    OVERLOAD = "overload"  # dropped because the aggregator fell behind (MAX_PENDING_*)


@dataclass
class Inbox:
    """What arrived for one stream since the last tick."""

    parsed: ParsedKey
    attachments: bytearray = field(default_factory=bytearray)
    receive_ns: array[int] = field(default_factory=lambda: array("q"))
    size: array[int] = field(default_factory=lambda: array("q"))
    #: (receive ns, batch head, bytes of sample data left out); data length None: the payload
    #: did not parse as a batch and is kept whole, for the tick to count as bad input.
    batches: list[tuple[int, bytes, int | None]] = field(default_factory=list)
    ros_type: str = ""
    #: rmw_zenoh streams only: the source time is the payload's header.stamp (else rmw_zenoh's
    #: timestamp).
    stamp_from_header: bool = False


@dataclass(frozen=True)
class HealthReport:
    """One msg/BridgeHealth as it arrived, decoded on the tick."""

    region: str
    vehicle: str
    receive_ns: int
    payload: bytes


@dataclass
class Drained:
    """One tick's worth of input: per-stream inboxes and per-source bad-input counts."""

    inboxes: dict[str, Inbox]  # by the stream's data key
    bad: dict[VehicleKey, dict[str, int]]  # (region, vehicle) -> counter -> count
    presence: list[tuple[str, str, bool, int]]  # (region, vehicle, alive, time ns)
    health: list[HealthReport] = field(default_factory=list)


def parse_attachments(raw: bytes | bytearray) -> np.ndarray:
    """All attachments of one inbox as a structured array (no copy)."""
    return np.frombuffer(raw, dtype=ATTACHMENT_DTYPE)


class Ingest:
    """Zenoh callbacks for data, batches and liveliness; `drain()` hands their work over."""

    def __init__(self, keys: KeySpace, rmw_zenoh: RmwZenohMap | None = None,
                 starts_with_header: Callable[[str], bool] = lambda ros_type: False) -> None:
        self._keys = keys
        self._rmw_zenoh = rmw_zenoh or RmwZenohMap(())
        self._starts_with_header = starts_with_header
        self._publishers: dict[VehicleKey, set[str]] = {}  # rmw_zenoh vehicle -> its live publisher tokens
        self._lock = threading.Lock()
        self._inboxes: dict[str, Inbox] = {}  # by the stream's data key
        self._parsed: dict[str, ParsedKey | None] = {}  # any key seen -> its parse (None: bad)
        self._bad: dict[VehicleKey, dict[str, int]] = {}
        self._presence: list[tuple[str, str, bool, int]] = []
        self._health: list[HealthReport] = []
        self._pending_samples = 0
        self._pending_batch_bytes = 0

    def on_data(self, sample: Any) -> None:
        """A message on telemetry/data/...: one sample with its attachment (the hot path), or
        several as a SampleBatch (no attachment; its encoding says so)."""
        receive_ns = time.time_ns()
        key = str(sample.key_expr)
        attachment = sample.attachment
        if attachment is None:
            self._without_attachment(key, sample, receive_ns)
            return
        with self._lock:
            inbox = self._inboxes.get(key)
            if inbox is None:
                inbox = self._new_inbox(key, KeyKind.DATA, sample)
                if inbox is None:
                    return
            raw = attachment.to_bytes()
            if len(raw) != ATTACHMENT_SIZE:
                self._count(inbox.parsed, BadInput.BAD_ATTACHMENT)
                return
            self._append(inbox, raw, receive_ns, len(sample.payload))

    def _without_attachment(self, key: str, sample: Any, receive_ns: int) -> None:
        if is_batch(str(sample.encoding)):
            self._record_batch(key, sample, receive_ns)
            return
        with self._lock:
            inbox = self._inboxes.get(key) or self._new_inbox(key, KeyKind.DATA, sample)
            if inbox is not None:
                self._count(inbox.parsed, BadInput.NO_ATTACHMENT)

    def _record_batch(self, key: str, sample: Any, receive_ns: int) -> None:
        """Keep a batch's head (the columns, not the samples' bytes, which the stats never
        read) for the tick to decode."""
        payload = sample.payload.to_bytes()
        try:
            payload, data_len = batch_head(payload)
        except (ValueError, struct.error):
            data_len = None  # kept whole: the tick decodes it and counts it as bad input
        with self._lock:
            inbox = self._inboxes.get(key)
            if inbox is None:
                inbox = self._new_inbox(key, KeyKind.DATA, sample)
                if inbox is None:
                    return
            kept_bytes = len(payload) + KEPT_BATCH_OVERHEAD_BYTES
            if self._pending_batch_bytes + kept_bytes > MAX_PENDING_BATCH_BYTES:
                self._count(inbox.parsed, BadInput.OVERLOAD)
                return
            self._pending_batch_bytes += kept_bytes
            inbox.batches.append((receive_ns, payload, data_len))

    def on_rmw_data(self, sample: Any) -> None:
        """A sample of an rmw_zenoh vehicle, on its own key: its attachment is translated here."""
        receive_ns = time.time_ns()
        key = str(sample.key_expr)
        with self._lock:
            inbox = self._inboxes.get(key)
            if inbox is None:
                inbox = self._new_rmw_inbox(key)
                if inbox is None:
                    return
            attachment = sample.attachment
            if attachment is None:
                self._count(inbox.parsed, BadInput.NO_ATTACHMENT)
                return
            payload = sample.payload.to_bytes()
            try:
                # The GID is not kept: a restarted node is a new publisher numbering from 1
                # again, which the sequence tracker counts as a restart, not as loss.
                sequence, sent_ns, _gid = unpack_attachment_fields(attachment.to_bytes())
                source_ns = header_stamp_ns(payload) if inbox.stamp_from_header else sent_ns
                translated = pack_fields(sequence, source_ns, sent_ns, inbox.stamp_from_header)
            except CodecError:
                self._count(inbox.parsed, BadInput.BAD_ATTACHMENT)
                return
            self._append(inbox, translated, receive_ns, len(payload))

    def _append(self, inbox: Inbox, attachment: bytes, receive_ns: int, size: int) -> None:
        """One sample into its inbox (the lock held), unless the tick is too far behind."""
        if self._pending_samples >= MAX_PENDING_SAMPLES:
            self._count(inbox.parsed, BadInput.OVERLOAD)
            return
        self._pending_samples += 1
        inbox.attachments += attachment
        inbox.receive_ns.append(receive_ns)
        inbox.size.append(size)

    def on_rmw_liveliness(self, sample: Any) -> None:
        """An rmw_zenoh node's graph token: a vehicle is present while one of its publishers is."""
        now_ns = time.time_ns()
        key = str(sample.key_expr)
        try:
            owner = self._rmw_zenoh.publisher(parse_token(key))
        except CodecError:
            return
        if owner is None:
            return
        vehicle = VehicleKey(owner[0].region, owner[0].vehicle)
        alive = str(sample.kind).upper().endswith("PUT")
        with self._lock:
            live = self._publishers.setdefault(vehicle, set())
            was_present = bool(live)
            if alive:
                live.add(key)
            else:
                live.discard(key)
            if bool(live) != was_present:
                self._presence.append((vehicle.region, vehicle.vehicle, bool(live), now_ns))

    def on_liveliness(self, sample: Any) -> None:
        """A vehicle's token appeared (PUT) or went away (DELETE)."""
        now_ns = time.time_ns()
        try:
            parsed = self._keys.parse(str(sample.key_expr))
        except KeyExprError:
            return
        if parsed.kind is not KeyKind.ALIVE or parsed.region is None or parsed.vehicle is None:
            return
        alive = str(sample.kind).upper().endswith("PUT")
        with self._lock:
            self._presence.append((parsed.region, parsed.vehicle, alive, now_ns))

    def on_health(self, sample: Any) -> None:
        """A bridge's msg/BridgeHealth (about once a second per vehicle): kept whole for the tick."""
        receive_ns = time.time_ns()
        try:
            parsed = self._keys.parse(str(sample.key_expr))
        except KeyExprError:
            return
        if parsed.kind is not KeyKind.HEALTH or parsed.region is None or parsed.vehicle is None:
            return
        report = HealthReport(parsed.region, parsed.vehicle, receive_ns, sample.payload.to_bytes())
        with self._lock:
            if len(self._health) < _MAX_REMEMBERED_KEYS:
                self._health.append(report)

    def drain(self) -> Drained:
        """Everything recorded since the last call; the callbacks start on fresh buffers."""
        with self._lock:
            drained = Drained(self._inboxes, self._bad, self._presence, self._health)
            self._inboxes = {
                key: Inbox(inbox.parsed, ros_type=inbox.ros_type, stamp_from_header=inbox.stamp_from_header)
                for key, inbox in drained.inboxes.items()
            }
            self._bad, self._presence, self._health = {}, [], []
            self._pending_samples = self._pending_batch_bytes = 0
        return drained

    def forget(self, key: str) -> None:
        """Stop tracking a stream (its data key; evicted after a long silence); it is re-created
        if it returns."""
        with self._lock:
            self._inboxes.pop(key, None)
            self._parsed.pop(key, None)

    def _new_inbox(self, key: str, kind: KeyKind, sample: Any) -> Inbox | None:
        if key in self._parsed and self._parsed[key] is None:
            self._count_bad_key(key)
            return None
        try:
            parsed: ParsedKey | None = self._keys.parse(key)
        except KeyExprError:
            parsed = None
        if parsed is None or parsed.kind is not kind:
            if len(self._parsed) >= _MAX_REMEMBERED_KEYS:  # a rogue source inventing keys
                self._parsed = {k: v for k, v in self._parsed.items() if v is not None}
            self._parsed[key] = None
            self._count_bad_key(key)
            return None
        self._parsed[key] = parsed
        encoding = str(sample.encoding)
        # A batch names its samples' type inside it; a sample, as its encoding's schema.
        ros_type = "" if is_batch(encoding) else encoding.partition(";")[2]
        inbox = Inbox(parsed, ros_type=ros_type)
        self._inboxes[key] = inbox
        return inbox

    def _new_rmw_inbox(self, key: str) -> Inbox | None:
        if key in self._parsed:  # seen, and owned by no configured vehicle
            return None
        stream = self._rmw_zenoh.stream(key)
        if stream is None:
            # Another robot's topic in the same domain, or a key that is not rmw_zenoh's: not
            # ours to judge, but remembered so the next sample costs one lookup.
            if len(self._parsed) >= _MAX_REMEMBERED_KEYS:
                self._parsed = {k: v for k, v in self._parsed.items() if v is not None}
            self._parsed[key] = None
            return None
        inbox = Inbox(stream.parsed, ros_type=stream.ros_type,
                      stamp_from_header=self._starts_with_header(stream.ros_type))
        self._inboxes[key] = inbox
        return inbox

    def _count(self, parsed: ParsedKey | None, what: str) -> None:
        source = VehicleKey(parsed.region or UNKNOWN_SOURCE, parsed.vehicle or UNKNOWN_SOURCE) if parsed else _UNKNOWN
        self._count_source(source, what)

    def _count_bad_key(self, key: str) -> None:
        """A key that does not parse is charged to the region/vehicle its chunks name, when
        those are valid names (so the stats key can carry them), else to the unknown source."""
        chunks = key.split("/")[1 + self._keys.root.count("/"):]
        region = _source_name(chunks[1] if len(chunks) > 1 else "")
        vehicle = _source_name(chunks[2] if len(chunks) > 2 else "")
        known = UNKNOWN_SOURCE not in (region, vehicle)
        self._count_source(VehicleKey(region, vehicle) if known else _UNKNOWN, BadInput.BAD_KEY)

    def _count_source(self, source: VehicleKey, what: str) -> None:
        if source not in self._bad and len(self._bad) >= _MAX_REMEMBERED_KEYS:
            source = _UNKNOWN
        counters = self._bad.setdefault(source, {})
        counters[what] = counters.get(what, 0) + 1


def _source_name(chunk: str) -> str:
    """`chunk` when it is a valid region or vehicle name, else UNKNOWN_SOURCE."""
    try:
        return validate_name(chunk[:64], "source")
    except KeyExprError:
        return UNKNOWN_SOURCE

