"""Send at a fixed rate on absolute deadlines (no drift), as sensor drivers do."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["deadline_loop"]


def deadline_loop(send: Callable[[int], object], rate_hz: float, stop: threading.Event) -> int:
    """Call `send(sequence)` with 1, 2, 3, ... every 1/`rate_hz` s until `stop`; how many were sent."""
    period_ns = int(1e9 / rate_hz)
    next_ns = time.monotonic_ns()
    sequence = 0
    while not stop.is_set():
        delay_ns = next_ns - time.monotonic_ns()
        if delay_ns > 0:
            time.sleep(delay_ns / 1e9)
        sequence += 1
        send(sequence)
        next_ns += period_ns
    return sequence
