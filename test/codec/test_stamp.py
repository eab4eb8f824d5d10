"""Reading header.stamp from raw CDR: hand-built payloads of both byte orders and a real Imu."""

from __future__ import annotations

import pytest

from telemetry.codec.stamp import header_stamp_ns
from telemetry.errors import CodecError

# sec 1_700_000_000 = 0x6553f100, nanosec 123_456_789 = 0x075bcd15.
STAMP_NS = 1_700_000_000_123_456_789
LE_PAYLOAD = bytes.fromhex(
    "00 01 00 00"  # encapsulation: CDR little endian, options 0
    "00 f1 53 65"  # stamp.sec
    "15 cd 5b 07"  # stamp.nanosec
    "09 00 00 00 69 6d 75 5f 6c 69 6e 6b 00"  # frame_id "imu_link" (not read)
)
BE_PAYLOAD = bytes.fromhex(
    "00 00 00 00"  # encapsulation: CDR big endian, options 0
    "65 53 f1 00"  # stamp.sec
    "07 5b cd 15"  # stamp.nanosec
    "00 00 00 09 69 6d 75 5f 6c 69 6e 6b 00"
)


def test_reads_the_stamp_from_little_endian_cdr() -> None:
    assert header_stamp_ns(LE_PAYLOAD) == STAMP_NS


def test_reads_the_stamp_from_big_endian_cdr() -> None:
    assert header_stamp_ns(BE_PAYLOAD) == STAMP_NS


def test_reads_a_payload_of_exactly_the_stamp() -> None:
    assert header_stamp_ns(LE_PAYLOAD[:12]) == STAMP_NS


def test_ignores_the_encapsulation_options_bytes() -> None:
    assert header_stamp_ns(b"\x00\x01\x00\x03" + LE_PAYLOAD[4:]) == STAMP_NS


def test_reads_a_negative_sec_as_a_time_before_the_epoch() -> None:
    payload = bytes.fromhex("00 01 00 00  ff ff ff ff  f4 01 00 00")  # sec -1, nanosec 500

    assert header_stamp_ns(payload) == -1_000_000_000 + 500


def test_accepts_memoryview_and_bytearray() -> None:
    assert header_stamp_ns(memoryview(LE_PAYLOAD)) == STAMP_NS
    assert header_stamp_ns(bytearray(BE_PAYLOAD)) == STAMP_NS
    assert header_stamp_ns(memoryview(b"\xee" + LE_PAYLOAD)[1:]) == STAMP_NS


def test_reads_the_stamp_of_an_imu_serialized_by_rclpy() -> None:
    from rclpy.serialization import serialize_message
    from sensor_msgs.msg import Imu

    message = Imu()
    message.header.stamp.sec = 1_700_000_000
    message.header.stamp.nanosec = 999_999_999
    message.header.frame_id = "imu_link"
    message.linear_acceleration.z = 9.81

    payload = serialize_message(message)

    assert header_stamp_ns(payload) == 1_700_000_000_999_999_999


@pytest.mark.parametrize("size", [0, 4, 11])
def test_rejects_a_payload_too_short_to_hold_a_stamp(size: int) -> None:
    match = rf"^stamp: payload of {size} bytes is too short for a header stamp \(need 12\)$"

    with pytest.raises(CodecError, match=match):
        header_stamp_ns(LE_PAYLOAD[:size])


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("00 02 00 00", "0x0002"),  # PL_CDR_BE: parameter list, not plain CDR
        ("00 03 00 00", "0x0003"),  # PL_CDR_LE
        ("00 07 00 00", "0x0007"),  # XCDR2 little endian
        ("01 00 00 00", "0x0100"),
    ],
)
def test_rejects_an_unknown_encapsulation(header: str, kind: str) -> None:
    payload = bytes.fromhex(header) + LE_PAYLOAD[4:]
    match = (
        rf"^stamp: unknown CDR encapsulation {kind} "
        r"\(expected 0x0001 little endian or 0x0000 big endian\)$"
    )

    with pytest.raises(CodecError, match=match):
        header_stamp_ns(payload)


@pytest.mark.parametrize(
    ("nanosec_le", "nanosec"),
    [("00 ca 9a 3b", 1_000_000_000), ("ff ff ff ff", 4_294_967_295)],
)
def test_rejects_a_nanosec_of_a_second_or_more(nanosec_le: str, nanosec: int) -> None:
    payload = bytes.fromhex("00 01 00 00  00 f1 53 65" + nanosec_le)

    with pytest.raises(CodecError, match=rf"^stamp: nanosec must be < 1000000000, got {nanosec}$"):
        header_stamp_ns(payload)
