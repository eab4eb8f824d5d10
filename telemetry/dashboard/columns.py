"""The fleet table's and the detail table's columns: label, cell text, and sort order.

Each column knows how to show a row and how to sort by it, so sorting is by the value (a
p99 of 9 ms sorts below 10 ms) and never by the text on screen. Unknown values (NaN) sort
last whichever way the table is sorted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from telemetry.dashboard import cells
from telemetry.dashboard.view import StreamView, VehicleView
from telemetry.fleet.status import VehicleStatus

__all__ = ["FLEET_COLUMNS", "STREAM_COLUMNS", "Column", "matches", "ordered"]

_Row = TypeVar("_Row")


@dataclass(frozen=True)
class Column(Generic[_Row]):
    key: str
    label: str
    cell: Callable[[_Row], str]
    sort_value: Callable[[_Row], float | str]


def _ratio_cell(vehicle: VehicleView) -> str:
    ratio = vehicle.worst_rate_ratio
    text = cells.percent(100 * ratio, 0)
    return f"[red]{text}[/]" if not math.isnan(ratio) and vehicle.streams_ok < len(vehicle.streams) else text


def _streams_cell(vehicle: VehicleView) -> str:
    text = f"{vehicle.streams_ok} / {len(vehicle.streams)}"
    return f"[red]{text}[/]" if vehicle.streams_ok < len(vehicle.streams) else text


def _loss_cell(loss_pct: float) -> str:
    text = cells.percent(loss_pct, 2)
    return f"[red]{text}[/]" if loss_pct > 0 else text


_STATUS_ORDER = {VehicleStatus.OFFLINE: 0, VehicleStatus.STALE: 1, VehicleStatus.ONLINE: 2}

FLEET_COLUMNS: tuple[Column[VehicleView], ...] = (
    Column("status", "Status", lambda v: cells.status(v.status), lambda v: _STATUS_ORDER[v.status]),
    Column("vehicle", "Vehicle", lambda v: v.vehicle, lambda v: v.vehicle),
    Column("region", "Region", lambda v: v.region, lambda v: v.region),
    Column("streams", "Streams OK", _streams_cell, lambda v: v.streams_ok - len(v.streams)),
    Column("rate", "Rate Hz", lambda v: cells.hz(v.rate_hz), lambda v: v.rate_hz),
    Column("ratio", "Worst rate", _ratio_cell, lambda v: v.worst_rate_ratio),
    Column("p99", "Worst p99 ms", lambda v: cells.ms(v.worst_p99_ms), lambda v: v.worst_p99_ms),
    Column("loss", "Loss", lambda v: _loss_cell(v.loss_pct), lambda v: v.loss_pct),
    Column("clock", "Clock offset ms", lambda v: cells.signed_ms(v.clock_offset_ms), lambda v: v.clock_offset_ms),
)


def _rate_cell(stream: StreamView) -> str:
    return f"{cells.hz(stream.rate_hz)} / {cells.hz(stream.expected_hz)}"


def _bar_cell(stream: StreamView) -> str:
    text = f"{cells.bar(stream.rate_ratio, 8)} {cells.percent(100 * stream.rate_ratio, 0)}"
    return text if stream.ok else f"[red]{text}[/]"


def _hops_cell(stream: StreamView) -> str:
    """Lost in the window, hop by hop: source -> bridge (DDS) / in the bridge / on the network."""
    text = f"{stream.lost_dds}/{stream.dropped_bridge}/{stream.lost}"
    return f"[red]{text}[/]" if stream.lost_dds or stream.dropped_bridge or stream.lost else text


def _type_cell(stream: StreamView) -> str:
    """The short type, and how many samples a Zenoh message carried when more than one."""
    per_message = stream.samples_per_message
    batched = f" ×{per_message:.2g}" if per_message >= 1.05 else (" (batched)" if stream.batched else "")
    return cells.short_type(stream.ros_type) + batched


#: Sparkline cells: the whole history (3 minutes by default) squeezed into this many blocks.
TREND_WIDTH = 12

STREAM_COLUMNS: tuple[Column[StreamView], ...] = (
    Column("topic", "Topic", lambda s: s.topic, lambda s: s.topic),
    Column("type", "Type", _type_cell, lambda s: s.ros_type),
    Column("rate", "Hz / expected", _rate_cell, lambda s: s.rate_hz),
    Column("ratio", "Rate", _bar_cell, lambda s: s.rate_ratio),
    Column("source", "Src Hz", lambda s: cells.hz(s.source_rate_hz), lambda s: s.source_rate_hz),
    Column("p50", "p50 ms", lambda s: cells.ms(s.latency_p50_ms), lambda s: s.latency_p50_ms),
    Column("p90", "p90 ms", lambda s: cells.ms(s.latency_p90_ms), lambda s: s.latency_p90_ms),
    Column("p99", "p99 ms", lambda s: cells.ms(s.latency_p99_ms), lambda s: s.latency_p99_ms),
    Column("max", "max ms", lambda s: cells.ms(s.latency_max_ms), lambda s: s.latency_max_ms),
    Column("jitter", "Jitter ms", lambda s: cells.ms(s.jitter_ms), lambda s: s.jitter_ms),
    Column("hops", "Lost d/b/n", _hops_cell, lambda s: s.lost_dds + s.dropped_bridge + s.lost),
    Column("bandwidth", "Bandwidth", lambda s: cells.bytes_rate(s.bytes_per_s), lambda s: s.bytes_per_s),
    Column("rate_trend", "Rate trend", lambda s: cells.sparkline(s.rate_history, TREND_WIDTH, floor=0.0, reduce=min),
           lambda s: s.rate_hz),
    Column("p99_trend", "p99 trend", lambda s: cells.sparkline(s.p99_history, TREND_WIDTH, floor=0.0),
           lambda s: s.latency_p99_ms),
)


def ordered(rows: Sequence[_Row], column: Column[_Row], descending: bool, tie: Callable[[_Row], str]) -> list[_Row]:
    """`rows` sorted by `column`'s value, unknown values last, ties broken by `tie` ascending."""
    def unknown(row: _Row) -> bool:
        value = column.sort_value(row)
        return isinstance(value, float) and math.isnan(value)

    known = sorted((r for r in rows if not unknown(r)), key=tie)
    known.sort(key=column.sort_value, reverse=descending)  # stable: ties keep `tie` order
    return known + sorted((r for r in rows if unknown(r)), key=tie)


def matches(vehicle: VehicleView, text: str, region: str | None) -> bool:
    """The filter: `region` exactly (None: any), and `text` anywhere in region/vehicle or status."""
    if region is not None and vehicle.region != region:
        return False
    needle = text.strip().lower()
    return not needle or needle in vehicle.key.lower() or needle == vehicle.status.name.lower()
