"""The attachment layout, byte by byte: what the bridge writes is what the aggregator reads."""

from __future__ import annotations

import pytest

from telemetry.codec.attachment import (
    ATTACHMENT_SIZE,
    ATTACHMENT_STRUCT,
    ATTACHMENT_VERSION,
    FLAG_STAMP_FROM_HEADER,
    Attachment,
    pack,
    pack_fields,
    unpack,
    unpack_fields,
)
from telemetry.errors import CodecError

I64_MIN = -(2**63)
I64_MAX = 2**63 - 1
U64_MAX = 2**64 - 1

KNOWN = Attachment(
    sequence=2, source_time_ns=0x0102030405060708, send_time_ns=-1, stamp_from_header=True
)
KNOWN_BYTES = bytes(
    [
        0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  # version 1, flags 1, reserved
        0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  # sequence 2
        0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  # source_time_ns 0x0102030405060708
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  # send_time_ns -1
    ]
)  # fmt: skip

# A realistic sample: sequence 1000, source 2023-11-14T22:13:20.000000123Z, sent 250 µs later.
REALISTIC = Attachment(
    sequence=1000, source_time_ns=1_700_000_000_000_000_123, send_time_ns=1_700_000_000_000_250_123
)
REALISTIC_BYTES = bytes.fromhex(
    "01 00 00 00 00 00 00 00 "  # version 1, flags 0 (receive time), reserved
    "e8 03 00 00 00 00 00 00 "  # sequence 1000
    "7b 00 2a 36 fe 9c 97 17 "  # source_time_ns 0x17979cfe362a007b
    "0b d1 2d 36 fe 9c 97 17"  # send_time_ns 0x17979cfe362dd10b
)


def test_layout_constants_describe_a_32_byte_version_1_layout() -> None:
    assert ATTACHMENT_VERSION == 1
    assert ATTACHMENT_SIZE == 32
    assert ATTACHMENT_STRUCT.size == ATTACHMENT_SIZE
    assert FLAG_STAMP_FROM_HEADER == 0x01


def test_pack_writes_the_documented_bytes() -> None:
    assert pack(KNOWN) == KNOWN_BYTES
    assert pack(REALISTIC) == REALISTIC_BYTES


def test_unpack_reads_the_documented_bytes() -> None:
    assert unpack(KNOWN_BYTES) == KNOWN
    assert unpack(REALISTIC_BYTES) == REALISTIC


@pytest.mark.parametrize(
    "attachment",
    [
        Attachment(sequence=1, source_time_ns=0, send_time_ns=0),
        Attachment(sequence=U64_MAX, source_time_ns=I64_MAX, send_time_ns=I64_MAX),
        Attachment(sequence=1, source_time_ns=I64_MIN, send_time_ns=-1, stamp_from_header=True),
        Attachment(sequence=2**63, source_time_ns=-5, send_time_ns=I64_MIN),
    ],
)
def test_extreme_values_survive_a_round_trip(attachment: Attachment) -> None:
    data = pack(attachment)

    assert len(data) == ATTACHMENT_SIZE
    assert unpack(data) == attachment


def test_flags_bit_0_carries_whether_the_stamp_came_from_the_header() -> None:
    from_header = pack(Attachment(1, 10, 20, stamp_from_header=True))
    from_receive = pack(Attachment(1, 10, 20, stamp_from_header=False))

    assert from_header[1] == 0x01
    assert from_receive[1] == 0x00
    assert unpack(from_header).stamp_from_header is True
    assert unpack(from_receive).stamp_from_header is False


def test_reserved_bytes_and_unknown_flag_bits_are_ignored_for_forward_compatibility() -> None:
    data = bytearray(KNOWN_BYTES)
    data[1] = 0xFF  # flags: bit 0 plus bits a later version might use
    data[2:8] = b"\xaa" * 6

    assert unpack(data) == KNOWN
    assert unpack_fields(data)[0] == 0xFF


def test_reserved_bytes_are_written_as_zero() -> None:
    assert pack(Attachment(U64_MAX, -1, -1, stamp_from_header=True))[2:8] == bytes(6)


@pytest.mark.parametrize("size", [0, 31, 33])
def test_unpack_rejects_a_wrong_length(size: int) -> None:
    data = (KNOWN_BYTES + b"\x00")[:size]

    with pytest.raises(CodecError, match=rf"^attachment: expected 32 bytes, got {size}$"):
        unpack(data)
    with pytest.raises(CodecError, match=rf"^attachment: expected 32 bytes, got {size}$"):
        unpack_fields(data)


@pytest.mark.parametrize("version", [0, 2, 255])
def test_unpack_rejects_an_unknown_version(version: int) -> None:
    data = bytes([version]) + KNOWN_BYTES[1:]
    expected = rf"^attachment: unknown version {version} \(this build reads version 1\)$"

    with pytest.raises(CodecError, match=expected):
        unpack(data)
    with pytest.raises(CodecError, match=expected):
        unpack_fields(data)


@pytest.mark.parametrize("sequence", [0, -1, U64_MAX + 1])
def test_pack_rejects_a_sequence_outside_1_to_u64_max(sequence: int) -> None:
    match = rf"^attachment: sequence must be in 1\.\.{U64_MAX}, got {sequence}$"

    with pytest.raises(CodecError, match=match):
        pack(Attachment(sequence=sequence, source_time_ns=0, send_time_ns=0))


@pytest.mark.parametrize("time_ns", [I64_MIN - 1, I64_MAX + 1])
def test_pack_rejects_times_outside_i64(time_ns: int) -> None:
    source_match = rf"^attachment: source_time_ns must fit in i64, got {time_ns}$"
    send_match = rf"^attachment: send_time_ns must fit in i64, got {time_ns}$"

    with pytest.raises(CodecError, match=source_match):
        pack(Attachment(sequence=1, source_time_ns=time_ns, send_time_ns=0))
    with pytest.raises(CodecError, match=send_match):
        pack(Attachment(sequence=1, source_time_ns=0, send_time_ns=time_ns))


def test_unpack_fields_agrees_with_unpack() -> None:
    for data in (KNOWN_BYTES, REALISTIC_BYTES):
        flags, sequence, source_time_ns, send_time_ns = unpack_fields(data)
        attachment = unpack(data)

        assert (sequence, source_time_ns, send_time_ns) == (
            attachment.sequence,
            attachment.source_time_ns,
            attachment.send_time_ns,
        )
        assert bool(flags & FLAG_STAMP_FROM_HEADER) is attachment.stamp_from_header


def test_pack_fields_agrees_with_pack() -> None:
    assert pack_fields(2, 0x0102030405060708, -1, stamp_from_header=True) == KNOWN_BYTES


def test_unpack_accepts_memoryview_and_bytearray() -> None:
    assert unpack(memoryview(KNOWN_BYTES)) == KNOWN
    assert unpack(bytearray(KNOWN_BYTES)) == KNOWN
    assert unpack_fields(memoryview(KNOWN_BYTES)) == unpack_fields(KNOWN_BYTES)


def test_unpack_reads_an_attachment_sliced_out_of_a_larger_buffer() -> None:
    buffer = memoryview(b"\xee" * 5 + KNOWN_BYTES + b"\xee" * 3)

    assert unpack(buffer[5:37]) == KNOWN
