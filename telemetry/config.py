"""The fleet description: which regions, routers, vehicles and streams exist.

config/fleet.yaml is the one source of truth that launch files, `telemetry demo`, the bridge
and the aggregator all read, so it is checked hard, once, at start-up: every mistake is a
`ConfigError` that names the file, the path inside it and what is wrong
(`config/fleet.yaml: vehicles[2].streams[0].rate_hz: must be > 0, got -5`), and unknown
fields are errors so a typo cannot silently fall back to a default. Parsing stops at the
first mistake, found in a fixed order, so the same file always gives the same message.

The result is plain frozen data; nothing here knows about rclpy or Zenoh. `Priority` names
Zenoh's priorities as strings so that only the Zenoh adapter maps them to `zenoh.Priority`.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

import yaml

from telemetry.codec import TypeStore, normalize_type_name
from telemetry.errors import CodecError, ConfigError, KeyExprError
from telemetry.keys import DEFAULT_ROOT, KeySpace, key_to_topic, topic_to_key, validate_name

__all__ = [
    "FleetConfig",
    "Priority",
    "RegionConfig",
    "RouterConfig",
    "StreamConfig",
    "VehicleConfig",
    "load_fleet_config",
    "parse_fleet_config",
]

#: ROS 2 maps a domain id to DDS ports; above 232 the ports leave the valid range.
MAX_ROS_DOMAIN_ID = 232
#: A batch is for cutting per-message overhead, not for holding data back: cap it at 1 s.
MAX_BATCH_MS = 1000.0

_IP_PROTOCOLS = ("tcp", "udp", "tls", "quic", "ws")
_PROTOCOLS = (*_IP_PROTOCOLS, "unixsock-stream")
_HOST_PORT = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(?P<port>[0-9]+)")


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
    batch_ms: float | None = None
    reliable: bool = False

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


@dataclass(frozen=True)
class VehicleConfig:
    """A vehicle: its region, the ROS domain its nodes run in, and the streams it forwards."""

    name: str
    region: str
    ros_domain_id: int
    streams: tuple[StreamConfig, ...]


@dataclass(frozen=True)
class FleetConfig:
    """The whole fleet, as read from `source` (kept so later errors can name the file)."""

    source: str
    key_root: str
    cloud: RouterConfig
    regions: tuple[RegionConfig, ...]
    vehicles: tuple[VehicleConfig, ...]

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
    context = _Context(source, types)
    raw = _fields(context, "", _load_yaml(text, source), _TOP_REQUIRED, _TOP_OPTIONAL)
    key_root = _optional(context, raw, "", "key_root", _key_root) or DEFAULT_ROOT
    cloud_raw = _fields(context, "cloud", raw["cloud"], ("router",), ())
    cloud = _router(context, "cloud.router", cloud_raw["router"])
    regions = _regions(context, "regions", raw["regions"])
    _check_endpoints_unique(context, cloud, regions)
    defaults = _defaults(context, "defaults", raw.get("defaults"))
    vehicles = _vehicles(context, "vehicles", raw["vehicles"], [r.name for r in regions], defaults)
    return FleetConfig(source, key_root, cloud, regions, vehicles)


# --- YAML ----------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping.

    Plain PyYAML keeps the last value silently, so a pasted second `rate_hz:` would win
    unnoticed; here it is a parse error with its line. Keys merged in with `<<: *anchor`
    may still be overridden: that is what merging is for.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load_yaml(text: str, source: str) -> object:
    try:
        # Safe: _StrictLoader is a SafeLoader, so no tag can build arbitrary Python objects.
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        column = f" (column {mark.column + 1})" if mark is not None else ""
        problem = error.problem or error.context or "malformed YAML"
        raise ConfigError(f"{source}: {where}could not parse YAML: {problem}{column}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: could not parse YAML: {error}") from None


# --- checking helpers ----------------------------------------------------------------------

_T = TypeVar("_T")


@dataclass(frozen=True)
class _Context:
    """What every check needs: the file name for messages and the types to vet against."""

    source: str
    types: TypeStore

    def error(self, path: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {path or 'top level'}: {problem}")


def _join(path: str, field: str) -> str:
    return f"{path}.{field}" if path else field


def _describe(value: object) -> str:
    """A value as the YAML author wrote it, for `got ...` in messages."""
    if value is None:
        return "null (empty value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


def _fields(
    context: _Context, path: str, value: object, required: tuple[str, ...], optional: tuple[str, ...]
) -> dict[str, object]:
    """A mapping with no unknown field and every required one: typos fail instead of defaulting."""
    if not isinstance(value, dict):
        raise context.error(path, f"must be a mapping, got {_describe(value)}")
    allowed = (*required, *optional)
    for key in value:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            did_you_mean = f"; did you mean {hint[0]!r}?" if hint else ""
            raise context.error(
                _join(path, str(key)), f"unknown field (expected one of: {', '.join(allowed)}){did_you_mean}"
            )
    for key in required:
        if key not in value:
            raise context.error(_join(path, key), "missing")
    return {str(key): item for key, item in value.items()}


def _optional(
    context: _Context,
    raw: dict[str, object],
    path: str,
    key: str,
    check: Callable[[_Context, str, object], _T],
) -> _T | None:
    """`check` the field when given; absent or null (`key:` left empty) means "use the default"."""
    value = raw.get(key)
    return None if value is None else check(context, _join(path, key), value)


def _list(context: _Context, path: str, value: object, item: str) -> list[object]:
    """A non-empty list: an empty section is a mistake, never a fleet with nothing in it."""
    if not isinstance(value, list):
        raise context.error(path, f"must be a list of {item}s, got {_describe(value)}")
    if not value:
        raise context.error(path, f"must list at least one {item}")
    return value


def _string(context: _Context, path: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise context.error(path, f"must be a non-empty string, got {_describe(value)}")
    return value


def _number(context: _Context, path: str, value: object) -> float:
    """A finite int or float; YAML's `true` is an int to Python but never a rate."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = ""
        if isinstance(value, str) and _looks_numeric(value):
            hint = " (YAML reads this as text: unquote it, or write 1000 or 1.0e+3)"
        raise context.error(path, f"must be a number, got {_describe(value)}{hint}")
    if not math.isfinite(value):
        raise context.error(path, f"must be a finite number, got {value}")
    return float(value)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _positive(context: _Context, path: str, value: object) -> float:
    number = _number(context, path, value)
    if number <= 0:
        raise context.error(path, f"must be > 0, got {_describe(value)}")
    return number


def _bool(context: _Context, path: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise context.error(path, f"must be true or false, got {_describe(value)}")
    return value


def _key_part(context: _Context, path: str, value: object, check: Callable[[str], str]) -> str:
    """A string that becomes part of a Zenoh key, vetted (and normalized) by a keys.py `check`."""
    text = _string(context, path, value)
    try:
        return check(text)
    except KeyExprError as error:
        raise context.error(path, str(error)) from None


def _check_unique(context: _Context, path: str, what: str, value: object, seen: dict[object, str]) -> None:
    """Record `value` at `path`; a ConfigError naming the first place if it was seen before."""
    if value in seen:
        raise context.error(path, f"duplicate {what} {_describe(value)} (also at {seen[value]})")
    seen[value] = path


# --- sections ------------------------------------------------------------------------------

_TOP_REQUIRED = ("cloud", "regions", "vehicles")
_TOP_OPTIONAL = ("key_root", "defaults")
_VEHICLE_REQUIRED = ("name", "region", "ros_domain_id")
_VEHICLE_OPTIONAL = ("streams",)
_STREAM_REQUIRED = ("topic", "type", "rate_hz")
_STREAM_OPTIONAL = ("priority", "max_rate_hz", "batch_ms", "reliable")

_Streams = tuple[StreamConfig, ...]


def _key_root(context: _Context, path: str, value: object) -> str:
    """The root may span chunks (`acme/telemetry`); KeySpace knows what a valid root is."""
    return _key_part(context, path, value, lambda root: KeySpace(root).root)


def _absolute_topic(topic: str) -> str:
    """`imu` and `/imu` are one stream (one key); store the absolute form ROS resolves."""
    return key_to_topic(topic_to_key(topic))


def _endpoint(context: _Context, path: str, value: object) -> str:
    """A Zenoh endpoint, checked loosely: enough to catch typos, not to replace Zenoh's parser."""
    endpoint = _string(context, path, value)
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


def _router(context: _Context, path: str, value: object) -> RouterConfig:
    raw = _fields(context, path, value, ("listen",), ())
    listen_path = _join(path, "listen")
    endpoints = _list(context, listen_path, raw["listen"], "endpoint")
    return RouterConfig(tuple(_endpoint(context, f"{listen_path}[{i}]", e) for i, e in enumerate(endpoints)))


def _regions(context: _Context, path: str, value: object) -> tuple[RegionConfig, ...]:
    regions: list[RegionConfig] = []
    seen: dict[object, str] = {}
    for index, item in enumerate(_list(context, path, value, "region")):
        item_path = f"{path}[{index}]"
        raw = _fields(context, item_path, item, ("name", "router"), ())
        name = _key_part(context, _join(item_path, "name"), raw["name"], lambda n: validate_name(n, "region"))
        _check_unique(context, _join(item_path, "name"), "region", name, seen)
        regions.append(RegionConfig(name, _router(context, _join(item_path, "router"), raw["router"])))
    return tuple(regions)


def _check_endpoints_unique(context: _Context, cloud: RouterConfig, regions: Iterable[RegionConfig]) -> None:
    """Two routers cannot listen on one endpoint: the second would fail to bind at run time."""
    seen: dict[object, str] = {}
    routers = [("cloud.router", cloud)] + [(f"regions[{i}].router", r.router) for i, r in enumerate(regions)]
    for router_path, router in routers:
        for index, endpoint in enumerate(router.listen):
            _check_unique(context, f"{router_path}.listen[{index}]", "endpoint", endpoint, seen)


def _defaults(context: _Context, path: str, value: object) -> _Streams | None:
    """Streams for vehicles that list none: checked here once, at their own path."""
    if value is None:
        return None
    raw = _fields(context, path, value, (), ("streams",))
    return _optional(context, raw, path, "streams", _streams)


def _vehicles(
    context: _Context, path: str, value: object, regions: list[str], defaults: _Streams | None
) -> tuple[VehicleConfig, ...]:
    vehicles: list[VehicleConfig] = []
    names: dict[object, str] = {}
    domains: dict[tuple[str, int], VehicleConfig] = {}
    for index, item in enumerate(_list(context, path, value, "vehicle")):
        item_path = f"{path}[{index}]"
        vehicle = _vehicle(context, item_path, item, regions, defaults)
        _check_unique(context, _join(item_path, "name"), "vehicle", vehicle.name, names)
        other = domains.setdefault((vehicle.region, vehicle.ros_domain_id), vehicle)
        if other is not vehicle:
            raise context.error(
                _join(item_path, "ros_domain_id"),
                f"vehicle {vehicle.name!r} uses ROS domain {vehicle.ros_domain_id}, already used by "
                f"vehicle {other.name!r} in region {vehicle.region!r}; their DDS traffic would mix",
            )
        vehicles.append(vehicle)
    return tuple(vehicles)


def _vehicle(
    context: _Context, path: str, value: object, regions: list[str], defaults: _Streams | None
) -> VehicleConfig:
    raw = _fields(context, path, value, _VEHICLE_REQUIRED, _VEHICLE_OPTIONAL)
    name = _key_part(context, _join(path, "name"), raw["name"], lambda n: validate_name(n, "vehicle"))
    region = _string(context, _join(path, "region"), raw["region"])
    if region not in regions:
        raise context.error(_join(path, "region"), f"unknown region {region!r} (known: {', '.join(regions)})")
    domain_id = _domain_id(context, _join(path, "ros_domain_id"), raw["ros_domain_id"])
    streams = _optional(context, raw, path, "streams", _streams) or defaults
    if streams is None:
        raise context.error(_join(path, "streams"), "missing (and no defaults.streams to fall back on)")
    return VehicleConfig(name, region, domain_id, streams)


def _domain_id(context: _Context, path: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise context.error(path, f"must be an integer, got {_describe(value)}")
    if not 0 <= value <= MAX_ROS_DOMAIN_ID:
        raise context.error(
            path,
            f"must be in 0..{MAX_ROS_DOMAIN_ID} (ROS 2 derives DDS ports from it; "
            f"larger ids give invalid ports), got {value}",
        )
    return value


def _streams(context: _Context, path: str, value: object) -> _Streams:
    streams: list[StreamConfig] = []
    keys: dict[object, str] = {}
    for index, item in enumerate(_list(context, path, value, "stream")):
        item_path = f"{path}[{index}]"
        stream = _stream(context, item_path, item)
        topic_path = _join(item_path, "topic")
        key = topic_to_key(stream.topic)
        if key in keys:
            raise context.error(
                topic_path, f"duplicate topic {stream.topic!r}: same Zenoh key {key!r} as {keys[key]}"
            )
        keys[key] = topic_path
        streams.append(stream)
    return tuple(streams)


def _stream(context: _Context, path: str, value: object) -> StreamConfig:
    raw = _fields(context, path, value, _STREAM_REQUIRED, _STREAM_OPTIONAL)
    topic = _key_part(context, _join(path, "topic"), raw["topic"], _absolute_topic)
    ros_type = _ros_type(context, _join(path, "type"), raw["type"])
    rate_hz = _positive(context, _join(path, "rate_hz"), raw["rate_hz"])
    priority = _optional(context, raw, path, "priority", _priority) or Priority.DATA
    max_rate_hz = _optional(context, raw, path, "max_rate_hz", _positive)
    if max_rate_hz is not None and max_rate_hz > rate_hz:
        raise context.error(
            _join(path, "max_rate_hz"),
            f"must be <= rate_hz ({_describe(raw['rate_hz'])}), got {_describe(raw['max_rate_hz'])}: "
            "the bridge can only drop samples, never forward more than the topic publishes",
        )
    batch_ms = _optional(context, raw, path, "batch_ms", _batch_ms)
    reliable = _optional(context, raw, path, "reliable", _bool)
    return StreamConfig(topic, ros_type, rate_hz, priority, max_rate_hz, batch_ms, bool(reliable))


def _ros_type(context: _Context, path: str, value: object) -> str:
    try:
        name = normalize_type_name(_string(context, path, value))
    except CodecError as error:
        raise context.error(path, str(error)) from None
    if not context.types.has_type(name):
        raise context.error(path, f"unknown ROS type {name!r} (no .msg definition found)")
    return name


def _priority(context: _Context, path: str, value: object) -> Priority:
    names = [p.value for p in Priority]
    if isinstance(value, str) and value in names:
        return Priority(value)
    problem = f"unknown priority {_describe(value)} (expected one of: {', '.join(names)})"
    raise context.error(path, problem)


def _batch_ms(context: _Context, path: str, value: object) -> float:
    batch_ms = _positive(context, path, value)
    if batch_ms > MAX_BATCH_MS:
        raise context.error(
            path,
            f"must be <= {MAX_BATCH_MS:g} (a batch is for cutting overhead, not for holding "
            f"live data back), got {_describe(value)}",
        )
    return batch_ms
