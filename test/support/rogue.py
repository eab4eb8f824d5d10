"""Rogue publishers: every kind of bad input the aggregator must count and survive.

Each function puts on an open Zenoh session at a modest, paced rate (so that the bad input
spans several aggregator ticks) and returns how many bad inputs it sent, which is the count
the aggregator should report. Good samples, where a function needs some, follow the wire
format exactly (`support.synthetic`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import zenoh

from support.synthetic import StreamSpec, SyntheticVehicle, VehicleOptions, stamped_payload
from telemetry.codec import TypeStore
from telemetry.codec.attachment import ATTACHMENT_STRUCT, pack_fields

__all__ = [
    "BILLION",
    "flood",
    "put_bad_keys",
    "put_undecodable_batches",
    "put_with_attachment",
    "put_without_attachment",
    "sequence_jump",
    "unknown_version_attachment",
    "wrong_length_attachment",
]

BILLION = 1_000_000_000
_IMU = "sensor_msgs/msg/Imu"


def _paced(count: int, period_s: float) -> Iterable[int]:
    """0..count-1 on absolute deadlines `period_s` apart."""
    start = time.monotonic()
    for index in range(count):
        delay = start + index * period_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield index


def _encoding() -> zenoh.Encoding:
    return zenoh.Encoding.APPLICATION_CDR.with_schema(_IMU)


def _payload() -> bytes:
    """A CDR-looking payload; the aggregator never decodes single samples."""
    return b"\x00\x01\x00\x00" + bytes(312)


def put_without_attachment(session: zenoh.Session, key: str, count: int = 40, period_s: float = 0.025) -> int:
    """Samples that carry no attachment at all."""
    for _ in _paced(count, period_s):
        session.put(key, _payload(), encoding=_encoding())
    return count


def put_with_attachment(
    session: zenoh.Session, key: str, attachment: Callable[[int], bytes], count: int = 40, period_s: float = 0.025
) -> int:
    """Samples whose attachment is `attachment(sequence)`."""
    for index in _paced(count, period_s):
        session.put(key, _payload(), encoding=_encoding(), attachment=attachment(index + 1))
    return count


def wrong_length_attachment(sequence: int) -> bytes:
    """A version-1 attachment with its last 8 bytes (send time) cut off: 24 bytes."""
    return pack_fields(sequence, time.time_ns(), time.time_ns(), True)[:24]


def unknown_version_attachment(sequence: int) -> bytes:
    """32 bytes of a layout version this build does not read (version byte 2)."""
    now_ns = time.time_ns()
    return ATTACHMENT_STRUCT.pack(2, 1, sequence, now_ns, now_ns)


def put_bad_keys(session: zenoh.Session, keys: Iterable[str], count: int = 20, period_s: float = 0.05) -> int:
    """Well-formed samples on keys that do not parse as fleet keys; returns samples per key."""
    keys = list(keys)
    for index in _paced(count, period_s):
        for key in keys:
            now_ns = time.time_ns()
            session.put(key, _payload(), encoding=_encoding(), attachment=pack_fields(index + 1, now_ns, now_ns, True))
    return count


def put_undecodable_batches(
    session: zenoh.Session, key: str, store: TypeStore, count: int = 20, period_s: float = 0.05
) -> int:
    """SampleBatch payloads that do not decode: alternately garbage and a real batch cut in half."""
    whole = store.encode(
        store.new(
            "telemetry/msg/SampleBatch",
            version=store.constant("telemetry/msg/SampleBatch", "VERSION"),
            ros_type=_IMU,
            sequence=[1, 2],
            source_time_ns=[1, 2],
            size=[4, 4],
            data=list(bytes(8)),
        )
    )
    encoding = zenoh.Encoding.APPLICATION_CDR.with_schema("telemetry/msg/SampleBatch")
    for index in _paced(count, period_s):
        payload = b"\x00\x01\x00\x00\xde\xad\xbe\xef" if index % 2 else whole[: len(whole) // 2]
        session.put(key, payload, encoding=encoding)
    return count


def sequence_jump(session: zenoh.Session, key: str, before: int = 25, after: int = 25, period_s: float = 0.02) -> int:
    """Good samples numbered 1..before, then on from a billion higher: one jump."""
    template = _imu_template()
    with session.declare_publisher(key, encoding=_encoding()) as publisher:
        for index in _paced(before + after, period_s):
            sequence = index + 1 + (BILLION if index >= before else 0)
            now_ns = time.time_ns()
            publisher.put(stamped_payload(template, now_ns), attachment=pack_fields(sequence, now_ns, now_ns, True))
    return 1


def flood(
    session: zenoh.Session,
    region: str,
    vehicle: str,
    expected_hz: float = 10.0,
    factor: float = 100.0,
    seconds: float = 1.5,
    store: TypeStore | None = None,
) -> SyntheticVehicle:
    """A vehicle whose catalogue promises `expected_hz` on /flood but sends `factor` times that.

    It runs in this process's thread for `seconds` and is returned still holding its token
    and queryables; the caller closes it.
    """
    spec = StreamSpec("/flood", expected_hz * factor, advertised_hz=expected_hz)
    flooding = SyntheticVehicle(session, VehicleOptions(region, vehicle, (spec,)), store).start()
    time.sleep(seconds)  # the flood lasts this long: the duration is the input, not a wait for a condition
    flooding.pause()
    return flooding


_TEMPLATE: list[bytes] = []


def _imu_template() -> bytes:
    if not _TEMPLATE:
        from support.synthetic import imu_payload_template

        _TEMPLATE.append(imu_payload_template(TypeStore.from_environment()))
    return _TEMPLATE[0]
