"""A paced Zenoh publisher for recorder tests: real attachments, absolute deadlines, a thread.

The data source of the tests that need to know exactly what was sent and when (crash
recovery, a full disk) without a ROS fleet. Pacing is the package's own (sim/schedule).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import zenoh

from telemetry.codec.attachment import pack_fields
from telemetry.net.declarations import undeclare_all
from telemetry.sim.schedule import run_on_deadlines

__all__ = ["PacedPublisher"]


class PacedPublisher:
    """Puts `payload(source_ns)` with a real attachment on `key` at `rate_hz`, sequences from 1.

    `send_ns[sequence - 1]` is each sample's source time (the wall clock when it was put),
    `sent_s[sequence - 1]` its time.monotonic()."""

    def __init__(self, session: zenoh.Session, key: str, ros_type: str, rate_hz: float,
                 payload: Callable[[int], bytes], stamp_from_header: bool = True) -> None:
        self._publisher = session.declare_publisher(
            key, encoding=zenoh.Encoding.APPLICATION_CDR.with_schema(ros_type),
            congestion_control=zenoh.CongestionControl.BLOCK, express=True)
        self._rate_hz = rate_hz
        self._payload = payload
        self._stamped = stamp_from_header
        self.send_ns: list[int] = []
        self.sent_s: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"publisher-{key}", daemon=True)

    def start(self) -> PacedPublisher:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5.0)
        undeclare_all([self._publisher])

    @property
    def sent(self) -> int:
        return len(self.send_ns)

    def _run(self) -> None:
        run_on_deadlines(self._send, self._rate_hz, self._stop)

    def _send(self, sequence: int) -> None:
        source_ns = time.time_ns()
        self._publisher.put(self._payload(source_ns),
                            attachment=pack_fields(sequence, source_ns, time.time_ns(), self._stamped))
        self.send_ns.append(source_ns)
        self.sent_s.append(time.monotonic())
