"""Latency, rate and loss of one stream from recorded arrays: pure numpy, no I/O."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

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
    latency_ms = (receive_ns - source_ns).astype(np.float64) / 1e6
    values = np.percentile(latency_ms, PERCENTILES)
    names = [f"p{p:g}" for p in PERCENTILES]
    unique = np.unique(sequence)
    lost = int(unique[-1] - unique[0] + 1 - unique.size)
    return StreamMeasure(
        samples=count,
        rate_hz=count / window_s,
        lost=lost,
        latency_ms={**dict(zip(names, map(float, values))), "max": float(latency_ms.max())},
        bytes_per_s=float(sizes.sum()) / window_s,
    )
