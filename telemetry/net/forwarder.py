"""The Zenoh side of the vehicle bridge: publishers, liveliness token, meta, clock and health.

The ROS side hands over the samples of one stream that one wake-up found (`take()`) and
says when to send them (`send()`); this class counts, checks, downsamples and numbers them,
then puts one sample alone (raw CDR with its attachment) or several as one msg/SampleBatch
(encoding schema telemetry/msg/SampleBatch, no attachment), both on the stream's data key:
samples found together leave together, so a late bridge catches up with fewer messages.
It works before the session exists (samples are counted as not routed), so the ROS node can
start while no router is up, and `attach()` declares everything once the session opens.
"""

from __future__ import annotations

import dataclasses
import logging
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import zenoh

from telemetry.bridge.accounting import SourceSequence, StreamCounters
from telemetry.bridge.batcher import SampleBatcher
from telemetry.bridge.plan import BridgedStream, catalogue_json
from telemetry.bridge.rate_limit import RateLimiter
from telemetry.codec import CodecError, TypeStore
from telemetry.codec.attachment import ATTACHMENT_STRUCT, ATTACHMENT_VERSION, FLAG_STAMP_FROM_HEADER
from telemetry.codec.batch import BATCH_ENCODING
from telemetry.codec.names import BRIDGE_HEALTH, SAMPLE_BATCH
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
_HEALTH_ENCODING = zenoh.Encoding.APPLICATION_CDR.with_schema(BRIDGE_HEALTH)
_BATCH_ENCODING = zenoh.Encoding(BATCH_ENCODING)


@dataclass
class _Outlet:
    stream: BridgedStream
    limiter: RateLimiter | None
    pending: SampleBatcher
    flags: int
    source: SourceSequence = field(default_factory=SourceSequence)
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
        self._batch_version = store.constant(SAMPLE_BATCH, "VERSION")
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
            pending=SampleBatcher(stream.ros_type, stream.stamp_from_header, self._batch_version),
            flags=FLAG_STAMP_FROM_HEADER if stream.stamp_from_header else 0,
        )
        with self._lock:
            self._outlets.append(outlet)
            if self._session is not None:
                self._declare_publisher(self._session, outlet)
        return len(self._outlets) - 1

    def attach(self, session: zenoh.Session) -> None:
        """Declare the token, queryables and every stream's publishers on an open session."""
        with self._lock:
            self._session = session
            region, vehicle = self._region, self._vehicle
            self._declared.append(session.liveliness().declare_token(self._keys.alive(region, vehicle)))
            self._declared.append(session.declare_queryable(self._keys.meta(region, vehicle), self._answer_meta))
            self._declared.append(session.declare_queryable(self._keys.clock(region, vehicle), self._answer_clock))
            for outlet in self._outlets:
                self._declare_publisher(session, outlet)
        _log.info("forwarding %d streams as %s/%s", len(self._outlets), self._region, self._vehicle)

    def take(
        self, index: int, payloads: Sequence[bytes], source_numbers: Sequence[int] | None, receive_ns: int
    ) -> None:
        """Samples of one stream that one wake-up found, in order: count, check, number and
        hold them until `send()`. The hot path: a few attribute reads per sample.

        `source_numbers` are their DDS publication sequence numbers (None when the ROS side
        cannot tell, as with rclpy's executors), for the source -> bridge hop's accounting.
        """
        outlet = self._outlets[index]
        counters = outlet.counters
        count = len(payloads)
        counters.received += count
        if count > counters.largest_take:
            counters.largest_take = count
        if source_numbers is not None:
            outlet.source.update(source_numbers, counters, counters.publishers == 1)
        if outlet.publisher is None:
            counters.not_routed += count
            return
        flags, limiter, pending = outlet.flags, outlet.limiter, outlet.pending
        for payload in payloads:
            source_ns = receive_ns
            if flags:
                try:
                    source_ns = header_stamp_ns(payload)
                except CodecError as error:
                    self._malformed(outlet, error)
                    continue
            if limiter is not None and not limiter.admit(source_ns):
                counters.downsampled += 1
                continue
            outlet.sequence += 1
            pending.add(outlet.sequence, source_ns, payload)

    def send(self, index: int) -> None:
        """Put what the stream has waiting: one sample alone, several as one SampleBatch."""
        outlet = self._outlets[index]
        pending = outlet.pending
        count = len(pending)
        if not count:
            return
        counters = outlet.counters
        now_ns = time.time_ns()
        try:
            if count == 1:
                attachment = ATTACHMENT_STRUCT.pack(ATTACHMENT_VERSION, outlet.flags, pending.sequence[0],
                                                    pending.source_time_ns[0], now_ns)
                outlet.publisher.put(pending.payloads[0], attachment=attachment)
                pending.clear()
            else:
                # No attachment: the SampleBatch carries each sample's sequence and source time.
                outlet.publisher.put(pending.take_batch(now_ns), encoding=_BATCH_ENCODING)
            counters.forwarded += count
            counters.messages += 1
        except zenoh.ZError:
            pending.clear()
            counters.put_errors += count

    def forward(self, index: int, payload: bytes, receive_ns: int) -> None:
        """One sample from an rclpy executor's callback: taken and sent on its own."""
        self.take(index, (payload,), None, receive_ns)
        if not self._outlets[index].stream.budget_ns:
            self.send(index)

    def send_all(self) -> None:
        """Send whatever any stream has waiting (a timer's flush, or before closing)."""
        for index in range(len(self._outlets)):
            self.send(index)

    def set_publishers(self, index: int, count: int) -> None:
        """How many DDS publishers the stream's topic has: source counts need exactly one."""
        self._outlets[index].counters.publishers = count

    def put_health(self, payload: bytes) -> None:
        """Publish one msg/BridgeHealth report on the vehicle's health key (no-op before the session)."""
        session = self._session
        if session is None:
            return
        try:
            session.put(self._keys.health(self._region, self._vehicle), payload, encoding=_HEALTH_ENCODING,
                        priority=zenoh.Priority.DATA_LOW)
        except zenoh.ZError as error:
            _log.warning("health report not published: %s", error)

    def counters(self) -> dict[str, StreamCounters]:
        return {outlet.stream.topic: outlet.counters for outlet in self._outlets}

    def close(self) -> None:
        """Send what waits, then undeclare everything this forwarder declared (the session's
        owner closes the session)."""
        with self._lock:
            for index, outlet in enumerate(self._outlets):
                if outlet.publisher is not None:
                    self.send(index)
                outlet.publisher = None
            undeclare_all(self._declared)
            self._session = None

    def _malformed(self, outlet: _Outlet, error: CodecError) -> None:
        outlet.counters.malformed += 1
        if not outlet.warned:
            outlet.warned = True
            _log.warning("%s: dropping malformed samples (first: %s); counting the rest", outlet.stream.topic, error)

    def _declare_publisher(self, session: zenoh.Session, outlet: _Outlet) -> None:
        """The stream's publisher: its samples' ROS type as the encoding's schema (a batch
        says otherwise per put). Express: Zenoh's own batching would hold a message up to its
        time limit, while our batches have already spent the stream's latency budget."""
        stream = outlet.stream
        outlet.publisher = session.declare_publisher(
            stream.key,
            encoding=zenoh.Encoding.APPLICATION_CDR.with_schema(stream.ros_type),
            priority=_PRIORITIES[stream.priority],
            congestion_control=zenoh.CongestionControl.BLOCK if stream.reliable else zenoh.CongestionControl.DROP,
            express=True,
        )

    def _answer_meta(self, query: zenoh.Query) -> None:
        # Replying from the callback: a reply is a non-blocking enqueue, and answering at once
        # keeps a querier's round trip short (the clock estimate depends on it).
        with self._lock:
            streams = [outlet.stream for outlet in self._outlets]
            counters = {o.stream.topic: {**dataclasses.asdict(o.counters), "waiting": len(o.pending)}
                        for o in self._outlets}
        catalogue = catalogue_json(self._region, self._vehicle, streams, counters, dict(self.health))
        query.reply(self._keys.meta(self._region, self._vehicle), catalogue, encoding=zenoh.Encoding.APPLICATION_JSON)

    def _answer_clock(self, query: zenoh.Query) -> None:
        query.reply(self._keys.clock(self._region, self._vehicle), _CLOCK_REPLY.pack(time.time_ns()))
