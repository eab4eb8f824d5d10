"""The fleet as plain frozen data: regions, routers, vehicles and the streams they forward.

Nothing here parses or knows about rclpy or Zenoh. `Priority` names Zenoh's priorities as
strings so that only the Zenoh adapter maps them to `zenoh.Priority`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from telemetry.errors import ConfigError

__all__ = [
    "AlertThresholds",
    "FleetConfig",
    "Priority",
    "RecordedStreams",
    "RecordingConfig",
    "RegionConfig",
    "RetentionConfig",
    "RouterConfig",
    "StreamConfig",
    "VehicleConfig",
    "VehicleSource",
]


class Priority(StrEnum):
    """Zenoh's message priorities, highest first; the Zenoh adapter maps them to its enum."""

    REAL_TIME = "real_time"
    INTERACTIVE_HIGH = "interactive_high"
    INTERACTIVE_LOW = "interactive_low"
    DATA_HIGH = "data_high"
    DATA = "data"
    DATA_LOW = "data_low"
    BACKGROUND = "background"


@dataclass(frozen=True)
class StreamConfig:
    """One ROS topic a vehicle forwards, and how the bridge treats it on the way."""

    topic: str
    ros_type: str
    rate_hz: float
    priority: Priority = Priority.DATA
    max_rate_hz: float | None = None
    batch_ms: float | None = None  # the latency budget; None (or 0 in the file): each sample at once
    reliable: bool = False
    queue_depth: int | None = None  # the bridge's DDS reader history; None: the QoS profile's

    @property
    def forwarded_rate_hz(self) -> float:
        """The rate that leaves the bridge: what the aggregator should expect to see."""
        if self.max_rate_hz is None:
            return self.rate_hz
        return min(self.rate_hz, self.max_rate_hz)


@dataclass(frozen=True)
class RouterConfig:
    """A Zenoh router's listen endpoints (`tcp/127.0.0.1:7448`): where its clients connect."""

    listen: tuple[str, ...]


@dataclass(frozen=True)
class RegionConfig:
    """A region: a regional router that its vehicles connect to and that connects to the cloud."""

    name: str
    router: RouterConfig


class VehicleSource(StrEnum):
    """How a vehicle's streams reach Zenoh."""

    BRIDGE = "bridge"  # our zenoh_bridge on the vehicle, under the fleet's keys
    RMW_ZENOH = "rmw_zenoh"  # its ROS 2 nodes run rmw_zenoh: their own keys, nothing of ours on board


@dataclass(frozen=True)
class VehicleConfig:
    """A vehicle: its region, the ROS domain its nodes run in, and the streams it forwards.

    An rmw_zenoh vehicle's data keys start with its domain id and its topics with its
    `namespace` (`/robot1`; `/` for none), so those two tell its samples apart from another's."""

    name: str
    region: str
    ros_domain_id: int
    streams: tuple[StreamConfig, ...]
    source: VehicleSource = VehicleSource.BRIDGE
    namespace: str = "/"


@dataclass(frozen=True)
class AlertThresholds:
    """When the dashboard raises an alert: a stream below `min_rate_ratio` of its expected rate,
    or with a p99 latency above `max_latency_p99_ms`. Any loss is always an alert."""

    min_rate_ratio: float = 0.9
    max_latency_p99_ms: float = 10.0

    def __post_init__(self) -> None:
        if not 0.0 < self.min_rate_ratio <= 1.0:
            raise ConfigError(f"min_rate_ratio: must be in (0, 1], got {self.min_rate_ratio:g}")
        if not self.max_latency_p99_ms > 0.0:
            raise ConfigError(f"max_latency_p99_ms: must be > 0, got {self.max_latency_p99_ms:g}")


@dataclass(frozen=True)
class RecordedStreams:
    """Streams the recorder keeps: topics matching `topic` (a shell pattern, `/imu*`), thinned
    to at most `max_rate_hz` (None: every sample)."""

    topic: str
    max_rate_hz: float | None = None


@dataclass(frozen=True)
class RetentionConfig:
    """When the recorder deletes its oldest closed segments; None: no limit of that kind."""

    max_total_mb: float | None = None
    max_age_h: float | None = None


@dataclass(frozen=True)
class RecordingConfig:
    """What the recorder writes and where: the fleet file's `recording:` section."""

    folder: str = "recordings"
    segment_s: float = 300.0
    segment_mb: float = 512.0
    retention: RetentionConfig = RetentionConfig()
    streams: tuple[RecordedStreams, ...] = ()  # empty: every stream
    vehicles: tuple[str, ...] = ()  # empty: every vehicle


@dataclass(frozen=True)
class FleetConfig:
    """The whole fleet, as read from `source` (kept so later errors can name the file)."""

    source: str
    key_root: str
    cloud: RouterConfig
    regions: tuple[RegionConfig, ...]
    vehicles: tuple[VehicleConfig, ...]
    alerts: AlertThresholds = AlertThresholds()
    recording: RecordingConfig = RecordingConfig()

    def region(self, name: str) -> RegionConfig:
        """The region called `name`; a ConfigError listing the known ones otherwise."""
        for region in self.regions:
            if region.name == name:
                return region
        raise self._unknown("region", name, [r.name for r in self.regions])

    def vehicle(self, name: str) -> VehicleConfig:
        """The vehicle called `name`; a ConfigError listing the known ones otherwise."""
        for vehicle in self.vehicles:
            if vehicle.name == name:
                return vehicle
        raise self._unknown("vehicle", name, [v.name for v in self.vehicles])

    def vehicles_in(self, region: str) -> tuple[VehicleConfig, ...]:
        """The vehicles of `region`, in file order; a ConfigError if no such region exists."""
        self.region(region)
        return tuple(v for v in self.vehicles if v.region == region)

    def _unknown(self, what: str, name: str, known: list[str]) -> ConfigError:
        return ConfigError(f"{self.source}: no {what} {name!r} (known: {', '.join(known)})")
