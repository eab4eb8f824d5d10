"""The fleet description: which regions, routers, vehicles and streams exist.

config/fleet.yaml is the one source of truth that launch files, `telemetry demo`, the bridge
and the aggregator all read, so it is checked hard, once, at start-up: every mistake is a
`ConfigError` that names the file, the path inside it and what is wrong
(`config/fleet.yaml: vehicles[2].streams[0].rate_hz: must be > 0, got -5`), and unknown
fields are errors so a typo cannot silently fall back to a default. Parsing stops at the
first mistake, found in a fixed order, so the same file always gives the same message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from telemetry.codec import TypeStore, normalize_type_name
from telemetry.config.model import (
    AlertThresholds,
    FleetConfig,
    Priority,
    RecordingConfig,
    RegionConfig,
    RouterConfig,
    StreamConfig,
    VehicleConfig,
    VehicleSource,
)
from telemetry.config.recording import parse_recording
from telemetry.config.shipped import shipped_file
from telemetry.config.yaml_fields import (
    Context,
    boolean,
    check_unique,
    describe,
    fields,
    join_path,
    key_part,
    load_yaml,
    non_empty_list,
    non_empty_string,
    number,
    optional,
    positive,
)
from telemetry.errors import CodecError, ConfigError
from telemetry.keys import (
    DEFAULT_ROOT,
    KeySpace,
    RmwZenohMap,
    RmwZenohVehicle,
    key_to_topic,
    namespace_name,
    topic_to_key,
    validate_name,
)

__all__ = [
    "MAX_BATCH_MS",
    "MAX_ROS_DOMAIN_ID",
    "default_fleet_config_path",
    "load_fleet_config",
    "parse_fleet_config",
    "rmw_zenoh_map",
]

#: ROS 2 maps a domain id to DDS ports; above 232 the ports leave the valid range.
MAX_ROS_DOMAIN_ID = 232
#: A batch is for cutting per-message overhead, not for holding data back: cap it at 1 s.
MAX_BATCH_MS = 1000.0
#: A DDS reader queue deeper than this holds seconds of a 1 kHz stream: a typo, not a choice.
MAX_QUEUE_DEPTH = 10_000

_SHIPPED_FLEET = Path("config") / "fleet.yaml"

_IP_PROTOCOLS = ("tcp", "udp", "tls", "quic", "ws")
_PROTOCOLS = (*_IP_PROTOCOLS, "unixsock-stream")
_HOST_PORT = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(?P<port>[0-9]+)")


def default_fleet_config_path() -> Path:
    """The shipped config/fleet.yaml: the source tree's in a checkout, else the installed copy."""
    try:
        return shipped_file(_SHIPPED_FLEET, anchor=Path(__file__))
    except ConfigError as error:
        raise ConfigError(str(error).replace("shipped file", "shipped fleet config")) from None


def load_fleet_config(path: str | Path, types: TypeStore | None = None) -> FleetConfig:
    """Read and check a fleet file; `types` (default: the ROS environment's) vets stream types."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{source}: file not found") from None
    except OSError as error:
        raise ConfigError(f"{source}: cannot read file: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{source}: cannot read file: not UTF-8 text (byte {error.start})") from None
    return parse_fleet_config(text, source, types if types is not None else TypeStore.from_environment())


def parse_fleet_config(text: str, source: str, types: TypeStore) -> FleetConfig:
    """Check fleet YAML given as text; `source` is the name used in error messages."""
    context = _FleetContext(source, types)
    raw = fields(context, "", load_yaml(text, source), _TOP_REQUIRED, _TOP_OPTIONAL)
    key_root = optional(context, raw, "", "key_root", _key_root) or DEFAULT_ROOT
    cloud_raw = fields(context, "cloud", raw["cloud"], ("router",), ())
    cloud = _router(context, "cloud.router", cloud_raw["router"])
    regions = _regions(context, "regions", raw["regions"])
    _check_endpoints_unique(context, cloud, regions)
    defaults = _defaults(context, "defaults", raw.get("defaults"))
    vehicles = _vehicles(context, "vehicles", raw["vehicles"], [r.name for r in regions], defaults)
    alerts = optional(context, raw, "", "alerts", _alerts) or AlertThresholds()
    recording = optional(context, raw, "", "recording", parse_recording) or RecordingConfig()
    unknown = sorted(set(recording.vehicles) - {v.name for v in vehicles})
    if unknown:
        known = ", ".join(v.name for v in vehicles)
        raise context.error("recording.vehicles", f"unknown vehicle {unknown[0]!r} (known: {known})")
    return FleetConfig(source, key_root, cloud, regions, vehicles, alerts, recording)


@dataclass(frozen=True)
class _FleetContext(Context):
    """The file name for messages, plus the ROS message types that stream types are vetted against."""

    types: TypeStore


# --- sections ------------------------------------------------------------------------------

_TOP_REQUIRED = ("cloud", "regions", "vehicles")
_TOP_OPTIONAL = ("key_root", "defaults", "alerts", "recording")
_VEHICLE_REQUIRED = ("name", "region", "ros_domain_id")
_VEHICLE_OPTIONAL = ("streams", "source", "namespace")
_STREAM_REQUIRED = ("topic", "type", "rate_hz")
_STREAM_OPTIONAL = ("priority", "max_rate_hz", "batch_ms", "queue_depth", "reliable")

_Streams = tuple[StreamConfig, ...]


def _key_root(context: _FleetContext, path: str, value: object) -> str:
    """The root may span chunks (`acme/telemetry`); KeySpace knows what a valid root is."""
    return key_part(context, path, value, lambda root: KeySpace(root).root)


def _absolute_topic(topic: str) -> str:
    """`imu` and `/imu` are one stream (one key); store the absolute form ROS resolves."""
    return key_to_topic(topic_to_key(topic))


def _endpoint(context: _FleetContext, path: str, value: object) -> str:
    """A Zenoh endpoint, checked loosely: enough to catch typos, not to replace Zenoh's parser."""
    endpoint = non_empty_string(context, path, value)
    locator = re.split(r"[?#]", endpoint, maxsplit=1)[0]
    protocol, slash, address = locator.partition("/")
    problem = f"endpoint {endpoint!r}"
    if not slash or protocol not in _PROTOCOLS:
        expected = ", ".join(_PROTOCOLS)
        raise context.error(path, f"{problem}: expected <protocol>/<address> with protocol one of {expected}")
    if protocol not in _IP_PROTOCOLS:
        if not address:
            raise context.error(path, f"{problem}: missing the socket path")
        return endpoint
    match = _HOST_PORT.fullmatch(address)
    if match is None:
        raise context.error(path, f"{problem}: address must be <host>:<port> (IPv6 as [::1]:7447)")
    if not 1 <= int(match["port"]) <= 65535:
        raise context.error(path, f"{problem}: port must be in 1..65535, got {match['port']}")
    return endpoint


def _router(context: _FleetContext, path: str, value: object) -> RouterConfig:
    raw = fields(context, path, value, ("listen",), ())
    listen_path = join_path(path, "listen")
    endpoints = non_empty_list(context, listen_path, raw["listen"], "endpoint")
    return RouterConfig(tuple(_endpoint(context, f"{listen_path}[{i}]", e) for i, e in enumerate(endpoints)))


def _regions(context: _FleetContext, path: str, value: object) -> tuple[RegionConfig, ...]:
    regions: list[RegionConfig] = []
    seen: dict[object, str] = {}
    for index, item in enumerate(non_empty_list(context, path, value, "region")):
        item_path = f"{path}[{index}]"
        raw = fields(context, item_path, item, ("name", "router"), ())
        name_path = join_path(item_path, "name")
        name = key_part(context, name_path, raw["name"], lambda n: validate_name(n, "region"))
        check_unique(context, name_path, "region", name, seen)
        regions.append(RegionConfig(name, _router(context, join_path(item_path, "router"), raw["router"])))
    return tuple(regions)


def _check_endpoints_unique(
    context: _FleetContext, cloud: RouterConfig, regions: Iterable[RegionConfig]
) -> None:
    """Two routers cannot listen on one endpoint: the second would fail to bind at run time."""
    seen: dict[object, str] = {}
    routers = [("cloud.router", cloud)] + [(f"regions[{i}].router", r.router) for i, r in enumerate(regions)]
    for router_path, router in routers:
        for index, endpoint in enumerate(router.listen):
            check_unique(context, f"{router_path}.listen[{index}]", "endpoint", endpoint, seen)


def _defaults(context: _FleetContext, path: str, value: object) -> _Streams | None:
    """Streams for vehicles that list none: checked here once, at their own path."""
    if value is None:
        return None
    raw = fields(context, path, value, (), ("streams",))
    return optional(context, raw, path, "streams", _streams)


def _alerts(context: _FleetContext, path: str, value: object) -> AlertThresholds:
    """The dashboard's alert thresholds; each field left out keeps its default."""
    raw = fields(context, path, value, (), ("min_rate_ratio", "max_latency_p99_ms"))
    defaults = AlertThresholds()
    ratio = optional(context, raw, path, "min_rate_ratio", positive)
    if ratio is not None and ratio > 1:
        raise context.error(
            join_path(path, "min_rate_ratio"),
            f"must be in (0, 1] (a share of the expected rate), got {describe(raw['min_rate_ratio'])}",
        )
    p99_ms = optional(context, raw, path, "max_latency_p99_ms", positive)
    return AlertThresholds(
        defaults.min_rate_ratio if ratio is None else ratio,
        defaults.max_latency_p99_ms if p99_ms is None else p99_ms,
    )


def _vehicles(
    context: _FleetContext, path: str, value: object, regions: list[str], defaults: _Streams | None
) -> tuple[VehicleConfig, ...]:
    vehicles: list[VehicleConfig] = []
    names: dict[object, str] = {}
    # Who would share traffic: bridged vehicles of one region on one ROS domain (DDS), and
    # rmw_zenoh vehicles on one domain and namespace anywhere (their Zenoh keys are global).
    users: dict[tuple[object, ...], VehicleConfig] = {}
    for index, item in enumerate(non_empty_list(context, path, value, "vehicle")):
        item_path = f"{path}[{index}]"
        vehicle = _vehicle(context, item_path, item, regions, defaults)
        check_unique(context, join_path(item_path, "name"), "vehicle", vehicle.name, names)
        rmw_zenoh = vehicle.source is VehicleSource.RMW_ZENOH
        shared = ((vehicle.source, vehicle.ros_domain_id, vehicle.namespace) if rmw_zenoh
                  else (vehicle.source, vehicle.region, vehicle.ros_domain_id))
        other = users.setdefault(shared, vehicle)
        if other is not vehicle and rmw_zenoh:
            raise context.error(
                join_path(item_path, "namespace"),
                f"rmw_zenoh vehicles {other.name!r} and {vehicle.name!r} both use ROS domain "
                f"{vehicle.ros_domain_id} and namespace {vehicle.namespace!r}; their keys would be the same",
            )
        if other is not vehicle:
            raise context.error(
                join_path(item_path, "ros_domain_id"),
                f"vehicle {vehicle.name!r} uses ROS domain {vehicle.ros_domain_id}, already used by "
                f"vehicle {other.name!r} in region {vehicle.region!r}; their DDS traffic would mix",
            )
        vehicles.append(vehicle)
    return tuple(vehicles)


def _vehicle(
    context: _FleetContext, path: str, value: object, regions: list[str], defaults: _Streams | None
) -> VehicleConfig:
    raw = fields(context, path, value, _VEHICLE_REQUIRED, _VEHICLE_OPTIONAL)
    name = key_part(context, join_path(path, "name"), raw["name"], lambda n: validate_name(n, "vehicle"))
    region = non_empty_string(context, join_path(path, "region"), raw["region"])
    if region not in regions:
        known = ", ".join(regions)
        raise context.error(join_path(path, "region"), f"unknown region {region!r} (known: {known})")
    domain_id = _domain_id(context, join_path(path, "ros_domain_id"), raw["ros_domain_id"])
    streams = optional(context, raw, path, "streams", _streams) or defaults
    if streams is None:
        raise context.error(join_path(path, "streams"), "missing (and no defaults.streams to fall back on)")
    source = optional(context, raw, path, "source", _source) or VehicleSource.BRIDGE
    namespace = optional(context, raw, path, "namespace",
                         lambda c, p, v: key_part(c, p, v, namespace_name)) or "/"
    if namespace != "/" and source is not VehicleSource.RMW_ZENOH:
        raise context.error(join_path(path, "namespace"),
                            "only for `source: rmw_zenoh` (a bridged vehicle's topics are given whole)")
    return VehicleConfig(name, region, domain_id, streams, source, namespace)


def _source(context: _FleetContext, path: str, value: object) -> VehicleSource:
    try:
        return VehicleSource(non_empty_string(context, path, value))
    except ValueError:
        known = ", ".join(s.value for s in VehicleSource)
        raise context.error(path, f"unknown source {value!r} (known: {known})") from None


def _domain_id(context: _FleetContext, path: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise context.error(path, f"must be an integer, got {describe(value)}")
    if not 0 <= value <= MAX_ROS_DOMAIN_ID:
        raise context.error(
            path,
            f"must be in 0..{MAX_ROS_DOMAIN_ID} (ROS 2 derives DDS ports from it; "
            f"larger ids give invalid ports), got {value}",
        )
    return value


def _streams(context: _FleetContext, path: str, value: object) -> _Streams:
    streams: list[StreamConfig] = []
    keys: dict[object, str] = {}
    for index, item in enumerate(non_empty_list(context, path, value, "stream")):
        item_path = f"{path}[{index}]"
        stream = _stream(context, item_path, item)
        topic_path = join_path(item_path, "topic")
        key = topic_to_key(stream.topic)
        if key in keys:
            raise context.error(
                topic_path, f"duplicate topic {stream.topic!r}: same Zenoh key {key!r} as {keys[key]}"
            )
        keys[key] = topic_path
        streams.append(stream)
    return tuple(streams)


def _stream(context: _FleetContext, path: str, value: object) -> StreamConfig:
    raw = fields(context, path, value, _STREAM_REQUIRED, _STREAM_OPTIONAL)
    topic = key_part(context, join_path(path, "topic"), raw["topic"], _absolute_topic)
    ros_type = _ros_type(context, join_path(path, "type"), raw["type"])
    rate_hz = positive(context, join_path(path, "rate_hz"), raw["rate_hz"])
    priority = optional(context, raw, path, "priority", _priority) or Priority.DATA
    max_rate_hz = optional(context, raw, path, "max_rate_hz", positive)
    if max_rate_hz is not None and max_rate_hz > rate_hz:
        raise context.error(
            join_path(path, "max_rate_hz"),
            f"must be <= rate_hz ({describe(raw['rate_hz'])}), got {describe(raw['max_rate_hz'])}: "
            "the bridge can only drop samples, never forward more than the topic publishes",
        )
    batch_ms = optional(context, raw, path, "batch_ms", _batch_ms)
    queue_depth = optional(context, raw, path, "queue_depth", _queue_depth)
    reliable = optional(context, raw, path, "reliable", boolean)
    return StreamConfig(topic, ros_type, rate_hz, priority, max_rate_hz, batch_ms or None, bool(reliable), queue_depth)


def _queue_depth(context: _FleetContext, path: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise context.error(path, f"must be an integer, got {describe(value)}")
    if not 1 <= value <= MAX_QUEUE_DEPTH:
        raise context.error(path, f"must be in 1..{MAX_QUEUE_DEPTH}, got {value}")
    return value


def _ros_type(context: _FleetContext, path: str, value: object) -> str:
    try:
        name = normalize_type_name(non_empty_string(context, path, value))
    except CodecError as error:
        raise context.error(path, str(error)) from None
    if not context.types.has_type(name):
        raise context.error(path, f"unknown ROS type {name!r} (no .msg definition found)")
    return name


def _priority(context: _FleetContext, path: str, value: object) -> Priority:
    names = [p.value for p in Priority]
    if isinstance(value, str) and value in names:
        return Priority(value)
    problem = f"unknown priority {describe(value)} (expected one of: {', '.join(names)})"
    raise context.error(path, problem)


def _batch_ms(context: _FleetContext, path: str, value: object) -> float:
    batch_ms = number(context, path, value)
    if batch_ms < 0:
        raise context.error(path, f"must be >= 0 (0: each sample at once), got {describe(value)}")
    if batch_ms > MAX_BATCH_MS:
        raise context.error(
            path,
            f"must be <= {MAX_BATCH_MS:g} (a batch is for cutting overhead, not for holding "
            f"live data back), got {describe(value)}",
        )
    return batch_ms


def rmw_zenoh_map(fleet: FleetConfig, region: str | None = None) -> RmwZenohMap:
    """The fleet's rmw_zenoh vehicles (of `region`, or all) as keys.py's map of their keys."""
    return RmwZenohMap(
        RmwZenohVehicle(v.region, v.name, v.ros_domain_id, v.namespace)
        for v in fleet.vehicles
        if v.source is VehicleSource.RMW_ZENOH and region in (None, v.region)
    )
