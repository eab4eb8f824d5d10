"""The floor: a plain Zenoh publisher with no ROS and no bridge logic, same bytes and rate.

    python -m telemetry.bench.publisher --connect tcp/127.0.0.1:7448 --key telemetry/data/r/v/imu \
        --rate-hz 1000 --size 316

It puts a payload of `--size` bytes with the same 32-byte attachment as the bridge (sequence,
source time = now, send time = now) on absolute deadlines, with the settings the bridge uses
for the IMU (express, data_high, congestion control DROP) and the vehicle's Zenoh config, so
the only difference from the real pipeline is ROS and the bridge. Prints `publisher ready`,
and `publisher sent N` on SIGTERM.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

import zenoh

from telemetry.codec.attachment import pack_fields
from telemetry.config import shipped_file
from telemetry.console import stop_on_signals
from telemetry.net import BackgroundSession, SessionOptions
from telemetry.sim.schedule import run_on_deadlines

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="publisher", description=__doc__.split("\n\n")[0])
    parser.add_argument("--connect", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--rate-hz", type=float, default=1000.0)
    parser.add_argument("--size", type=int, default=316, help="payload bytes (316: a serialized Imu)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    stop = stop_on_signals()
    options = SessionOptions(config_path=shipped_file("config/zenoh/vehicle.json5"), mode="client",
                             connect=(args.connect,))
    with BackgroundSession(options, name="publisher") as link:
        session = link.wait(30)
        if session is None:
            print("publisher: no router", file=sys.stderr)
            return 1
        publisher = session.declare_publisher(
            args.key, express=True, priority=zenoh.Priority.DATA_HIGH,
            congestion_control=zenoh.CongestionControl.DROP,
        )
        print("publisher ready", flush=True)
        sent = _run(publisher, bytes(args.size), args.rate_hz, stop)
        publisher.undeclare()
    print(f"publisher sent {sent}", flush=True)
    return 0


def _run(publisher: zenoh.Publisher, payload: bytes, rate_hz: float, stop: threading.Event) -> int:
    def put(sequence: int) -> None:
        now_ns = time.time_ns()
        publisher.put(payload, attachment=pack_fields(sequence, now_ns, now_ns, stamp_from_header=True))

    return run_on_deadlines(put, rate_hz, stop)


if __name__ == "__main__":
    sys.exit(main())
