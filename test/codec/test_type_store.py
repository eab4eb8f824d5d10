"""The type store: finds definitions, builds classes once, and round-trips every msg/ type."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from support.message_values import filled

from telemetry.codec import CodecError, TypeStore
from telemetry.codec.store import source_msg_dir

OWN_TYPES = sorted(f"telemetry/msg/{p.stem}" for p in (source_msg_dir() or Path()).glob("*.msg"))

ARRAYS_MSG = """\
uint8 LIMIT=3
float64[3] fixed
int32[<=3] bounded
string<=5[<=2] labels
uint8[4] raw
uint8[] blob
bool[] flags
std_msgs/Header[<=2] headers
int32 answer 42
"""


def _arrays_store() -> TypeStore:
    store = TypeStore.from_environment()
    store.add_definition("demo_msgs/Arrays", ARRAYS_MSG)
    return store


def test_own_message_types_are_found_in_msg_folder() -> None:
    assert OWN_TYPES == [
        "telemetry/msg/BadInputCount", "telemetry/msg/BridgeHealth", "telemetry/msg/FleetStatus",
        "telemetry/msg/RecorderStatus", "telemetry/msg/SampleBatch", "telemetry/msg/StreamHealth",
        "telemetry/msg/StreamStats", "telemetry/msg/VehicleStats",
    ]


@pytest.mark.parametrize("type_name", OWN_TYPES)
@pytest.mark.parametrize("array_len", [0, 1, 50_000])
def test_every_own_type_round_trips_with_empty_and_large_arrays(
    store: TypeStore, type_name: str, array_len: int
) -> None:
    message = filled(store, type_name, random.Random(f"{type_name}/{array_len}"), array_len)

    data = store.encode(message)

    assert data[:4] == b"\x00\x01\x00\x00"
    assert store.decode(type_name, data) == message


@pytest.mark.parametrize("seed", range(5))
def test_fixed_and_bounded_arrays_round_trip_at_their_maximum(seed: int) -> None:
    store = _arrays_store()
    message = filled(store, "demo_msgs/Arrays", random.Random(seed), array_len=9)
    assert len(message.bounded) == 3 and len(message.labels) == 2 and len(message.headers) == 2

    assert store.decode("demo_msgs/Arrays", store.encode(message)) == message


def test_new_messages_have_zero_values_defaults_and_constants() -> None:
    store = _arrays_store()
    message = store.new("demo_msgs/Arrays")

    assert message.fixed == [0.0, 0.0, 0.0]
    assert message.raw == bytes(4) and message.blob == b"" and message.flags == []
    assert message.answer == 42
    assert store.constant("demo_msgs/Arrays", "LIMIT") == 3
    assert store.new("sensor_msgs/Imu").header.frame_id == ""


def test_classes_are_built_once_per_type(store: TypeStore) -> None:
    assert store.message_class("sensor_msgs/Imu") is store.message_class("sensor_msgs/msg/Imu")
    header = store.message_class("std_msgs/Header")
    assert type(store.new("sensor_msgs/Imu").header) is header


def test_has_type_answers_without_raising(store: TypeStore) -> None:
    assert store.has_type("sensor_msgs/msg/NavSatFix")
    assert store.has_type("telemetry/VehicleStats")
    assert not store.has_type("sensor_msgs/msg/Imuu")
    assert not store.has_type("not a type")


def test_unknown_type_is_an_error_that_names_it_and_the_search_path(store: TypeStore) -> None:
    with pytest.raises(CodecError, match=r"sensor_msgs/msg/Imuu: no \.msg definition found \(searched: .+\)"):
        store.message_class("sensor_msgs/Imuu")


def test_unknown_nested_type_is_an_error_that_names_it() -> None:
    store = TypeStore.from_environment()
    store.add_definition("demo_msgs/Outer", "demo_msgs/Missing inner\n")
    with pytest.raises(CodecError, match=r"demo_msgs/msg/Missing: no \.msg definition found"):
        store.message_class("demo_msgs/Outer")


def test_recursive_definition_is_refused() -> None:
    store = TypeStore()
    store.add_definition("demo_msgs/Loop", "demo_msgs/Loop again\n")
    with pytest.raises(CodecError, match=r"demo_msgs/msg/Loop: recursive definition"):
        store.message_class("demo_msgs/Loop")


def test_definitions_are_read_from_a_share_root(tmp_path: Path) -> None:
    (tmp_path / "demo_msgs" / "msg").mkdir(parents=True)
    (tmp_path / "demo_msgs" / "msg" / "Ping.msg").write_text("uint32 count\nstring note\n")
    store = TypeStore([tmp_path])

    message = store.new("demo_msgs/Ping", count=3, note="hi")

    assert store.encode(message) == b"\x00\x01\x00\x00" + b"\x03\x00\x00\x00" + b"\x03\x00\x00\x00hi\x00"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"bounded": [1, 2, 3, 4]}, r"demo_msgs/msg/Arrays: cannot encode"),
        ({"raw": b"12345"}, r"demo_msgs/msg/Arrays: cannot encode"),
        ({"labels": ["toolong"]}, r"demo_msgs/msg/Arrays: cannot encode"),
        ({"answer": "forty-two"}, r"demo_msgs/msg/Arrays: cannot encode"),
    ],
)
def test_values_that_do_not_fit_the_definition_are_encode_errors(fields: dict[str, object], message: str) -> None:
    store = _arrays_store()
    with pytest.raises(CodecError, match=message):
        store.encode(store.new("demo_msgs/Arrays", **fields))


def test_truncated_payload_is_a_decode_error_with_its_size(store: TypeStore) -> None:
    data = store.encode(filled(store, "telemetry/VehicleStats", random.Random(1), 3))
    with pytest.raises(CodecError, match=rf"telemetry/msg/VehicleStats: cannot decode {len(data) - 5} bytes"):
        store.decode("telemetry/VehicleStats", data[:-5])


@pytest.mark.parametrize("data", [b"", b"\x00", b"\x07\x07\x00\x00abcd"])
def test_payload_without_cdr_header_is_a_decode_error(store: TypeStore, data: bytes) -> None:
    with pytest.raises(CodecError, match=r"telemetry/msg/FleetStatus: not CDR"):
        store.decode("telemetry/FleetStatus", data)


def test_registering_after_first_use_is_refused() -> None:
    store = _arrays_store()
    store.message_class("demo_msgs/Arrays")
    with pytest.raises(CodecError, match=r"demo_msgs/msg/Arrays: already built"):
        store.add_definition("demo_msgs/Arrays", "int32 x\n")
