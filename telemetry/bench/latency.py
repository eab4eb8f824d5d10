"""Latency, rate and loss of one stream from recorded arrays: pure numpy, no I/O.

The maths are the aggregator's (DESIGN: stats, defined once): percentiles from
telemetry.fleet.stats, loss from telemetry.fleet.sequence's gap classification. Only the
inputs differ: a whole recorded window at once, and p99.9, which the comparisons need."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from telemetry.fleet.sequence import MAX_JUMP_LIMIT, classify_gaps
from telemetry.fleet.stats import latency_percentiles_ms

__all__ = ["PERCENTILES", "StreamMeasure", "measure_stream"]

PERCENTILES = (50.0, 90.0, 99.0, 99.9)


@dataclass(frozen=True)
class StreamMeasure:
    samples: int
    rate_hz: float
    lost: int
    latency_ms: dict[str, float]  # "p50", "p90", "p99", "p99.9", "max"
    bytes_per_s: float

    def as_row(self) -> dict[str, float | int]:
        return {"samples": self.samples, "rate_hz": round(self.rate_hz, 2), "lost": self.lost,
                **{f"{name}_ms": round(value, 4) for name, value in self.latency_ms.items()},
                "MB_per_s": round(self.bytes_per_s / 1e6, 4)}


def measure_stream(
    receive_ns: npt.NDArray[np.int64],
    source_ns: npt.NDArray[np.int64],
    sequence: npt.NDArray[np.uint64],
    sizes: npt.NDArray[np.int64],
    window_s: float,
) -> StreamMeasure:
    """One stream over a window of `window_s`: loss is the sequence numbers missing between
    the first and the last one received (late duplicates do not count twice)."""
    count = int(receive_ns.size)
    if count == 0:
        nan = math.nan
        return StreamMeasure(0, 0.0, 0, {"p50": nan, "p90": nan, "p99": nan, "p99.9": nan, "max": nan}, 0.0)
    latency_ns = receive_ns - source_ns
    base_ns = int(latency_ns.min())
    values = latency_percentiles_ms((latency_ns - base_ns).astype(np.float64), base_ns, PERCENTILES)
    names = [*(f"p{p:g}" for p in PERCENTILES), "max"]
    # One recorded window, judged on its own: no restarts in a bench, so no jump limit either.
    lost = classify_gaps(None, sequence, MAX_JUMP_LIMIT).lost
    return StreamMeasure(
        samples=count,
        rate_hz=count / window_s,
        lost=lost,
        latency_ms=dict(zip(names, values, strict=True)),
        bytes_per_s=float(sizes.sum()) / window_s,
    )
