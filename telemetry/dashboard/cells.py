"""Numbers to the short strings a table cell shows (Rich markup where colour carries meaning).

Pure functions: the snapshot tests and the table diff both rely on the same value always
giving the same text. NaN (not known yet) shows as an em dash, never as "nan".
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

from telemetry.fleet.status import VehicleStatus

__all__ = ["alert_time", "bar", "bytes_rate", "hz", "ms", "percent", "short_type", "signed_ms", "sparkline", "status"]

UNKNOWN = "—"
_BLOCKS = "▁▂▃▄▅▆▇█"
_EIGHTHS = " ▏▎▍▌▋▊▉█"
_STATUS = {
    VehicleStatus.ONLINE: "[green]● online[/]",
    VehicleStatus.STALE: "[yellow]◐ stale[/]",
    VehicleStatus.OFFLINE: "[red]○ offline[/]",
}


def status(value: VehicleStatus) -> str:
    return _STATUS[value]


def short_type(ros_type: str) -> str:
    """`sensor_msgs/msg/Imu` as `sensor_msgs/Imu`: the same name, narrower in a table."""
    package, _, name = ros_type.partition("/msg/")
    return f"{package}/{name}" if name else ros_type


def _three_figures(value: float) -> float:
    """`value` rounded to three significant figures, so the unit or decimals are chosen after
    rounding (999.6 is 1.00 k, not 1000 with no room left)."""
    return float(f"{value:.3g}")


def ms(value: float) -> str:
    """Milliseconds with three significant figures and fixed decimals: 0.312, 4.07, 12.3, 1234."""
    if math.isnan(value):
        return UNKNOWN
    rounded = _three_figures(value) + 0.0  # + 0.0 turns -0.0 into 0.0: one sign, never "+-0"
    size = abs(rounded)
    decimals = 3 if size < 1 else 2 if size < 10 else 1 if size < 100 else 0
    return f"{(rounded if size < 1000 else value):.{decimals}f}"


def signed_ms(value: float) -> str:
    """A clock offset: the sign always shown, since ahead and behind both matter."""
    text = ms(value)
    return text if text == UNKNOWN or text.startswith("-") else "+" + text


def hz(value: float) -> str:
    if math.isnan(value):
        return UNKNOWN
    return f"{value:.1f}" if round(value, 1) < 10_000 else f"{value / 1000:.1f} k"


def percent(value: float, digits: int = 1) -> str:
    return UNKNOWN if math.isnan(value) else f"{value:.{digits}f} %"


def bytes_rate(value: float) -> str:
    return bytes_size(value) + "/s" if not math.isnan(value) else UNKNOWN


def bytes_size(value: float) -> str:
    if math.isnan(value):
        return UNKNOWN
    rounded = _three_figures(value)
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if rounded >= size:
            return f"{rounded / size:.3g} {unit}"
    return f"{rounded:.0f} B"


def bar(ratio: float, width: int = 10) -> str:
    """A horizontal bar for 0..1 in eighths of a cell; over 1 is drawn full."""
    if math.isnan(ratio):
        return " " * width
    eighths = round(min(max(ratio, 0.0), 1.0) * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[part] if part else "")
    return text.ljust(width)


def sparkline(
    values: Sequence[float],
    width: int = 16,
    floor: float | None = None,
    reduce: Callable[[list[float]], float] = max,
) -> str:
    """`values` as at most `width` block characters, scaled between their min (or `floor`) and max.

    Longer histories are cut into `width` runs of consecutive points and each run drawn as
    `reduce` of it: `min` for a rate and `max` for a latency keep a short dip or spike visible
    instead of averaging it away.
    """
    points = [_reduced(run, reduce) for run in _runs(list(values), width)]
    known = [v for v in points if not math.isnan(v)]
    if not known:
        return " " * len(points)
    low = min(known) if floor is None else min(floor, min(known))
    high = max(known)
    span = high - low
    text = []
    for value in points:
        if math.isnan(value):
            text.append(" ")
        elif span <= 0:
            text.append(_BLOCKS[len(_BLOCKS) // 2] if high > 0 else _BLOCKS[0])
        else:
            text.append(_BLOCKS[min(len(_BLOCKS) - 1, int((value - low) / span * len(_BLOCKS)))])
    return "".join(text)


def _runs(values: list[float], width: int) -> list[list[float]]:
    """`values` cut into min(width, len) runs of consecutive points, as even as can be."""
    count = min(width, len(values))
    bounds = [round(i * len(values) / count) for i in range(count + 1)] if count else [0]
    return [values[bounds[i]:bounds[i + 1]] for i in range(count)]


def _reduced(run: list[float], reduce: Callable[[list[float]], float]) -> float:
    known = [v for v in run if not math.isnan(v)]
    return reduce(known) if known else math.nan


def alert_time(at_ns: int) -> str:
    """Local wall-clock time of an alert, to the second."""
    return time.strftime("%H:%M:%S", time.localtime(at_ns / 1e9))
