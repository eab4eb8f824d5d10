"""A synthetic vehicle without ROS: what a vehicle's bridge puts on Zenoh, from a plain Python loop.

It follows DESIGN.md's key space and wire format exactly (data or batch keys, the 32-byte
attachment, the liveliness token, the meta and clock queryables), so an aggregator cannot
tell it from the real bridge. Payloads are real CDR: a sensor_msgs/Imu serialized once with
the project's TypeStore, whose `header.stamp` is rewritten per sample to the source time.

Options a test needs to know the right answer in advance:

- `clock_shift_ms`: the vehicle's clock runs ahead by this much; every time it reports
  (header stamps, attachment source times, clock replies) carries the shift.
- `drop_every`: sequences that are multiples of k are numbered but never sent (known loss).
- `restart_after_s`: once, after this long, every stream's sequence starts again at 1.
- `batch_ms`: send msg/SampleBatch (on the stream's data key, as the bridge does) instead of single samples.
- a stream's `advertised_hz`: the rate the catalogue claims, when it differs from the rate
  actually sent (a stream flooding 100x its expected rate).

In a test process: `SyntheticVehicle(session, options).start()` ... `.close()`. As a child
process (`python -m support.synthetic --connect tcp/... --region r --vehicle v --stream imu:500`,
with test/ on PYTHONPATH; see `start_synthetic_vehicle`): prints `synthetic <region>/<vehicle>
ready` once everything is declared; SIGUSR1 pauses or resumes the data (the token stays: the
vehicle goes stale), SIGUSR2 drops or re-declares the token (offline); each is acknowledged
with a line on stdout. SIGTERM or SIGINT close the session and exit.
"""

from __future__ import annotations

import argparse
import heapq
import os
import queue
import signal
import struct
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import zenoh

from telemetry.bridge.batcher import SampleBatcher
from telemetry.bridge.plan import BridgedStream, catalogue_json
from telemetry.codec import TypeStore
from telemetry.codec.attachment import pack_fields
from telemetry.codec.names import SAMPLE_BATCH as BATCH_TYPE
from telemetry.keys import KeySpace
from telemetry.net import BackgroundSession, SessionOptions

if TYPE_CHECKING:
    from support.processes import ChildProcess, ProcessGroup

__all__ = [
    "IMU_TYPE",
    "StreamSpec",
    "SyntheticVehicle",
    "VehicleOptions",
    "imu_payload_template",
    "stamped_payload",
    "start_synthetic_vehicle",
]

IMU_TYPE = "sensor_msgs/msg/Imu"
_NS = 1_000_000_000
_STAMP = struct.Struct("<iI")  # header.stamp right after the 4-byte encapsulation header
_CLOCK_REPLY = struct.Struct("<q")
_TEST_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class StreamSpec:
    """One stream: its topic, the rate it is sent at, and the rate its catalogue claims."""

    topic: str
    rate_hz: float
    advertised_hz: float | None = None  # None: the catalogue says rate_hz

    @classmethod
    def parse(cls, text: str) -> StreamSpec:
        """`imu:500` (topic /imu at 500 Hz) or `flood:1000:10` (sent at 1000 Hz, advertised 10 Hz)."""
        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise ValueError(f"stream {text!r}: expected TOPIC:RATE_HZ[:ADVERTISED_HZ]")
        topic = parts[0] if parts[0].startswith("/") else "/" + parts[0]
        advertised = float(parts[2]) if len(parts) == 3 else None
        return cls(topic, float(parts[1]), advertised)

    @property
    def catalogue_hz(self) -> float:
        return self.rate_hz if self.advertised_hz is None else self.advertised_hz


@dataclass(frozen=True)
class VehicleOptions:
    region: str
    vehicle: str
    streams: tuple[StreamSpec, ...]
    clock_shift_ms: float = 0.0
    drop_every: int = 0  # 0: drop nothing
    restart_after_s: float | None = None
    batch_ms: float | None = None
    reliable: bool = True  # congestion control BLOCK: the network adds no loss of its own
    keys: KeySpace = field(default_factory=KeySpace)

    @property
    def clock_shift_ns(self) -> int:
        return round(self.clock_shift_ms * 1e6)


def imu_payload_template(store: TypeStore) -> bytes:
    """A sensor_msgs/Imu serialized by the project's codec (plausible values, stamp 0)."""
    imu = store.new(IMU_TYPE)
    imu.header.frame_id = "imu_link"
    imu.orientation.w = 1.0
    imu.linear_acceleration.z = 9.81
    return store.encode(imu)


def stamped_payload(template: bytes, stamp_ns: int) -> bytes:
    """`template` with header.stamp set to `stamp_ns` (what a driver stamping at publish does)."""
    payload = bytearray(template)
    _STAMP.pack_into(payload, 4, *divmod(stamp_ns, _NS))
    return bytes(payload)


@dataclass
class _Outlet:
    spec: StreamSpec
    key: str
    period_ns: int
    publisher: Any = None
    batcher: SampleBatcher | None = None
    batch_opened_ns: int = 0  # monotonic time of the waiting batch's first sample
    sequence: int = 0
    sent: int = 0
    dropped: int = 0


class SyntheticVehicle:
    """Publishes its streams on absolute deadlines from a thread; holds token and queryables."""

    def __init__(self, session: zenoh.Session, options: VehicleOptions, store: TypeStore | None = None) -> None:
        self._session = session
        self._options = options
        self._store = store or TypeStore.from_environment()
        self._template = imu_payload_template(self._store)
        keys, region, name = options.keys, options.region, options.vehicle
        self._outlets = [
            _Outlet(
                spec,
                keys.data(region, name, spec.topic),
                round(_NS / spec.rate_hz),
            )
            for spec in options.streams
        ]
        self._declared: list[Any] = []
        self._token: Any = None
        self._paused = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"synthetic-{name}", daemon=True)

    # --- what a test controls -----------------------------------------------------------

    def start(self) -> SyntheticVehicle:
        keys, region, name = self._options.keys, self._options.region, self._options.vehicle
        session = self._session
        self._declared.append(session.declare_queryable(keys.meta(region, name), self._answer_meta))
        self._declared.append(session.declare_queryable(keys.clock(region, name), self._answer_clock))
        for outlet in self._outlets:
            outlet.publisher = self._declare_publisher(outlet)
            if self._options.batch_ms:
                outlet.batcher = SampleBatcher(IMU_TYPE, True, self._store.constant(BATCH_TYPE, "VERSION"))
        self.declare_token()
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5.0)
        self.drop_token()
        for declared in reversed(self._declared):
            declared.undeclare()
        self._declared.clear()

    def pause(self) -> None:
        """Stop sending (sequences do not advance): the vehicle goes stale, its token stays."""
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    def drop_token(self) -> None:
        if self._token is not None:
            self._token.undeclare()
            self._token = None

    def declare_token(self) -> None:
        if self._token is None:
            keys = self._options.keys
            self._token = self._session.liveliness().declare_token(
                keys.alive(self._options.region, self._options.vehicle)
            )

    @property
    def has_token(self) -> bool:
        return self._token is not None

    def counts(self) -> dict[str, tuple[int, int]]:
        """topic -> (samples sent, samples numbered but dropped on purpose)."""
        return {o.spec.topic: (o.sent, o.dropped) for o in self._outlets}

    def now_ns(self) -> int:
        """The vehicle's clock: the host's, shifted."""
        return time.time_ns() + self._options.clock_shift_ns

    # --- the loop -----------------------------------------------------------------------

    def _run(self) -> None:
        start_ns = time.monotonic_ns()
        restart_at_ns = (
            None if self._options.restart_after_s is None else start_ns + round(self._options.restart_after_s * _NS)
        )
        due = [(start_ns, index) for index in range(len(self._outlets))]
        heapq.heapify(due)
        flush_ns = round(self._options.batch_ms * 1e6) if self._options.batch_ms else None
        while not self._stop.is_set():
            deadline_ns, index = due[0]
            wait_ns = deadline_ns - time.monotonic_ns()
            if flush_ns is not None:
                wait_ns = min(wait_ns, flush_ns // 2)
            if wait_ns > 0 and self._stop.wait(wait_ns / _NS):
                break
            now_mono = time.monotonic_ns()
            if restart_at_ns is not None and now_mono >= restart_at_ns:
                restart_at_ns = None
                for outlet in self._outlets:
                    outlet.sequence = 0
            if flush_ns is not None:
                self._flush_due()
            while due[0][0] <= now_mono:
                deadline_ns, index = heapq.heappop(due)
                heapq.heappush(due, (deadline_ns + self._outlets[index].period_ns, index))  # absolute: no drift
                if not self._paused.is_set():
                    self._send(self._outlets[index])

    def _send(self, outlet: _Outlet) -> None:
        outlet.sequence += 1
        if self._options.drop_every and outlet.sequence % self._options.drop_every == 0:
            outlet.dropped += 1
            return
        source_ns = self.now_ns()
        payload = stamped_payload(self._template, source_ns)
        if outlet.batcher is not None:
            if not len(outlet.batcher):
                outlet.batch_opened_ns = time.monotonic_ns()
            outlet.batcher.add(outlet.sequence, source_ns, payload)
        else:
            attachment = pack_fields(outlet.sequence, source_ns, self.now_ns(), True)
            outlet.publisher.put(payload, attachment=attachment)
        outlet.sent += 1

    def _flush_due(self) -> None:
        now_ns = time.monotonic_ns()
        batch_ns = round((self._options.batch_ms or 0.0) * 1e6)
        for outlet in self._outlets:
            if outlet.batcher is not None and len(outlet.batcher) and now_ns - outlet.batch_opened_ns >= batch_ns:
                outlet.publisher.put(outlet.batcher.take_batch(self.now_ns()))

    def _declare_publisher(self, outlet: _Outlet) -> Any:
        schema = "telemetry/msg/SampleBatch" if self._options.batch_ms else IMU_TYPE
        congestion = zenoh.CongestionControl.BLOCK if self._options.reliable else zenoh.CongestionControl.DROP
        return self._session.declare_publisher(
            outlet.key,
            encoding=zenoh.Encoding.APPLICATION_CDR.with_schema(schema),
            congestion_control=congestion,
            express=not self._options.batch_ms,
        )

    # --- queryables: reply at once from the callback, like the real bridge ---------------

    def _answer_meta(self, query: zenoh.Query) -> None:
        opts = self._options
        streams = [
            BridgedStream(
                topic=o.spec.topic, ros_type=IMU_TYPE, key=opts.keys.data(opts.region, opts.vehicle, o.spec.topic),
                expected_hz=o.spec.catalogue_hz, batch_ms=opts.batch_ms, stamp_from_header=True,
            )
            for o in self._outlets
        ]
        key = opts.keys.meta(opts.region, opts.vehicle)
        query.reply(key, catalogue_json(opts.region, opts.vehicle, streams), encoding=zenoh.Encoding.APPLICATION_JSON)

    def _answer_clock(self, query: zenoh.Query) -> None:
        query.reply(
            self._options.keys.clock(self._options.region, self._options.vehicle), _CLOCK_REPLY.pack(self.now_ns())
        )


# --- as a child process -----------------------------------------------------------------


def start_synthetic_vehicle(
    processes: ProcessGroup,
    endpoint: str,
    region: str,
    vehicle: str,
    *streams: str,
    extra: Sequence[str] = (),
    timeout_s: float = 15.0,
) -> ChildProcess:
    """Run a synthetic vehicle as a child of `processes` and wait for its ready line.

    `streams` as `StreamSpec.parse` reads them (`imu:500`); `extra` are more flags
    (`--clock-shift-ms 250`, `--drop-every 10`, `--restart-after-s 2`, `--batch-ms 20`).
    """
    pythonpath = os.pathsep.join([str(_TEST_DIR.parent), str(_TEST_DIR), os.environ.get("PYTHONPATH", "")])
    args = ["--connect", endpoint, "--region", region, "--vehicle", vehicle]
    for stream in streams:
        args += ["--stream", stream]
    child = processes.start_module(
        "support.synthetic", *args, *extra, name=f"vehicle:{region}/{vehicle}", env={"PYTHONPATH": pythonpath}
    )
    child.wait_for_line(f"synthetic {region}/{vehicle} ready", timeout_s)
    return child


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="synthetic", description="a ROS-free vehicle for tests")
    parser.add_argument("--connect", required=True, help="router endpoint, tcp/127.0.0.1:PORT")
    parser.add_argument("--region", required=True)
    parser.add_argument("--vehicle", required=True)
    parser.add_argument("--stream", action="append", type=StreamSpec.parse, required=True, metavar="TOPIC:HZ[:ADV_HZ]")
    parser.add_argument("--clock-shift-ms", type=float, default=0.0)
    parser.add_argument("--drop-every", type=int, default=0)
    parser.add_argument("--restart-after-s", type=float)
    parser.add_argument("--batch-ms", type=float)
    parser.add_argument("--lossy", action="store_true", help="congestion control DROP instead of BLOCK")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    options = VehicleOptions(
        args.region,
        args.vehicle,
        tuple(args.stream),
        args.clock_shift_ms,
        args.drop_every,
        args.restart_after_s,
        args.batch_ms,
        reliable=not args.lossy,
    )
    commands: queue.SimpleQueue[str] = queue.SimpleQueue()
    signal.signal(signal.SIGTERM, lambda *_: commands.put("stop"))
    signal.signal(signal.SIGINT, lambda *_: commands.put("stop"))
    signal.signal(signal.SIGUSR1, lambda *_: commands.put("data"))
    signal.signal(signal.SIGUSR2, lambda *_: commands.put("token"))
    with BackgroundSession(SessionOptions(mode="client", connect=(args.connect,)), name="synthetic") as link:
        session = None
        while session is None:
            session = link.wait(0.1)
            if session is None and _stop_requested(commands):
                return 0
        vehicle = SyntheticVehicle(session, options).start()
        print(f"synthetic {args.region}/{args.vehicle} ready", flush=True)
        try:
            _serve(vehicle, commands)
        finally:
            vehicle.close()
            print(f"synthetic {args.region}/{args.vehicle} sent {vehicle.counts()}", flush=True)
    return 0


def _stop_requested(commands: queue.SimpleQueue[str]) -> bool:
    try:
        return commands.get_nowait() == "stop"
    except queue.Empty:
        return False


def _serve(vehicle: SyntheticVehicle, commands: queue.SimpleQueue[str]) -> None:
    """Apply signalled commands from the main thread (handlers only enqueue)."""
    while True:
        try:
            command = commands.get(timeout=0.1)  # a timeout, so signal handlers get to run
        except queue.Empty:
            continue
        if command == "stop":
            return
        if command == "data":
            vehicle.resume() if vehicle.paused else vehicle.pause()
            print("data paused" if vehicle.paused else "data resumed", flush=True)
        elif command == "token":
            vehicle.drop_token() if vehicle.has_token else vehicle.declare_token()
            print("token declared" if vehicle.has_token else "token dropped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
