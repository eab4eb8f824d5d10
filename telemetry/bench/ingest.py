"""ingest: what one sample costs the aggregator, from a bridged vehicle and from one on rmw_zenoh.

The two differ only in the Zenoh callback: a bridged sample's 32-byte attachment is appended
as it came; an rmw_zenoh sample's 33 bytes are read, its header stamp peeked, and the fleet's
attachment packed in its place. From the inbox on, both are the same. So the bench hands the
same real `zenoh.Sample` objects (put and received through a real session, 1 kHz Imu
payloads with real attachments) to the aggregator's `Ingest` callbacks and then to its
engine's tick, on one thread, and reports CPU time per sample for each step. Network and
router costs are not part of it: they are the same bytes either way (33 vs 32 attachment bytes).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import zenoh

from telemetry.aggregator.engine import EngineSettings, FleetEngine
from telemetry.aggregator.ingest import Ingest
from telemetry.bench.results import BenchResult
from telemetry.bridge.plan import starts_with_header
from telemetry.codec import TypeStore
from telemetry.codec.attachment import pack_fields
from telemetry.codec.rmw_zenoh import data_key, pack_attachment
from telemetry.keys import KeySpace, RmwZenohMap, RmwZenohVehicle
from telemetry.net.declarations import undeclare_all
from telemetry.net.session import open_session
from telemetry.net.zenoh_config import SessionOptions
from telemetry.process import wait_until
from telemetry.sim.motion import MotionModel
from telemetry.sim.rmw_zenoh_node import TYPE_HASHES
from telemetry.sim.sensor_cdr import ImuPacker
from telemetry.sim.sensors import IMU_TYPE

__all__ = ["plot", "run"]

RATE_HZ = 1000.0
STREAMS = 10
_TICK_S = 0.5


def run(duration_s: float, log_dir: Path | None = None, warmup_s: float = 0.0) -> BenchResult:
    """`duration_s` seconds of STREAMS x 1 kHz samples, per source kind (warm-up and logs unused:
    nothing runs in another process)."""
    del log_dir, warmup_s
    count = max(1000, int(duration_s * RATE_HZ * STREAMS))
    keys = KeySpace()
    store = TypeStore.from_environment()
    rmw = RmwZenohMap([RmwZenohVehicle("eu-west", "robot-01", 0, "/robot1")])
    rows: list[dict[str, Any]] = []
    for kind, put_key, make_attachment in (
        ("bridged", lambda s: keys.data("eu-west", "rover-01", f"/imu{s}"),
         lambda n, t: pack_fields(n, t, t, True)),
        ("rmw_zenoh", lambda s: data_key(0, f"/robot1/imu{s}", IMU_TYPE, TYPE_HASHES[IMU_TYPE]),
         lambda n, t: pack_attachment(n, t, bytes(16))),
    ):
        samples = _received(put_key, make_attachment, count)
        ingest = Ingest(keys, rmw, lambda ros_type: starts_with_header(store, ros_type))
        callback = ingest.on_data if kind == "bridged" else ingest.on_rmw_data
        engine = FleetEngine(store, EngineSettings(window_s=5.0))
        started = time.process_time()
        for sample in samples:
            callback(sample)
        callback_s = time.process_time() - started
        started = time.process_time()
        now_ns = time.time_ns()
        engine.ingest(ingest.drain(), now_ns)
        engine.snapshot(now_ns, lambda _r, _v: None, lambda _r, _v: None)
        tick_s = time.process_time() - started
        rows.append({"source": kind, "samples": len(samples), "callback_us": 1e6 * callback_s / len(samples),
                     "tick_us": 1e6 * tick_s / len(samples),
                     "total_us": 1e6 * (callback_s + tick_s) / len(samples)})
    bridged, rmw_row = rows
    return BenchResult(
        "ingest", "ingest: aggregator CPU per sample, bridged vs rmw_zenoh (same Imu samples, one thread)", rows,
        params={"samples_per_kind": count, "streams": STREAMS},
        notes=[f"rmw_zenoh costs {rmw_row['total_us'] - bridged['total_us']:+.2f} us per sample more than a "
               "bridged sample: the attachment translation in the callback"],
    )


def _received(put_key: Any, make_attachment: Any, count: int) -> list[Any]:
    """`count` real samples (one session putting to its own subscriber), as the aggregator's
    callbacks would be handed them."""
    session = open_session(SessionOptions(mode="peer", overrides=(("scouting/multicast/enabled", "false"),
                                                                   ("listen/endpoints", "[]"))))
    received: list[Any] = []
    packer = ImuPacker("")
    motion = MotionModel()
    try:
        subscriber = session.declare_subscriber("**", received.append)
        publishers = [session.declare_publisher(put_key(s), encoding=zenoh.Encoding.APPLICATION_CDR.with_schema(
            IMU_TYPE)) for s in range(STREAMS)]
        for n in range(count):
            now_ns = time.time_ns()
            publishers[n % STREAMS].put(packer.pack(motion.state_at(n / RATE_HZ), now_ns),
                                        attachment=make_attachment(n // STREAMS + 1, now_ns))
        wait_until(lambda: len(received) >= count, 30.0)
        undeclare_all([subscriber, *publishers])
    finally:
        session.close()
    return received


def plot(axes: Any, result: BenchResult) -> None:
    names = [r["source"] for r in result.rows]
    axes.bar(names, [r["callback_us"] for r in result.rows], label="callback")
    axes.bar(names, [r["tick_us"] for r in result.rows], bottom=[r["callback_us"] for r in result.rows], label="tick")
    axes.set_ylabel("aggregator CPU per sample, us")
    axes.legend()
