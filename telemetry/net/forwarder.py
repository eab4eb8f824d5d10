"""The Zenoh side of the vehicle bridge: publishers, liveliness token, meta and clock answers.

The ROS side hands every raw sample to `ZenohForwarder.forward()`; this class decides
(downsample, batch), stamps the attachment and puts. It works before the session exists
(samples are counted as not routed), so the ROS node can start while no router is up, and
`attach()` declares everything once the session opens.
"""

from __future__ import annotations

import dataclasses
import logging
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import zenoh

from telemetry.bridge.batcher import SampleBatcher
from telemetry.bridge.plan import BridgedStream, catalogue_json
from telemetry.bridge.rate_limit import RateLimiter
from telemetry.codec import CodecError, TypeStore
from telemetry.codec.attachment import pack_fields
from telemetry.codec.stamp import header_stamp_ns
from telemetry.config import Priority
from telemetry.keys import KeySpace
from telemetry.net.declarations import undeclare_all

__all__ = ["StreamCounters", "ZenohForwarder"]

_log = logging.getLogger(__name__)

_PRIORITIES = {
    Priority.REAL_TIME: zenoh.Priority.REAL_TIME,
    Priority.INTERACTIVE_HIGH: zenoh.Priority.INTERACTIVE_HIGH,
    Priority.INTERACTIVE_LOW: zenoh.Priority.INTERACTIVE_LOW,
    Priority.DATA_HIGH: zenoh.Priority.DATA_HIGH,
    Priority.DATA: zenoh.Priority.DATA,
    Priority.DATA_LOW: zenoh.Priority.DATA_LOW,
    Priority.BACKGROUND: zenoh.Priority.BACKGROUND,
}
_CLOCK_REPLY = struct.Struct("<q")


@dataclass
class StreamCounters:
    """What happened to one stream's samples since the bridge started."""

    received: int = 0
    forwarded: int = 0
    downsampled: int = 0
    not_routed: int = 0  # arrived before the Zenoh session was open
    malformed: int = 0
    put_errors: int = 0


@dataclass
class _Outlet:
    stream: BridgedStream
    limiter: RateLimiter | None
    batcher: SampleBatcher | None
    flags: int
    publisher: Any = None
    sequence: int = 0
    counters: StreamCounters = field(default_factory=StreamCounters)
    warned: bool = False


class ZenohForwarder:
    """Puts a vehicle's streams under the fleet key space on one Zenoh session."""

    def __init__(self, keys: KeySpace, region: str, vehicle: str, store: TypeStore) -> None:
        self._keys = keys
        self._region = region
        self._vehicle = vehicle
        self._store = store
        self._outlets: list[_Outlet] = []
        self._session: zenoh.Session | None = None
        self._declared: list[Any] = []
        self._lock = threading.Lock()  # guards declarations: attach() runs on the opener thread
        #: Bridge-wide problem counts (set by the ROS side), reported in the catalogue.
        self.health: dict[str, int] = {}

    @property
    def streams(self) -> list[BridgedStream]:
        return [outlet.stream for outlet in self._outlets]

    def add_stream(self, stream: BridgedStream) -> int:
        """Register a stream (before or after the session opened); returns its index."""
        outlet = _Outlet(
            stream=stream,
            limiter=RateLimiter(stream.max_rate_hz) if stream.max_rate_hz else None,
            batcher=SampleBatcher(self._store, stream.ros_type, stream.stamp_from_header, stream.batch_ms)
            if stream.batch_ms
            else None,
            flags=1 if stream.stamp_from_header else 0,
        )
        with self._lock:
            self._outlets.append(outlet)
            if self._session is not None:
                outlet.publisher = self._declare_publisher(self._session, stream)
        return len(self._outlets) - 1

    def attach(self, session: zenoh.Session) -> None:
        """Declare the token, queryables and every stream's publisher on an open session."""
        with self._lock:
            self._session = session
            self._declared.append(session.liveliness().declare_token(self._keys.alive(self._region, self._vehicle)))
            self._declared.append(session.declare_queryable(self._keys.meta(self._region, self._vehicle), self._answer_meta))
            self._declared.append(session.declare_queryable(self._keys.clock(self._region, self._vehicle), self._answer_clock))
            for outlet in self._outlets:
                outlet.publisher = self._declare_publisher(session, outlet.stream)
        _log.info("forwarding %d streams as %s/%s", len(self._outlets), self._region, self._vehicle)

    def forward(self, index: int, payload: bytes, receive_ns: int) -> None:
        """One raw ROS sample arrived: downsample, stamp, batch or put. The hot path."""
        outlet = self._outlets[index]
        counters = outlet.counters
        counters.received += 1
        if outlet.limiter is not None and not outlet.limiter.admit(receive_ns):
            counters.downsampled += 1
            return
        source_ns = receive_ns
        if outlet.flags:
            try:
                source_ns = header_stamp_ns(payload)
            except CodecError as error:
                self._malformed(outlet, error)
                return
        publisher = outlet.publisher
        if publisher is None:
            counters.not_routed += 1
            return
        outlet.sequence += 1
        if outlet.batcher is not None:
            if outlet.batcher.due(receive_ns):  # the batch is full before this sample joins
                self._flush(outlet)
            outlet.batcher.add(outlet.sequence, source_ns, payload, receive_ns)
            return
        try:
            publisher.put(payload, attachment=pack_fields(outlet.sequence, source_ns, time.time_ns(), outlet.flags))
            counters.forwarded += 1
        except zenoh.ZError:
            counters.put_errors += 1

    def flush_due(self, now_ns: int) -> None:
        """Send every batch whose oldest sample has waited its `batch_ms` (called on a timer)."""
        for outlet in self._outlets:
            if outlet.batcher is not None and outlet.batcher.due(now_ns):
                self._flush(outlet)

    def counters(self) -> dict[str, StreamCounters]:
        return {outlet.stream.topic: outlet.counters for outlet in self._outlets}

    def close(self) -> None:
        """Undeclare everything this forwarder declared (the session's owner closes it)."""
        with self._lock:
            for outlet in self._outlets:
                if outlet.batcher is not None and len(outlet.batcher) and outlet.publisher is not None:
                    self._flush(outlet)
                outlet.publisher = None
            undeclare_all(self._declared)
            self._session = None

    def _flush(self, outlet: _Outlet) -> None:
        assert outlet.batcher is not None
        count = len(outlet.batcher)
        now_ns = time.time_ns()
        payload = outlet.batcher.flush(now_ns)
        try:
            # No attachment: the SampleBatch carries each sample's sequence and source time.
            outlet.publisher.put(payload)
            outlet.counters.forwarded += count
        except zenoh.ZError:
            outlet.counters.put_errors += count

    def _malformed(self, outlet: _Outlet, error: CodecError) -> None:
        outlet.counters.malformed += 1
        if not outlet.warned:
            outlet.warned = True
            _log.warning("%s: dropping malformed samples (first: %s); counting the rest", outlet.stream.topic, error)

    def _declare_publisher(self, session: zenoh.Session, stream: BridgedStream) -> Any:
        batched = stream.batch_ms is not None
        encoding = (
            zenoh.Encoding.APPLICATION_CDR.with_schema("telemetry/msg/SampleBatch")
            if batched
            else zenoh.Encoding.APPLICATION_CDR.with_schema(stream.ros_type)
        )
        return session.declare_publisher(
            stream.key,
            encoding=encoding,
            priority=_PRIORITIES[stream.priority],
            congestion_control=zenoh.CongestionControl.BLOCK if stream.reliable else zenoh.CongestionControl.DROP,
            # Express skips Zenoh's own batching: lowest latency for single samples. A
            # SampleBatch is already a batch.
            express=not batched,
        )

    def _answer_meta(self, query: zenoh.Query) -> None:
        # Replying from the callback: a reply is a non-blocking enqueue, and answering at once
        # keeps a querier's round trip short (the clock estimate depends on it).
        with self._lock:
            streams = [outlet.stream for outlet in self._outlets]
            counters = {o.stream.topic: dataclasses.asdict(o.counters) for o in self._outlets}
        catalogue = catalogue_json(self._region, self._vehicle, streams, counters, dict(self.health))
        query.reply(self._keys.meta(self._region, self._vehicle), catalogue, encoding=zenoh.Encoding.APPLICATION_JSON)

    def _answer_clock(self, query: zenoh.Query) -> None:
        query.reply(self._keys.clock(self._region, self._vehicle), _CLOCK_REPLY.pack(time.time_ns()))
