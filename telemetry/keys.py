"""The fleet's Zenoh key space: building keys, subscription selectors, and parsing keys back.

Every key the bridge, aggregator and dashboard use is built and read here, so the layout
in DESIGN.md ("Key space") lives in one place:

    <root>/data/<region>/<vehicle>/<topic chunks>    one stream's messages: a raw CDR sample,
                                                     or several as a SampleBatch
    <root>/alive/<region>/<vehicle>                  the bridge's liveliness token
    <root>/meta/<region>/<vehicle>                   queryable: the vehicle's streams
    <root>/clock/<region>/<vehicle>                  the vehicle's clock reference
    <root>/stats/<region>/<vehicle>                  aggregator output per vehicle
    <root>/health/<region>/<vehicle>                 the bridge's own counters, per hop
    <root>/fleet                                     aggregator output for the fleet

Vehicles that run rmw_zenoh keep rmw_zenoh's own keys (`<domain>/<topic>/<dds type>/<hash>`,
liveliness `@ros2_lv/<domain>/...`; telemetry/codec/rmw_zenoh.py reads them): `RmwZenohMap`
says which configured vehicle and which of its topics such a key is, so no consumer
parses those keys by itself.

The root is `telemetry` unless configured (it may have several chunks, `fleet/telemetry`).
Names are checked when a key is built, so a bad region or vehicle in a config fails at
start-up with a message that names it, instead of producing a key Zenoh rejects later or,
worse, one that a wildcard silently misses. Imports none of rclpy, zenoh or textual.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from telemetry.codec.rmw_zenoh import EntityKind, LivelinessToken, data_selector, liveliness_selector, parse_data_key
from telemetry.errors import CodecError, KeyExprError

__all__ = [
    "DEFAULT_ROOT",
    "TOPIC_MAX_LENGTH",
    "KeyKind",
    "KeySpace",
    "ParsedKey",
    "RmwStream",
    "RmwZenohMap",
    "RmwZenohVehicle",
    "key_to_topic",
    "namespace_name",
    "topic_to_key",
    "validate_name",
]

DEFAULT_ROOT = "telemetry"

#: rmw's limit for a fully qualified topic name (255 minus DDS's 8-character prefix room).
TOPIC_MAX_LENGTH = 247

# Zenoh reserves these inside a chunk: `*` wildcards, `$` its DSL, `#` and `?` selectors.
_RESERVED_CHARACTERS = ("/", "*", "$", "#", "?")
_TOPIC_TOKEN_RE = re.compile(r"[A-Za-z0-9_]+")


class KeyKind(enum.Enum):
    """What a key holds; the value is the chunk right after the root."""

    DATA = "data"
    ALIVE = "alive"
    META = "meta"
    CLOCK = "clock"
    STATS = "stats"
    HEALTH = "health"
    FLEET = "fleet"
    HISTORY = "history"
    RECORDER = "recorder"


# Kinds whose keys end in a topic, and kinds whose keys end at the vehicle.
_STREAM_KINDS = frozenset({KeyKind.DATA, KeyKind.HISTORY})
_VEHICLE_KINDS = frozenset({KeyKind.ALIVE, KeyKind.META, KeyKind.CLOCK, KeyKind.STATS, KeyKind.HEALTH})
_KIND_BY_CHUNK = {kind.value: kind for kind in KeyKind}


@dataclass(frozen=True)
class ParsedKey:
    """A key taken apart; fields a kind does not have are None (a FLEET key has neither)."""

    kind: KeyKind
    region: str | None = None
    vehicle: str | None = None
    topic: str | None = None  # ROS form, `/imu/data`
    name: str | None = None  # a RECORDER key's recorder


def _name_problem(value: str) -> str | None:
    """What is wrong with `value` as one key chunk, or None when it is a valid name."""
    if not value:
        return "must not be empty"
    for reserved in _RESERVED_CHARACTERS:
        if reserved in value:
            return f"must not contain {reserved!r}"
    if value.startswith("@"):
        # Zenoh treats `@...` chunks as verbatim: `*` and `**` never match them, so a
        # subscriber on `telemetry/data/**` would silently miss such a region or vehicle.
        return "must not start with '@' (Zenoh wildcards do not match such a chunk)"
    for character in value:
        if character.isspace():
            return f"must not contain whitespace ({character!r})"
        if not character.isprintable():
            return f"must not contain a control character ({character!r})"
    return None


def validate_name(value: str, what: str) -> str:
    """Return `value` if it is usable as one key chunk (a region or vehicle name).

    `what` says which name it is (`region`, `vehicle`) so the error reads like
    `region 'eu*west': must not contain '*'`.
    """
    problem = _name_problem(value)
    if problem is not None:
        raise KeyExprError(f"{what} {value!r}: {problem}")
    return value


def _topic_token_problem(token: str) -> str | None:
    """What ROS 2 would reject in one `/`-separated token of a topic name, or None."""
    if not token:
        return "empty name chunk"
    if not _TOPIC_TOKEN_RE.fullmatch(token):
        return f"chunk {token!r} may contain only letters, digits and '_'"
    if token[0].isdigit():
        return f"chunk {token!r} must not start with a digit"
    return None


def _topic_chunks_problem(chunks: str) -> str | None:
    """What is wrong with a topic written without its leading slash, or None.

    Mirrors rmw's check of a fully qualified, expanded topic name, so that every topic
    a ROS node can subscribe to maps to a key, and every key maps back to such a topic.
    """
    if not chunks:
        return "must not be empty"
    if "~" in chunks or "{" in chunks or "}" in chunks:
        return "substitutions ('~', '{...}') are not allowed here; give the expanded name"
    if len(chunks) + 1 > TOPIC_MAX_LENGTH:
        return f"must be at most {TOPIC_MAX_LENGTH} characters, got {len(chunks) + 1}"
    if chunks.endswith("/"):
        return "must not end with '/'"
    for token in chunks.split("/"):
        problem = _topic_token_problem(token)
        if problem is not None:
            return problem
    return None


def topic_to_key(topic: str) -> str:
    """Turn a ROS topic name into key chunks: `/imu/data` -> `imu/data`.

    The leading slash is optional, because configs write topics both ways.
    """
    chunks = topic[1:] if topic.startswith("/") else topic
    problem = _topic_chunks_problem(chunks)
    if problem is not None:
        raise KeyExprError(f"topic {topic!r}: {problem}")
    return chunks


def key_to_topic(chunks: str) -> str:
    """Turn key chunks back into a ROS topic name: `imu/data` -> `/imu/data`."""
    problem = _topic_chunks_problem(chunks)
    if problem is not None:
        raise KeyExprError(f"topic chunks {chunks!r}: {problem}")
    return "/" + chunks


def namespace_name(namespace: str) -> str:
    """A ROS namespace in its absolute form: `/` for none, `robot1` or `/robot1/` -> `/robot1`."""
    stripped = namespace.strip("/")
    if not stripped:
        return "/"
    problem = _topic_chunks_problem(stripped)
    if problem is not None:
        raise KeyExprError(f"namespace {namespace!r}: {problem}")
    return "/" + stripped


def _validate_root(root: str) -> None:
    """Check a key root: one or more `/`-separated chunks, each a valid name."""
    if not root:
        raise KeyExprError(f"root {root!r}: must not be empty")
    for chunk in root.split("/"):
        problem = _name_problem(chunk)
        if problem is not None:
            detail = "empty chunk" if not chunk else f"chunk {chunk!r}: {problem}"
            raise KeyExprError(f"root {root!r}: {detail}")


@dataclass(frozen=True)
class KeySpace:
    """The fleet's keys under one root; every method validates what it is given."""

    root: str = DEFAULT_ROOT

    def __post_init__(self) -> None:
        _validate_root(self.root)

    # -- keys -------------------------------------------------------------------------

    def data(self, region: str, vehicle: str, topic: str) -> str:
        """Key of `topic`'s messages from `vehicle` in `region`: samples alone and SampleBatches."""
        return self._stream_key(KeyKind.DATA, region, vehicle, topic)

    def alive(self, region: str, vehicle: str) -> str:
        """Key of the liveliness token a vehicle's bridge holds while it runs."""
        return self._vehicle_key(KeyKind.ALIVE, region, vehicle)

    def meta(self, region: str, vehicle: str) -> str:
        """Key of the queryable that answers with the vehicle's stream catalogue."""
        return self._vehicle_key(KeyKind.META, region, vehicle)

    def clock(self, region: str, vehicle: str) -> str:
        """Key of the vehicle's clock reference."""
        return self._vehicle_key(KeyKind.CLOCK, region, vehicle)

    def stats(self, region: str, vehicle: str) -> str:
        """Key on which the aggregator publishes that vehicle's stream stats."""
        return self._vehicle_key(KeyKind.STATS, region, vehicle)

    def health(self, region: str, vehicle: str) -> str:
        """Key on which a vehicle's bridge publishes its own counters (msg/BridgeHealth)."""
        return self._vehicle_key(KeyKind.HEALTH, region, vehicle)

    def history(self, region: str, vehicle: str, topic: str) -> str:
        """Key of the recorder's queryable that answers with `topic`'s recorded samples."""
        return self._stream_key(KeyKind.HISTORY, region, vehicle, topic)

    def recorder(self, name: str) -> str:
        """Key on which the recorder called `name` publishes its status (msg/RecorderStatus)."""
        return f"{self.root}/{KeyKind.RECORDER.value}/{validate_name(name, 'recorder')}"

    def fleet(self) -> str:
        """Key of the fleet summary (published, and also a queryable)."""
        return f"{self.root}/{KeyKind.FLEET.value}"

    # -- selectors --------------------------------------------------------------------

    def selector(self, kind: KeyKind, region: str | None = None, vehicle: str | None = None) -> str:
        """A key expression matching every key of `kind`, narrowed to a region and vehicle.

        A vehicle without a region matches that vehicle in any region. Stream kinds end
        in `**` because topics have any depth; vehicle kinds use one `*` per missing
        chunk, so they match exactly the keys `parse` accepts and nothing longer.
        """
        if kind is KeyKind.FLEET:
            if region is not None or vehicle is not None:
                raise KeyExprError("selector for 'fleet': takes no region or vehicle")
            return self.fleet()
        if kind is KeyKind.RECORDER:
            if region is not None or vehicle is not None:
                raise KeyExprError("selector for 'recorder': takes no region or vehicle")
            return f"{self.root}/{KeyKind.RECORDER.value}/*"
        chunks = [
            "*" if region is None else validate_name(region, "region"),
            "*" if vehicle is None else validate_name(vehicle, "vehicle"),
        ]
        if kind in _STREAM_KINDS:
            while chunks and chunks[-1] == "*":
                chunks.pop()
            chunks.append("**")
        return "/".join([self.root, kind.value, *chunks])

    # -- parsing ----------------------------------------------------------------------

    def parse(self, key: str) -> ParsedKey:
        """Take apart any key this space builds; KeyExprError naming the key otherwise."""
        try:
            return self._parse_chunks(self._after_root(key))
        except KeyExprError as error:
            raise KeyExprError(f"key {key!r}: {error}") from None

    def _after_root(self, key: str) -> list[str]:
        """The chunks of `key` that follow the root."""
        root_chunks = self.root.split("/")
        chunks = key.split("/")
        if chunks[: len(root_chunks)] != root_chunks:
            raise KeyExprError(f"does not start with root {self.root!r}")
        return chunks[len(root_chunks) :]

    @staticmethod
    def _parse_chunks(chunks: list[str]) -> ParsedKey:
        """Parse the chunks after the root: kind, then what that kind carries."""
        if not chunks:
            raise KeyExprError("missing kind")
        kind = _KIND_BY_CHUNK.get(chunks[0])
        if kind is None:
            known = ", ".join(sorted(_KIND_BY_CHUNK))
            raise KeyExprError(f"unknown kind {chunks[0]!r} (expected one of {known})")
        rest = chunks[1:]
        if kind is KeyKind.FLEET:
            _refuse_extra(rest, after="'fleet'")
            return ParsedKey(kind)
        if kind is KeyKind.RECORDER:
            if not rest:
                raise KeyExprError("missing recorder name")
            _refuse_extra(rest[1:], after="the recorder's name")
            return ParsedKey(kind, name=validate_name(rest[0], "recorder"))
        if len(rest) < 1:
            raise KeyExprError("missing region")
        if len(rest) < 2:
            raise KeyExprError("missing vehicle")
        region = validate_name(rest[0], "region")
        vehicle = validate_name(rest[1], "vehicle")
        if kind in _VEHICLE_KINDS:
            _refuse_extra(rest[2:], after="the vehicle")
            return ParsedKey(kind, region, vehicle)
        if len(rest) < 3:
            raise KeyExprError("missing topic")
        return ParsedKey(kind, region, vehicle, key_to_topic("/".join(rest[2:])))

    def _stream_key(self, kind: KeyKind, region: str, vehicle: str, topic: str) -> str:
        """`<root>/<kind>/<region>/<vehicle>/<topic chunks>`, validated."""
        return f"{self._vehicle_key(kind, region, vehicle)}/{topic_to_key(topic)}"

    def _vehicle_key(self, kind: KeyKind, region: str, vehicle: str) -> str:
        """`<root>/<kind>/<region>/<vehicle>`, validated."""
        validate_name(region, "region")
        validate_name(vehicle, "vehicle")
        return f"{self.root}/{kind.value}/{region}/{vehicle}"


def _refuse_extra(chunks: list[str], after: str) -> None:
    """Raise if a key goes on past the point where its kind ends."""
    if chunks:
        raise KeyExprError(f"unexpected chunks {'/'.join(chunks)!r} after {after}")


@dataclass(frozen=True)
class RmwZenohVehicle:
    """A vehicle whose nodes run rmw_zenoh: its name, and the ROS domain and namespace its keys carry."""

    region: str
    vehicle: str
    domain_id: int
    namespace: str = "/"


@dataclass(frozen=True)
class RmwStream:
    """An rmw_zenoh data key taken apart: whose stream it is, under which topic, of which type."""

    parsed: ParsedKey  # kind DATA, the topic relative to the vehicle's namespace
    ros_type: str


class RmwZenohMap:
    """(domain, namespace, topic) <-> (region, vehicle, topic) for the fleet's rmw_zenoh vehicles.

    A topic belongs to the vehicle of its domain whose namespace is its longest prefix, the
    way ROS resolves names: with vehicles at `/` and `/robot1` in domain 0, `/robot1/imu` is
    the second's `/imu` and `/imu` the first's. Two vehicles on the same domain and namespace
    are refused by the config (telemetry/config/fleet.py), so every key has one owner."""

    def __init__(self, vehicles: Iterable[RmwZenohVehicle]) -> None:
        self._by_domain: dict[int, list[RmwZenohVehicle]] = {}
        for vehicle in vehicles:
            validate_name(vehicle.region, "region")
            validate_name(vehicle.vehicle, "vehicle")
            self._by_domain.setdefault(vehicle.domain_id, []).append(vehicle)
        for members in self._by_domain.values():  # longest namespace first: the first prefix found wins
            members.sort(key=lambda v: len(v.namespace), reverse=True)

    def __bool__(self) -> bool:
        return bool(self._by_domain)

    def vehicles(self) -> list[RmwZenohVehicle]:
        return [v for members in self._by_domain.values() for v in members]

    def data_selectors(self) -> list[str]:
        """One key expression per vehicle, matching its data keys and nothing of another domain."""
        return sorted({data_selector(v.domain_id, v.namespace) for v in self.vehicles()})

    def liveliness_selectors(self) -> list[str]:
        """One per domain: rmw_zenoh's graph tokens of every node there."""
        return [liveliness_selector(domain) for domain in sorted(self._by_domain)]

    def owner(self, domain_id: int, topic: str) -> tuple[RmwZenohVehicle, str] | None:
        """The vehicle whose stream a fully qualified `topic` of `domain_id` is, and the topic
        as that vehicle's (namespace removed); None when no configured vehicle owns it."""
        for vehicle in self._by_domain.get(domain_id, ()):
            if vehicle.namespace == "/":
                return vehicle, topic
            prefix = vehicle.namespace + "/"
            if topic.startswith(prefix):
                return vehicle, topic[len(prefix) - 1:]
        return None

    def stream(self, key: str) -> RmwStream | None:
        """A data key's stream; None when it is not an rmw_zenoh data key or nobody configured owns it."""
        try:
            data = parse_data_key(key)
            owner = self.owner(data.domain_id, data.topic)
            if owner is None:
                return None
            vehicle, topic = owner
            return RmwStream(ParsedKey(KeyKind.DATA, vehicle.region, vehicle.vehicle, key_to_topic(topic[1:])),
                             data.ros_type)
        except (CodecError, KeyExprError):
            return None

    def publisher(self, token: LivelinessToken) -> tuple[RmwZenohVehicle, str] | None:
        """The vehicle a publisher's token belongs to and its topic; None for other tokens."""
        if token.kind is not EntityKind.PUBLISHER or token.topic is None:
            return None
        return self.owner(token.domain_id, token.topic)
