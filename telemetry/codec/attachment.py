"""The per-sample Zenoh attachment: THE definition of its wire layout.

The bridge attaches these 32 bytes to every sample it puts (the payload stays the raw CDR
ROS produced), so the aggregator can measure latency and loss without decoding payloads.
The layout is fixed and little endian; any change to it gets a new version number.

Version 1, 32 bytes, little endian:

    | offset | size | type | field           | meaning                                      |
    | ------ | ---- | ---- | --------------- | -------------------------------------------- |
    |      0 |    1 | u8   | version         | layout version, 1                            |
    |      1 |    1 | u8   | flags           | bit 0: source time is the message's          |
    |        |      |      |                 | header.stamp (else the bridge's receive      |
    |        |      |      |                 | time); bits 1-7: 0 (ignored when read)       |
    |      2 |    6 | -    | reserved        | written 0, ignored when read                 |
    |      8 |    8 | u64  | sequence        | per stream, 1 for the first sample           |
    |     16 |    8 | i64  | source_time_ns  | ns since the Unix epoch (see flags bit 0)    |
    |     24 |    8 | i64  | send_time_ns    | ns since the Unix epoch, when the bridge     |
    |        |      |      |                 | put the sample                               |

Example: stamp from header, sequence 2, source_time_ns 0x0102030405060708, send_time_ns -1:

    01 01 00 00 00 00 00 00  02 00 00 00 00 00 00 00
    08 07 06 05 04 03 02 01  ff ff ff ff ff ff ff ff

Reading is strict about what changes meaning (length, version) and lenient about what a
later version of the same layout may start to use (reserved bytes, unknown flag bits), so
a newer bridge that only fills a reserved byte does not break an older aggregator.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from telemetry.errors import CodecError

__all__ = [
    "ATTACHMENT_DTYPE",
    "ATTACHMENT_SIZE",
    "ATTACHMENT_STRUCT",
    "ATTACHMENT_VERSION",
    "FLAG_STAMP_FROM_HEADER",
    "Attachment",
    "pack",
    "pack_fields",
    "unpack",
    "unpack_fields",
]

ATTACHMENT_VERSION = 1
ATTACHMENT_SIZE = 32
#: The table above as (field, struct code, numpy type): both views below are built from it.
_LAYOUT = (
    ("version", "B", "u1"),
    ("flags", "B", "u1"),
    ("reserved", "6x", "V6"),
    ("sequence", "Q", "<u8"),
    ("source_time_ns", "q", "<i8"),
    ("send_time_ns", "q", "<i8"),
)
#: For one attachment at a time (the bridge packs, tests unpack).
ATTACHMENT_STRUCT = struct.Struct("<" + "".join(code for _, code, _ in _LAYOUT))
#: For many at once (the aggregator reads a tick's attachments as one structured array).
ATTACHMENT_DTYPE = np.dtype([(name, kind) for name, _, kind in _LAYOUT])
#: Flags bit 0: source_time_ns came from the message's header.stamp.
FLAG_STAMP_FROM_HEADER = 0x01

assert ATTACHMENT_STRUCT.size == ATTACHMENT_DTYPE.itemsize == ATTACHMENT_SIZE

_SEQUENCE_MAX = 2**64 - 1
_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Attachment:
    """One sample's attachment, as plain values (times in ns since the Unix epoch)."""

    sequence: int
    source_time_ns: int
    send_time_ns: int
    stamp_from_header: bool = False


def pack_fields(
    sequence: int, source_time_ns: int, send_time_ns: int, stamp_from_header: bool
) -> bytes:
    """The 32 attachment bytes for these values, without building an `Attachment` first.

    The bridge calls this once per forwarded sample; `pack` is the same with a dataclass.
    """
    if not 1 <= sequence <= _SEQUENCE_MAX:
        raise CodecError(f"attachment: sequence must be in 1..{_SEQUENCE_MAX}, got {sequence}")
    if not _I64_MIN <= source_time_ns <= _I64_MAX:
        raise CodecError(f"attachment: source_time_ns must fit in i64, got {source_time_ns}")
    if not _I64_MIN <= send_time_ns <= _I64_MAX:
        raise CodecError(f"attachment: send_time_ns must fit in i64, got {send_time_ns}")
    flags = FLAG_STAMP_FROM_HEADER if stamp_from_header else 0
    return ATTACHMENT_STRUCT.pack(ATTACHMENT_VERSION, flags, sequence, source_time_ns, send_time_ns)


def pack(att: Attachment) -> bytes:
    """The 32 attachment bytes for `att`; CodecError if a value does not fit the layout."""
    return pack_fields(att.sequence, att.source_time_ns, att.send_time_ns, att.stamp_from_header)


def unpack_fields(data: bytes | bytearray | memoryview) -> tuple[int, int, int, int]:
    """`(flags, sequence, source_time_ns, send_time_ns)` from attachment bytes.

    The hot-path reader: it checks length and version like `unpack` but builds no object.
    `flags` is returned raw; test bit 0 with `FLAG_STAMP_FROM_HEADER`.
    """
    size = data.nbytes if isinstance(data, memoryview) else len(data)
    if size != ATTACHMENT_SIZE:
        raise CodecError(f"attachment: expected {ATTACHMENT_SIZE} bytes, got {size}")
    version, flags, sequence, source_time_ns, send_time_ns = ATTACHMENT_STRUCT.unpack(data)
    if version != ATTACHMENT_VERSION:
        raise CodecError(
            f"attachment: unknown version {version} (this build reads version {ATTACHMENT_VERSION})"
        )
    return flags, sequence, source_time_ns, send_time_ns


def unpack(data: bytes | bytearray | memoryview) -> Attachment:
    """An `Attachment` from its 32 bytes; CodecError on a wrong length or version."""
    flags, sequence, source_time_ns, send_time_ns = unpack_fields(data)
    return Attachment(
        sequence=sequence,
        source_time_ns=source_time_ns,
        send_time_ns=send_time_ns,
        stamp_from_header=bool(flags & FLAG_STAMP_FROM_HEADER),
    )
