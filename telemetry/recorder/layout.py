"""Where the recorder's files live, and what their names say.

    <folder>/vehicles/<region>/<vehicle>/<vehicle>_<UTC start>.mcap   one vehicle's segment
    <folder>/fleet/fleet_<UTC start>.mcap                             the aggregator's stats

A segment is written as `<name>.mcap.part` and renamed when closed, so a watcher (Foxglove's
agent, rsync) never takes a file that is still growing. The start time in the name sorts the
segments of one vehicle in time order, which retention and history rely on.
"""

from __future__ import annotations

import calendar
import os
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PART_SUFFIX", "SEGMENT_SUFFIX", "SegmentFile", "closed_path", "fleet_segment_path", "list_segments",
    "part_path", "segment_start_ns", "vehicle_folders", "vehicle_segment_path",
]

SEGMENT_SUFFIX = ".mcap"
PART_SUFFIX = ".mcap.part"
_VEHICLES = "vehicles"
_FLEET = "fleet"


@dataclass(frozen=True)
class SegmentFile:
    """One segment on disk; `closed` False for a `.part` (open, or left by a crash)."""

    path: Path
    size: int
    modified_s: float
    closed: bool


def _stamp(start_ns: int) -> str:
    seconds, ns = divmod(start_ns, 1_000_000_000)
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(seconds)) + f".{ns // 1_000_000:03d}Z"


def vehicle_segment_path(folder: Path, region: str, vehicle: str, start_ns: int) -> Path:
    """The closed name of `vehicle`'s segment that starts at `start_ns` (names are validated key chunks)."""
    return folder / _VEHICLES / region / vehicle / f"{vehicle}_{_stamp(start_ns)}{SEGMENT_SUFFIX}"


def fleet_segment_path(folder: Path, start_ns: int) -> Path:
    """The closed name of the fleet-stats segment that starts at `start_ns`."""
    return folder / _FLEET / f"fleet_{_stamp(start_ns)}{SEGMENT_SUFFIX}"


def segment_start_ns(path: Path) -> int | None:
    """The start time a segment's name gives (None for a name this layout did not make)."""
    stem = path.name.removesuffix(".part").removesuffix(SEGMENT_SUFFIX)
    stamp = stem.rsplit("_", 1)[-1]
    try:
        whole, millis = stamp.removesuffix("Z").split(".")
        seconds = calendar.timegm(time.strptime(whole, "%Y%m%dT%H%M%S"))
        return seconds * 1_000_000_000 + int(millis) * 1_000_000
    except ValueError:
        return None


def vehicle_folders(folder: Path) -> list[tuple[str, str, Path]]:
    """(region, vehicle, its folder) for every vehicle with segments under `folder`."""
    root = folder / _VEHICLES
    if not root.is_dir():
        return []
    return [(region.name, vehicle.name, vehicle)
            for region in sorted(root.iterdir()) if region.is_dir()
            for vehicle in sorted(region.iterdir()) if vehicle.is_dir()]


def part_path(path: Path) -> Path:
    """Where a segment is written until it is closed."""
    return path.with_name(path.name + ".part")


def closed_path(part: Path) -> Path:
    """The name a `.part` file gets when it is closed or repaired."""
    return part.with_name(part.name.removesuffix(".part"))


def list_segments(folder: Path) -> list[SegmentFile]:
    """Every segment under `folder`, closed and open, oldest first (by start time in the name)."""
    found: list[SegmentFile] = []
    for directory, _, names in os.walk(folder):
        for name in names:
            if not name.endswith((SEGMENT_SUFFIX, PART_SUFFIX)):
                continue
            path = Path(directory) / name
            try:
                status = path.stat()
            except FileNotFoundError:  # deleted or renamed while walking
                continue
            found.append(SegmentFile(path, status.st_size, status.st_mtime, name.endswith(SEGMENT_SUFFIX)))
    return sorted(found, key=lambda s: (s.path.name.rsplit("_", 1)[-1], str(s.path)))
