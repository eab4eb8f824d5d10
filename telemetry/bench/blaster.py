"""A load generator for the aggregator benchmark: many streams, single samples or batches, fast.

    python -m telemetry.bench.blaster --connect tcp/127.0.0.1:7447 --vehicles 5 --streams-per-vehicle 100 \
        --rate-hz 100 [--batch 50] [--prefix p0]

Keys follow DESIGN.md (`telemetry/data/bench/<prefix>-v<i>/s<j>`) with real 32-byte
attachments, or real msg/SampleBatch CDR on the same data key with the encoding the bridge
gives batches (telemetry.codec.batch.BATCH_ENCODING, no attachment), and consecutive
sequences per stream, so the aggregator does the work it does for a real fleet. Payloads are 316 bytes
(the size of a serialized sensor_msgs/Imu). Rounds run on absolute deadlines at `--rate-hz`
per stream; `--rate-hz 0` sends as fast as it can. Congestion control is BLOCK, so a slow
consumer slows the blaster down instead of losing samples: what arrives is what the chain
sustains. Prints `blaster ready` once declared, and `blaster sent N samples in S s` on SIGTERM.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
import time
from typing import Any

import numpy as np
import zenoh

from telemetry.codec import TypeStore
from telemetry.codec.attachment import (
    ATTACHMENT_STRUCT,
    ATTACHMENT_VERSION,
    FLAG_STAMP_FROM_HEADER,
)
from telemetry.codec.batch import BATCH_ENCODING, read_batch
from telemetry.codec.names import SAMPLE_BATCH
from telemetry.console import stop_on_signals
from telemetry.demo.plan import Part, PartKind
from telemetry.demo.supervisor import Child
from telemetry.net import BackgroundSession, SessionOptions
from telemetry.net.declarations import undeclare_all
from telemetry.sim.schedule import run_on_deadlines
from telemetry.sim.sensors import IMU_TYPE

PAYLOAD_BYTES = 316
_SENT = re.compile(r"blaster sent (\d+) samples in ([0-9.]+) s")


def blaster_part(endpoint: str, prefix: str, vehicles: int, streams_per_vehicle: int, rate_hz: float,
                 batch: int = 0) -> Part:
    """A blaster as a benchmark starts it (the supervisor's `blaster ready` is its ready line)."""
    args = ("--connect", endpoint, "--prefix", prefix, "--vehicles", str(vehicles),
            "--streams-per-vehicle", str(streams_per_vehicle), "--rate-hz", f"{rate_hz:g}", "--batch", str(batch))
    return Part(f"blaster-{prefix}", PartKind.TOOL, args, tool_module="telemetry.bench.blaster")


def stop_blaster(blaster: Child) -> tuple[int, float]:
    """SIGTERM, then its `blaster sent N samples in S s` line: (N, S); (0, 0.0) if it said nothing."""
    blaster.process.send_signal(signal.SIGTERM)
    blaster.process.wait(timeout=15)
    match = _SENT.search(blaster.log_path.read_text(encoding="utf-8", errors="replace"))
    return (int(match[1]), float(match[2])) if match else (0, 0.0)
_MAGIC_SEQUENCE = 0x5E9_0000_0000_0000
_MAGIC_SOURCE = 0x50C_0000_0000_0000


class BatchTemplate:
    """One msg/SampleBatch of `count` samples, encoded once; sequences and times patched in place.

    The encoded layout is fixed for a fixed count and type, so the sequence and source-time
    arrays sit at constant offsets: found once by searching for marker values, checked by
    decoding a patched copy.
    """

    def __init__(self, store: TypeStore, count: int, payload_bytes: int = PAYLOAD_BYTES) -> None:
        batch_type: Any = store.message_class(SAMPLE_BATCH)  # a class pycdr2 builds from msg/
        marker = batch_type(
            version=batch_type.VERSION,
            ros_type=IMU_TYPE,
            stamp_from_header=True,
            sequence=[_MAGIC_SEQUENCE + i for i in range(count)],
            source_time_ns=[_MAGIC_SOURCE + i for i in range(count)],
            size=[payload_bytes] * count,
            data=bytes(payload_bytes * count),
        )
        self.count = count
        self.template = store.encode(marker)
        self._sequence_at = self.template.find(_MAGIC_SEQUENCE.to_bytes(8, "little"))
        self._source_at = self.template.find(_MAGIC_SOURCE.to_bytes(8, "little"))
        assert self._sequence_at > 0 and self._source_at > 0, "marker values not found in the encoded batch"
        check = read_batch(store, self.make(1000, 123))
        assert check.sequence.tolist() == list(range(1000, 1000 + count)) and int(check.source_ns[0]) == 123

    def make(self, first_sequence: int, source_ns: int, step_ns: int = 1000) -> bytes:
        buffer = bytearray(self.template)
        sequence = np.frombuffer(buffer, "<u8", self.count, self._sequence_at)
        sequence[:] = np.arange(first_sequence, first_sequence + self.count, dtype=np.uint64)
        source = np.frombuffer(buffer, "<i8", self.count, self._source_at)
        source[:] = source_ns + step_ns * np.arange(self.count, dtype=np.int64)
        return bytes(buffer)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connect", required=True)
    parser.add_argument("--prefix", default="p0", help="vehicle name prefix, unique per blaster")
    parser.add_argument("--vehicles", type=int, default=5)
    parser.add_argument("--streams-per-vehicle", type=int, default=100)
    parser.add_argument("--rate-hz", type=float, default=100.0, help="per stream; 0: as fast as possible")
    parser.add_argument("--batch", type=int, default=0, help="samples per SampleBatch; 0: single samples")
    return parser


def main() -> int:
    args = _parser().parse_args()
    stop = stop_on_signals()
    with BackgroundSession(SessionOptions(mode="client", connect=(args.connect,)), name="blaster") as link:
        session = link.wait_or_stop(stop)
        if session is None:
            return 0
        encoding = (
            zenoh.Encoding(BATCH_ENCODING) if args.batch else zenoh.Encoding.APPLICATION_CDR.with_schema(IMU_TYPE)
        )
        publishers = [
            session.declare_publisher(
                f"telemetry/data/bench/{args.prefix}-v{v}/s{s}",
                encoding=encoding,
                congestion_control=zenoh.CongestionControl.BLOCK,
            )
            for v in range(args.vehicles)
            for s in range(args.streams_per_vehicle)
        ]
        template = BatchTemplate(TypeStore.from_environment(), args.batch) if args.batch else None
        print("blaster ready", flush=True)
        started = time.monotonic()
        sent = _blast(publishers, template, args.rate_hz, stop)
        elapsed = time.monotonic() - started
        print(f"blaster sent {sent} samples in {elapsed:.2f} s", flush=True)
        undeclare_all(publishers)
    return 0


def _blast(publishers: list[Any], template: BatchTemplate | None, rate_hz: float, stop: threading.Event) -> int:
    """Rounds of one sample (or one batch) per stream, until `stop`; returns samples sent."""
    per_round = template.count if template else 1
    payload = b"\x00\x01\x00\x00" + bytes(PAYLOAD_BYTES - 4)
    pack = ATTACHMENT_STRUCT.pack
    failed = False

    def send_round(round_number: int) -> None:
        nonlocal failed
        sequence = (round_number - 1) * per_round + 1
        now_ns = time.time_ns()
        try:
            if template is None:
                attachment = pack(ATTACHMENT_VERSION, FLAG_STAMP_FROM_HEADER, sequence, now_ns, now_ns)
                for publisher in publishers:
                    publisher.put(payload, attachment=attachment)
            else:
                batch = template.make(sequence, now_ns)
                for publisher in publishers:
                    publisher.put(batch)
        except zenoh.ZError:  # the session is closing: this round does not count
            failed = True
            stop.set()

    rounds = run_on_deadlines(send_round, rate_hz / per_round if rate_hz > 0 else 0.0, stop)
    return (rounds - failed) * per_round * len(publishers)


if __name__ == "__main__":
    sys.exit(main())
