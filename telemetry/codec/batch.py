"""Read a msg/SampleBatch into numpy columns, for the aggregator's vectorised passes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from telemetry.codec.store import TypeStore
from telemetry.errors import CodecError

__all__ = ["BATCH_TYPE", "BatchColumns", "read_batch"]

BATCH_TYPE = "telemetry/msg/SampleBatch"


@dataclass(frozen=True)
class BatchColumns:
    """The per-sample columns of one batch; `data` holds the samples back to back."""

    ros_type: str
    stamp_from_header: bool
    send_ns: int
    sequence: np.ndarray  # uint64
    source_ns: np.ndarray  # int64
    size: np.ndarray  # int64
    data: bytes


def read_batch(store: TypeStore, payload: bytes) -> BatchColumns:
    """Decode and check a batch: columns of equal length, sizes adding up to the data."""
    batch = store.decode(BATCH_TYPE, payload)
    version = store.message_class(BATCH_TYPE).VERSION
    if batch.version != version:
        raise CodecError(f"{BATCH_TYPE}: unknown version {batch.version} (this build reads {version})")
    sequence = np.asarray(batch.sequence, dtype=np.uint64)
    source_ns = np.asarray(batch.source_time_ns, dtype=np.int64)
    size = np.asarray(batch.size, dtype=np.int64)
    if not len(sequence) == len(source_ns) == len(size):
        raise CodecError(
            f"{BATCH_TYPE}: columns differ in length (sequence {len(sequence)}, "
            f"source_time_ns {len(source_ns)}, size {len(size)})"
        )
    if int(size.sum()) != len(batch.data):
        raise CodecError(f"{BATCH_TYPE}: sizes add up to {int(size.sum())} bytes, data holds {len(batch.data)}")
    send_ns = batch.stamp.sec * 1_000_000_000 + batch.stamp.nanosec
    return BatchColumns(batch.ros_type, batch.stamp_from_header, send_ns, sequence, source_ns, size, batch.data)
