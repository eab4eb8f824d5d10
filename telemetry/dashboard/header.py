"""The two header lines: where the data comes from (and whether it is fresh), and fleet totals.

A dead aggregator or a lost router must be obvious at a glance, so those states are spelled
out in words, with what to do, rather than shown as a number that merely stops changing.
"""

from __future__ import annotations

from dataclasses import dataclass

from telemetry.dashboard import cells
from telemetry.dashboard.view import ConnectionState, ConnectionView, FleetTotals, RecorderView

__all__ = ["HeaderText", "connection_line", "recorder_part", "totals_line"]

#: Stats come every 0.5 s: this long without one means the aggregator is gone or cut off.
STATS_LATE_S = 3.0
#: A recorder reports every second: this long without a status means it is gone or cut off.
RECORDER_LATE_S = 5.0


@dataclass(frozen=True)
class HeaderText:
    text: str
    problem: bool  # drawn as a warning (CSS class `-problem`)


def connection_line(connection: ConnectionView) -> HeaderText:
    endpoints = ", ".join(connection.endpoints) or "the configured router"
    state = connection.state
    if state is ConnectionState.FAILED:
        return HeaderText(f"cannot open the Zenoh session: {connection.detail}", True)
    if state is ConnectionState.CONNECTING:
        return HeaderText(f"connecting to {endpoints}: no router answers yet, retrying", True)
    if state is ConnectionState.ROUTER_LOST:
        return HeaderText(f"router lost: {endpoints} went away, reconnecting by itself", True)
    routers = f"{len(connection.routers)} routers" if len(connection.routers) > 1 else "connected"
    router = f"router {endpoints} ({routers})"
    stats, problem = _stats_part(connection)
    if connection.malformed:
        noun = "message" if connection.malformed == 1 else "messages"
        stats += f" · {connection.malformed} bad {noun} ignored"
    return HeaderText(f"{router} · {stats}", problem)


def _stats_part(connection: ConnectionView) -> tuple[str, bool]:
    age = connection.last_stats_age_s
    if connection.embedded:
        who = "aggregator embedded"
    elif connection.aggregators:
        who = "aggregator " + ", ".join(a[:8] for a in connection.aggregators)
    else:
        who = ""
    if age is None:
        hint = connection.detail or "start `aggregator`, or run the dashboard with --embedded"
        return f"no aggregator: no stats received yet ({hint})", True
    if age > STATS_LATE_S:
        return f"no stats for {age:.0f} s: is the aggregator running?", True
    return f"{who} · stats {age:.1f} s ago" if who else f"stats {age:.1f} s ago", False


def recorder_part(recorders: tuple[RecorderView, ...]) -> HeaderText:
    """What the recorders are doing, for the end of the connection line ("" when none is running)."""
    parts, problem = [], False
    for recorder in recorders:
        if recorder.age_s > RECORDER_LATE_S:
            parts.append(f"recorder {recorder.name} silent for {recorder.age_s:.0f} s")
            problem = True
        elif recorder.disk_full:
            parts.append(f"recorder {recorder.name}: DISK FULL, {recorder.samples_dropped} samples dropped")
            problem = True
        else:
            free = cells.bytes_size(recorder.free_disk_bytes)
            parts.append(f"recording {cells.hz(recorder.samples_per_s)} samples/s "
                         f"{cells.bytes_rate(recorder.bytes_per_s)} · {free} free")
            if recorder.last_error:
                parts[-1] += f" ({recorder.last_error})"
                problem = True
    return HeaderText(" · ".join(parts), problem)


def totals_line(totals: FleetTotals) -> str:
    vehicles = (
        f"vehicles [green]{totals.online} online[/] · "
        + (f"[yellow]{totals.stale} stale[/]" if totals.stale else "0 stale")
        + " · "
        + (f"[red]{totals.offline} offline[/]" if totals.offline else "0 offline")
    )
    streams = f"streams {totals.streams_ok}/{totals.streams} ok"
    loss = cells.percent(totals.loss_pct, 2)
    if totals.lost:
        loss = f"[red]{loss} ({totals.lost} lost)[/]"
    return (
        f"{vehicles}   {streams}   {cells.hz(totals.samples_per_s)} samples/s   "
        f"{cells.bytes_rate(totals.bytes_per_s)}   worst p99 {_ms(totals.worst_p99_ms)}   loss {loss}"
    )


def _ms(value: float) -> str:
    text = cells.ms(value)
    return text if text == cells.UNKNOWN else f"{text} ms"
