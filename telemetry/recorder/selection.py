"""Which streams the recorder keeps, and the thinning of each to its `max_rate_hz`.

A stream is kept when its vehicle is listed (or none are) and its topic matches one of the
patterns (or none are given); the first matching pattern's `max_rate_hz` applies. Thinning
keeps a sample when at least 1/max_rate_hz has passed, by source time, since the last one
kept: a steady 1 kHz stream thinned to 100 Hz keeps every tenth sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from telemetry.config.model import RecordedStreams

__all__ = ["Selection", "Thinning"]


@dataclass(frozen=True)
class Selection:
    """The recorder's choice of streams; empty tuples mean "all"."""

    vehicles: tuple[str, ...] = ()
    streams: tuple[RecordedStreams, ...] = ()

    def choose(self, vehicle: str, topic: str) -> tuple[bool, float | None]:
        """(kept, max_rate_hz) for one stream, decided once per stream and cached by the caller."""
        if self.vehicles and vehicle not in self.vehicles:
            return False, None
        if not self.streams:
            return True, None
        for stream in self.streams:
            if fnmatchcase(topic, stream.topic):
                return True, stream.max_rate_hz
        return False, None

    def patterns(self) -> Sequence[str]:
        return [s.topic for s in self.streams]


@dataclass
class Thinning:
    """One stream's decimation state."""

    max_rate_hz: float | None
    _period_ns: int = field(init=False)
    _next_ns: int | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._period_ns = 0 if self.max_rate_hz is None else round(1e9 / self.max_rate_hz)

    def keep(self, source_ns: int) -> bool:
        """True when the sample at `source_ns` is to be written."""
        if self._period_ns == 0:
            return True
        if self._next_ns is not None and source_ns < self._next_ns:
            return False
        # From the ideal grid, so that jitter does not make a 1 kHz stream thin to 90 Hz, but
        # never from further back than one period (a gap restarts the grid).
        base = source_ns if self._next_ns is None or source_ns - self._next_ns >= self._period_ns else self._next_ns
        self._next_ns = base + self._period_ns
        return True
