"""The one polling loop: look, and if not yet, sleep a short interval until a deadline.

Every wait in the package and its tests is for a condition (a line, a port, a count), never a
fixed sleep; this is the loop they share, so its deadline rule is written once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["poll_until", "wait_until"]

T = TypeVar("T")


def poll_until(probe: Callable[[], T | None], timeout_s: float, interval_s: float = 0.02) -> T | None:
    """The first value `probe()` returns that is not None, or None once `timeout_s` has passed.

    `probe` runs at least once, and once more at the deadline's edge; it may raise to end the
    wait early (a child that exited will never print its ready line).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        result = probe()
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval_s)


def wait_until(condition: Callable[[], object], timeout_s: float, interval_s: float = 0.02) -> bool:
    """Poll `condition` until it is truthy (True) or `timeout_s` passes (False)."""
    return poll_until(lambda: True if condition() else None, timeout_s, interval_s) is not None
