"""`VehicleKey`: the one name for "which vehicle" across the aggregator, the dashboard and tests.

A vehicle is known by its region and its name within it (the `<region>/<vehicle>` of every
key expression). As a bare `tuple[str, str]` the two strings could be swapped unnoticed and
the annotation said nothing; as a NamedTuple it still hashes, compares and unpacks like the
tuple (so `(region, vehicle) in mapping` keeps working), and it says what it holds.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["VehicleKey"]


class VehicleKey(NamedTuple):
    """A vehicle, by region and name."""

    region: str
    vehicle: str

    @property
    def path(self) -> str:
        """`<region>/<vehicle>`, as in key expressions and on the dashboard."""
        return f"{self.region}/{self.vehicle}"
