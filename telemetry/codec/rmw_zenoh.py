"""rmw_zenoh's wire layout: data keys, attachments and liveliness tokens, the one place that knows it.

A robot whose ROS 2 nodes run rmw_zenoh (Tier 1 in Kilted) already speaks Zenoh; the fleet
reads its traffic as it is instead of putting a bridge on it. Written from rmw_zenoh's
design document and source as summarised in ../shared/notes/rmw_zenoh_wire.md:

- §1 data keys, `<domain>/<topic without outer slashes>/<pkg>::msg::dds_::<Name>_/<hash>`
  (rmw_zenoh_cpp detail/liveliness_utils.cpp `TopicInfo`, type_support_common.cpp);
- §3 the attachment on every put: positional, sequence (i64 LE), source timestamp (i64 LE, ns)
  and the 16-byte GID as a zenoh-ext sequence (LEB128 length 0x10 first), 33 bytes, since
  Jazzy 0.2.4 and in Kilted; before that each value came after its name as a zenoh-ext
  string, 77 bytes (detail/attachment_helpers.cpp, ros2/rmw_zenoh#600);
- §4 liveliness tokens `@ros2_lv/<domain>/<zid>/<nid>/<eid>/<KIND>/<enclave>/<ns>/<node>`
  and, for endpoints, `/<topic>/<dds type>/<hash>/<qos>`, names mangled `/` -> `%`, and the
  compact QoS string whose empty fields are rmw_zenoh's defaults (liveliness_utils.cpp
  `Entity`, `qos_to_keyexpr`, `keyexpr_to_qos`; detail/qos.cpp).

Everything is pure bytes and strings: keys.py maps what these parse to the fleet's vehicles.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import StrEnum

from telemetry.errors import CodecError

__all__ = [
    "GID_SIZE",
    "KEYED_ATTACHMENT_SIZE",
    "POSITIONAL_ATTACHMENT_SIZE",
    "EntityKind",
    "LivelinessToken",
    "QosProfile",
    "RmwAttachment",
    "RmwDataKey",
    "data_key",
    "data_selector",
    "dds_type_name",
    "demangle",
    "liveliness_selector",
    "mangle",
    "pack_attachment",
    "pack_keyed_attachment",
    "parse_attachment",
    "parse_data_key",
    "parse_qos_chunk",
    "parse_token",
    "qos_chunk",
    "ros_type_name",
    "unpack_attachment_fields",
]

GID_SIZE = 16
POSITIONAL_ATTACHMENT_SIZE = 33
KEYED_ATTACHMENT_SIZE = 77
#: i64 sequence, i64 source timestamp, the GID's LEB128 length (16 < 128: one byte), the GID.
_POSITIONAL = struct.Struct("<qqB16s")
_KEYED_NAMES = (b"sequence_number", b"source_timestamp", b"source_gid")
_I64 = struct.Struct("<q")
_LIVELINESS_ROOT = "@ros2_lv"
_DDS_INFIX = "::dds_::"

assert _POSITIONAL.size == POSITIONAL_ATTACHMENT_SIZE


@dataclass(frozen=True)
class RmwAttachment:
    """One sample's rmw_zenoh attachment."""

    sequence: int  # from 1 per publisher
    source_time_ns: int  # the publisher's system clock when it published
    gid: bytes  # the publisher's 16-byte GID


def _check_gid(gid: bytes) -> None:
    if len(gid) != GID_SIZE:
        raise CodecError(f"rmw_zenoh attachment: the GID must be {GID_SIZE} bytes, got {len(gid)}")


def pack_attachment(sequence: int, source_time_ns: int, gid: bytes) -> bytes:
    """The 33-byte positional attachment (Jazzy >= 0.2.4, Kilted, Rolling >= 0.6)."""
    _check_gid(gid)
    return _POSITIONAL.pack(sequence, source_time_ns, GID_SIZE, gid)


def pack_keyed_attachment(sequence: int, source_time_ns: int, gid: bytes) -> bytes:
    """The 77-byte keyed attachment of early Jazzy (0.2.0-0.2.3): each value after its name."""
    _check_gid(gid)
    values = (_I64.pack(sequence), _I64.pack(source_time_ns), bytes([GID_SIZE]) + gid)
    return b"".join(bytes([len(name)]) + name + value for name, value in zip(_KEYED_NAMES, values, strict=True))


def unpack_attachment_fields(raw: bytes) -> tuple[int, int, bytes]:
    """`(sequence, source_time_ns, gid)` of either form; the aggregator's per-sample reader.

    CodecError on anything else, and on a sequence below 1 (rmw_zenoh numbers from 1)."""
    if len(raw) == POSITIONAL_ATTACHMENT_SIZE:
        sequence, source_ns, length, gid = _POSITIONAL.unpack(raw)
        if length != GID_SIZE:
            raise CodecError(f"rmw_zenoh attachment: GID length byte is {length}, expected {GID_SIZE}")
    elif len(raw) == KEYED_ATTACHMENT_SIZE:
        sequence, source_ns, gid = _unpack_keyed(raw)
    else:
        raise CodecError(
            f"rmw_zenoh attachment: expected {POSITIONAL_ATTACHMENT_SIZE} bytes (or {KEYED_ATTACHMENT_SIZE}, "
            f"the keyed form of early Jazzy), got {len(raw)}"
        )
    if sequence < 1:
        raise CodecError(f"rmw_zenoh attachment: sequence must be >= 1, got {sequence}")
    return sequence, source_ns, gid


def parse_attachment(raw: bytes | bytearray | memoryview) -> RmwAttachment:
    """An attachment of either form as a dataclass; CodecError naming what does not parse."""
    return RmwAttachment(*unpack_attachment_fields(bytes(raw)))


def _unpack_keyed(raw: bytes) -> tuple[int, int, bytes]:
    offset, values = 0, []
    for name, size in zip(_KEYED_NAMES, (8, 8, 1 + GID_SIZE), strict=True):
        length = raw[offset]
        found = raw[offset + 1 : offset + 1 + length]
        if found != name:
            raise CodecError(f"rmw_zenoh keyed attachment: expected the key {name.decode()!r} at byte {offset}, "
                             f"got {found!r}")
        offset += 1 + length
        values.append(raw[offset : offset + size])
        offset += size
    if values[2][0] != GID_SIZE:
        raise CodecError(f"rmw_zenoh keyed attachment: GID length byte is {values[2][0]}, expected {GID_SIZE}")
    return _I64.unpack(values[0])[0], _I64.unpack(values[1])[0], values[2][1:]


# --- type names and data keys ------------------------------------------------------------------


def dds_type_name(ros_type: str) -> str:
    """`sensor_msgs/msg/Imu` -> `sensor_msgs::msg::dds_::Imu_` (the fastrtps type name)."""
    parts = ros_type.split("/")
    if len(parts) != 3 or not all(parts) or parts[1] not in ("msg", "srv", "action"):
        raise CodecError(f"type {ros_type!r}: expected <package>/msg/<Name>")
    return f"{parts[0]}::{parts[1]}{_DDS_INFIX}{parts[2]}_"


def ros_type_name(dds_type: str) -> str:
    """`sensor_msgs::msg::dds_::Imu_` -> `sensor_msgs/msg/Imu`."""
    head, infix, name = dds_type.partition(_DDS_INFIX)
    package, _, kind = head.partition("::")
    if not infix or not package or kind not in ("msg", "srv", "action") or len(name) < 2 or not name.endswith("_"):
        raise CodecError(f"type {dds_type!r}: expected <package>::msg::dds_::<Name>_")
    return f"{package}/{kind}/{name[:-1]}"


def mangle(name: str) -> str:
    """A name as one token chunk: every `/` becomes `%`."""
    return name.replace("/", "%")


def demangle(chunk: str) -> str:
    return chunk.replace("%", "/")


@dataclass(frozen=True)
class RmwDataKey:
    """A data key taken apart."""

    domain_id: int
    topic: str  # fully qualified, `/robot1/imu/data`
    ros_type: str  # `sensor_msgs/msg/Imu`
    type_hash: str  # `RIHS01_<64 hex>` (Humble: `TypeHashNotSupported`), verbatim


def data_key(domain_id: int, topic: str, ros_type: str, type_hash: str) -> str:
    return f"{domain_id}/{topic.strip('/')}/{dds_type_name(ros_type)}/{type_hash}"


def parse_data_key(key: str) -> RmwDataKey:
    chunks = key.split("/")
    if len(chunks) < 4 or not all(chunks):
        raise CodecError(f"rmw_zenoh key {key!r}: expected <domain>/<topic>/<type>/<hash>")
    if not chunks[0].isdecimal():
        raise CodecError(f"rmw_zenoh key {key!r}: the domain {chunks[0]!r} is not a number")
    return RmwDataKey(int(chunks[0]), "/" + "/".join(chunks[1:-2]), ros_type_name(chunks[-2]), chunks[-1])


def data_selector(domain_id: int, namespace: str = "/") -> str:
    """Every data key of a domain, or of one namespace in it."""
    inner = namespace.strip("/")
    return f"{domain_id}/{inner}/**" if inner else f"{domain_id}/**"


# --- liveliness tokens -------------------------------------------------------------------------


class EntityKind(StrEnum):
    NODE = "NN"
    PUBLISHER = "MP"
    SUBSCRIPTION = "MS"
    SERVICE_SERVER = "SS"
    SERVICE_CLIENT = "SC"


#: rmw_zenoh's enum values (rmw/types.h) and defaults, which the QoS chunk leaves empty.
_RELIABLE, _BEST_EFFORT = 1, 2
_TRANSIENT_LOCAL, _VOLATILE = 1, 2
_KEEP_LAST, _KEEP_ALL = 1, 2
_DEFAULT_DEPTH = 42
#: deadline, lifespan and liveliness left at rmw_zenoh's defaults (infinite, automatic).
_DEFAULT_TAIL = ",:,:,,"


@dataclass(frozen=True)
class QosProfile:
    """The QoS a token carries, as far as the fleet reads it; defaults are rmw_zenoh's."""

    reliable: bool = True
    transient_local: bool = False
    keep_all: bool = False
    depth: int = _DEFAULT_DEPTH
    tail: str = _DEFAULT_TAIL  # deadline, lifespan and liveliness, verbatim


def _field(value: int, default: int) -> str:
    return "" if value == default else str(value)


def qos_chunk(qos: QosProfile) -> str:
    reliability = _field(_RELIABLE if qos.reliable else _BEST_EFFORT, _RELIABLE)
    durability = _field(_TRANSIENT_LOCAL if qos.transient_local else _VOLATILE, _VOLATILE)
    history = _field(_KEEP_ALL if qos.keep_all else _KEEP_LAST, _KEEP_LAST)
    return f"{reliability}:{durability}:{history},{_field(qos.depth, _DEFAULT_DEPTH)}:{qos.tail}"


def parse_qos_chunk(chunk: str) -> QosProfile:
    fields = chunk.split(":", 3)
    history = fields[2].split(",") if len(fields) == 4 else []
    if len(fields) != 4 or len(history) != 2:
        raise CodecError(f"rmw_zenoh QoS {chunk!r}: expected <rel>:<dur>:<hist>,<depth>:<deadline>:...")
    try:
        values = [int(v) if v else None for v in (fields[0], fields[1], history[0], history[1])]
    except ValueError:
        raise CodecError(f"rmw_zenoh QoS {chunk!r}: a field is not a number") from None
    reliability, durability, kind, depth = values
    if reliability not in (None, _RELIABLE, _BEST_EFFORT) or durability not in (None, _TRANSIENT_LOCAL, _VOLATILE) \
            or kind not in (None, _KEEP_LAST, _KEEP_ALL):
        raise CodecError(f"rmw_zenoh QoS {chunk!r}: unknown reliability, durability or history")
    return QosProfile(reliability != _BEST_EFFORT, durability == _TRANSIENT_LOCAL, kind == _KEEP_ALL,
                      _DEFAULT_DEPTH if depth is None else depth, fields[3])


@dataclass(frozen=True)
class LivelinessToken:
    """A node's or an endpoint's graph token; names demangled, the type in ROS form."""

    domain_id: int
    zid: str
    node_id: int
    entity_id: int
    kind: EntityKind
    enclave: str
    namespace: str
    node_name: str
    topic: str | None = None
    ros_type: str | None = None
    type_hash: str | None = None
    qos: QosProfile | None = None

    def key(self) -> str:
        chunks = [_LIVELINESS_ROOT, str(self.domain_id), self.zid, str(self.node_id), str(self.entity_id),
                  self.kind.value, mangle(self.enclave), mangle(self.namespace), mangle(self.node_name)]
        if self.kind is not EntityKind.NODE:
            if self.topic is None or self.ros_type is None or self.type_hash is None or self.qos is None:
                raise CodecError(f"token of a {self.kind.name.lower()}: needs a topic, type, hash and QoS")
            chunks += [mangle(self.topic), dds_type_name(self.ros_type), self.type_hash, qos_chunk(self.qos)]
        return "/".join(chunks)


_NODE_CHUNKS = 9
_ENDPOINT_CHUNKS = 13


def parse_token(key: str) -> LivelinessToken:
    """A token as rmw_zenoh's graph cache reads it; CodecError on what it would reject."""
    chunks = key.split("/")
    if chunks[0] != _LIVELINESS_ROOT or len(chunks) < _NODE_CHUNKS or not all(chunks):
        raise CodecError(f"token {key!r}: expected {_LIVELINESS_ROOT}/<domain>/<zid>/<nid>/<eid>/<kind>/... "
                         "with no empty chunk")
    try:
        kind = EntityKind(chunks[5])
        domain_id, node_id, entity_id = int(chunks[1]), int(chunks[3]), int(chunks[4])
    except ValueError:
        raise CodecError(f"token {key!r}: unknown kind or a non-numeric id") from None
    node = (domain_id, chunks[2], node_id, entity_id, kind, demangle(chunks[6]), demangle(chunks[7]),
            demangle(chunks[8]))
    if kind is EntityKind.NODE:
        if len(chunks) != _NODE_CHUNKS:
            raise CodecError(f"token {key!r}: a node's token has {_NODE_CHUNKS} chunks, got {len(chunks)}")
        return LivelinessToken(*node)
    if len(chunks) != _ENDPOINT_CHUNKS:
        raise CodecError(f"token {key!r}: an endpoint's token has {_ENDPOINT_CHUNKS} chunks, got {len(chunks)}")
    return LivelinessToken(*node, demangle(chunks[9]), ros_type_name(chunks[10]), chunks[11],
                           parse_qos_chunk(chunks[12]))


def liveliness_selector(domain_id: int) -> str:
    return f"{_LIVELINESS_ROOT}/{domain_id}/**"
