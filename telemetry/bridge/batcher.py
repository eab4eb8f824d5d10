"""One stream's samples waiting to leave the bridge together, and their msg/SampleBatch bytes.

Columns (sequence, source time) grow as plain Python lists and the payloads are joined once
per batch by the codec's hand-written encoder, so adding a sample costs three appends.
"""

from __future__ import annotations

from telemetry.codec.batch import BatchEncoder

__all__ = ["SampleBatcher"]


class SampleBatcher:
    """Samples of one stream waiting to go out: one alone, or several as one SampleBatch."""

    def __init__(self, ros_type: str, stamp_from_header: bool, version: int) -> None:
        self._encoder = BatchEncoder(ros_type, stamp_from_header, version)
        self.sequence: list[int] = []
        self.source_time_ns: list[int] = []
        self.payloads: list[bytes] = []

    def __len__(self) -> int:
        return len(self.payloads)

    def add(self, sequence: int, source_time_ns: int, payload: bytes) -> None:
        self.sequence.append(sequence)
        self.source_time_ns.append(source_time_ns)
        self.payloads.append(payload)

    def take_batch(self, send_time_ns: int) -> bytes:
        """The waiting samples as SampleBatch CDR bytes; the batcher starts empty again."""
        payload = self._encoder.encode(send_time_ns, self.sequence, self.source_time_ns, self.payloads)
        self.clear()
        return payload

    def clear(self) -> None:
        self.sequence, self.source_time_ns, self.payloads = [], [], []
