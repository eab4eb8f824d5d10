"""The brokers benchmark's publisher: the floor's payload and rate, over MQTT or NATS.

    python -m telemetry.bench.broker_publisher --transport mqtt --port 1883 \
        --topic telemetry/data/bench/publisher-1/imu --rate-hz 1000 --size 316 --qos 0

Each message is `--size` bytes: the bridge's 32-byte attachment (sequence, source time =
now, send time = now) followed by zero padding, because MQTT 3.1.1 and plain NATS have no
separate attachment. It publishes on absolute deadlines like telemetry/bench/publisher.py,
with each client library used the way its own examples use it (paho's network thread;
nats-py's asyncio flusher), and TCP_NODELAY on, as Zenoh has it. Prints `publisher ready`
once connected, and `publisher sent N` on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from typing import Any

from telemetry.bench.mqtt_client import connected_client
from telemetry.codec.attachment import ATTACHMENT_SIZE, pack_fields
from telemetry.console import stop_on_signals
from telemetry.sim.schedule import run_on_deadlines

__all__ = ["main"]

HOST = "127.0.0.1"
CONNECT_TIMEOUT_S = 10.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="broker_publisher", description=__doc__.split("\n\n")[0])
    parser.add_argument("--transport", required=True, choices=("mqtt", "nats"))
    parser.add_argument("--port", type=int, required=True, help="the broker's port on 127.0.0.1")
    parser.add_argument("--topic", required=True, help="MQTT topic or NATS subject")
    parser.add_argument("--rate-hz", type=float, default=1000.0)
    parser.add_argument("--size", type=int, default=316, help="message bytes, attachment included (316: an Imu)")
    parser.add_argument("--qos", type=int, choices=(0, 1), default=0, help="MQTT QoS (ignored for NATS)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.size < ATTACHMENT_SIZE:
        parser.error(f"--size: must be >= {ATTACHMENT_SIZE} (the attachment), got {args.size}")
    if args.rate_hz <= 0:
        parser.error(f"--rate-hz: must be > 0, got {args.rate_hz:g}")
    stop = stop_on_signals()
    padding = bytes(args.size - ATTACHMENT_SIZE)
    if args.transport == "mqtt":
        sent = publish_mqtt(args.port, args.topic, args.qos, padding, args.rate_hz, stop)
    else:
        sent = asyncio.run(publish_nats(args.port, args.topic, padding, args.rate_hz, stop))
    if sent < 0:
        print(f"publisher: no {args.transport} broker on {HOST}:{args.port}", file=sys.stderr)
        return 1
    print(f"publisher sent {sent}", flush=True)
    return 0


def message(sequence: int, padding: bytes) -> bytes:
    """One message: the attachment, stamped now, then the padding."""
    now_ns = time.time_ns()
    return pack_fields(sequence, now_ns, now_ns, stamp_from_header=True) + padding


def publish_mqtt(port: int, topic: str, qos: int, padding: bytes, rate_hz: float, stop: threading.Event) -> int:
    """Publish until `stop`; the number sent, or -1 when the broker never accepted us."""
    connected = threading.Event()

    def configure(client: Any) -> None:
        client.on_connect = lambda *_: connected.set()

    client = connected_client(HOST, port, f"bench-publisher-{os.getpid()}", configure)
    client.loop_start()
    try:
        if not connected.wait(CONNECT_TIMEOUT_S):
            return -1
        print("publisher ready", flush=True)
        return run_on_deadlines(lambda sequence: client.publish(topic, message(sequence, padding), qos=qos),
                              rate_hz, stop)
    finally:
        client.disconnect()
        client.loop_stop()


async def publish_nats(port: int, subject: str, padding: bytes, rate_hz: float, stop: threading.Event) -> int:
    """Publish until `stop`; the number sent, or -1 when the server never accepted us.

    asyncio's sleep is only as fine as epoll's 1 ms timeout, so a late tick publishes at
    once and the absolute deadlines keep the mean rate; each message is stamped when it
    is handed to the client, like the other publishers.
    """
    import nats
    import nats.errors

    try:
        client = await nats.connect(f"nats://{HOST}:{port}", connect_timeout=int(CONNECT_TIMEOUT_S),
                                    allow_reconnect=False)
    except (OSError, nats.errors.NoServersError):
        return -1
    print("publisher ready", flush=True)
    period_ns = int(1e9 / rate_hz)
    next_ns = time.monotonic_ns()
    sequence = 0
    try:
        while not stop.is_set():
            delay_ns = next_ns - time.monotonic_ns()
            await asyncio.sleep(max(delay_ns, 0) / 1e9)  # 0 still lets the flusher write
            sequence += 1
            await client.publish(subject, message(sequence, padding))
            next_ns += period_ns
    finally:
        await client.close()
    return sequence


if __name__ == "__main__":
    sys.exit(main())
