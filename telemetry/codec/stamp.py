"""Read `header.stamp` straight from a serialized ROS 2 message, without decoding it.

The bridge forwards raw CDR and must not decode on its 1 kHz hot path, yet the source time
it puts in the attachment should be the driver's `header.stamp` when there is one. For a
type whose first field is std_msgs/Header, the stamp is the first thing after the 4-byte
encapsulation header: `builtin_interfaces/Time` = `int32 sec`, `uint32 nanosec`, both 4-byte
aligned at offset 4. So one `struct.unpack_from` reads it.

Whether the type starts with a Header is the caller's knowledge (it is fixed per stream);
this function trusts it and reads the 8 bytes whatever they are.
"""

from __future__ import annotations

import struct

from telemetry.errors import CodecError

__all__ = ["CDR_BE", "CDR_LE", "STAMP_MIN_PAYLOAD_BYTES", "header_stamp_ns"]

#: Encapsulation kinds in the first two bytes of a CDR payload (big-endian u16).
CDR_BE = 0x0000
CDR_LE = 0x0001
#: Encapsulation header (4 bytes) plus sec and nanosec (4 bytes each).
STAMP_MIN_PAYLOAD_BYTES = 12

_STAMP_OFFSET = 4
_NS_PER_S = 1_000_000_000
_STAMP_BY_KIND = {CDR_LE: struct.Struct("<iI"), CDR_BE: struct.Struct(">iI")}


def header_stamp_ns(payload: bytes | bytearray | memoryview) -> int:
    """`header.stamp` of a serialized message as ns since the epoch (sec * 1e9 + nanosec).

    CodecError if the payload is too short, its encapsulation is not plain CDR (big or
    little endian), or nanosec is not below one second.
    """
    size = payload.nbytes if isinstance(payload, memoryview) else len(payload)
    if size < STAMP_MIN_PAYLOAD_BYTES:
        raise CodecError(
            f"stamp: payload of {size} bytes is too short for a header stamp "
            f"(need {STAMP_MIN_PAYLOAD_BYTES})"
        )
    kind = payload[0] << 8 | payload[1]
    layout = _STAMP_BY_KIND.get(kind)
    if layout is None:
        raise CodecError(
            f"stamp: unknown CDR encapsulation 0x{kind:04x} "
            f"(expected 0x{CDR_LE:04x} little endian or 0x{CDR_BE:04x} big endian)"
        )
    sec, nanosec = layout.unpack_from(payload, _STAMP_OFFSET)
    if nanosec >= _NS_PER_S:
        raise CodecError(f"stamp: nanosec must be < {_NS_PER_S}, got {nanosec}")
    stamp_ns: int = sec * _NS_PER_S + nanosec
    return stamp_ns


def ns_to_stamp(ns: int) -> tuple[int, int]:
    """ns since the epoch as builtin_interfaces/Time's (sec, nanosec); nanosec is always in [0, 1e9)."""
    sec, nanosec = divmod(ns, _NS_PER_S)
    return sec, nanosec


def stamp_to_ns(sec: int, nanosec: int) -> int:
    """builtin_interfaces/Time's (sec, nanosec) as ns since the epoch."""
    return sec * _NS_PER_S + nanosec
