"""The brokers benchmark's one measuring subscriber per transport, all recording alike.

Each client's callback only records (topic, receive time, the 32-byte attachment, size) into
one Recorder; the maths runs after the window (report.py). MQTT uses paho's network thread,
NATS an asyncio loop in a thread, Zenoh a BackgroundSession.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from telemetry.bench.brokers.processes import HOST, READY_TIMEOUT_S, STOP_TIMEOUT_S, BrokerFailed
from telemetry.bench.mqtt_client import connected_client
from telemetry.codec.attachment import ATTACHMENT_SIZE
from telemetry.net import BackgroundSession, SessionOptions

__all__ = ["PUBLISHERS", "Record", "Recorder", "mqtt_subscriber", "nats_subscriber", "topics", "zenoh_subscriber"]

PUBLISHERS = 3
_MAX_RECORDS = 4_000_000  # ~20 min at 3 kHz: bounds memory if a run is left going
#: topic, receive time (ns), the first 32 bytes (the attachment), message size
Record = tuple[str, int, bytes, int]


def topics(protocol: str) -> tuple[list[str], str]:
    """One topic per publisher and the subscription that matches them all."""
    if protocol == "nats":
        return [f"telemetry.data.bench.publisher-{i}.imu" for i in range(1, PUBLISHERS + 1)], "telemetry.data.>"
    names = [f"telemetry/data/bench/publisher-{i}/imu" for i in range(1, PUBLISHERS + 1)]
    return names, "telemetry/data/**" if protocol == "zenoh" else "telemetry/data/#"


class Recorder:
    """What every measuring subscriber's callback calls: one append under a lock, nothing else."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[Record] = []

    def record(self, topic: str, receive_ns: int, head: bytes, size: int) -> None:
        if len(head) != ATTACHMENT_SIZE:
            return
        with self._lock:
            if len(self._records) < _MAX_RECORDS:
                self._records.append((topic, receive_ns, head, size))

    def take(self) -> list[Record]:
        with self._lock:
            records, self._records = self._records, []
        return records


@contextmanager
def mqtt_subscriber(port: int, subscription: str, qos: int, recorder: Recorder) -> Iterator[None]:
    subscribed = threading.Event()

    def configure(client: Any) -> None:
        client.on_message = lambda _c, _u, msg: recorder.record(msg.topic, time.time_ns(), bytes(msg.payload[:32]),
                                                                len(msg.payload))
        client.on_subscribe = lambda *_: subscribed.set()

    client = connected_client(HOST, port, "bench-subscriber", configure)
    client.loop_start()
    try:
        client.subscribe(subscription, qos=qos)
        if not subscribed.wait(READY_TIMEOUT_S):
            raise BrokerFailed(f"mosquitto on {HOST}:{port} did not confirm the subscription {subscription!r}")
        yield
    finally:
        client.disconnect()
        client.loop_stop()


@contextmanager
def nats_subscriber(port: int, subject: str, recorder: Recorder) -> Iterator[None]:
    """nats-py on its own asyncio loop in a thread, as paho has its network thread."""
    import nats
    import nats.errors

    async def on_message(msg: Any) -> None:
        recorder.record(msg.subject, time.time_ns(), msg.data[:32], len(msg.data))

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="nats-subscriber", daemon=True)
    thread.start()

    def call(coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(READY_TIMEOUT_S)

    client = None
    try:
        try:
            client = call(nats.connect(f"nats://{HOST}:{port}", allow_reconnect=False))
        except nats.errors.NoServersError as error:
            raise BrokerFailed(f"nats-server on {HOST}:{port} refused the measuring subscriber: {error}") from None
        call(client.subscribe(subject, cb=on_message))
        call(client.flush())  # the server has our SUB before any publisher starts
        yield
    finally:
        if client is not None:
            call(client.close())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(STOP_TIMEOUT_S)
        loop.close()


@contextmanager
def zenoh_subscriber(endpoint: str, selector: str, recorder: Recorder) -> Iterator[None]:
    def on_sample(sample: Any) -> None:
        receive_ns = time.time_ns()
        if sample.attachment is not None:
            recorder.record(str(sample.key_expr), receive_ns, sample.attachment.to_bytes(), len(sample.payload))

    with BackgroundSession(SessionOptions(mode="client", connect=(endpoint,)), name="brokers-probe") as link:
        session = link.wait(30)
        if session is None:
            raise BrokerFailed(f"the measuring subscriber could not reach the Zenoh router at {endpoint}")
        subscriber = session.declare_subscriber(selector, on_sample)
        try:
            yield
        finally:
            subscriber.undeclare()
