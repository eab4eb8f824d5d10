"""Hostile input, generated (hypothesis): random and mutated attachments, payloads, batches,
keys and config files into the codec, the aggregator and the config loader.

The rule under test is the project's: bad input is counted or reported with a clear
message (the package's own error type, naming what failed), and no other exception escapes.
Examples are derandomized, so a CI failure repeats on any machine.
"""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.engine_input import FakeBytes, FakeSample, arrivals, batch_payload
from support.engine_run import Run

from telemetry.aggregator.ingest import Ingest
from telemetry.codec import TypeStore
from telemetry.codec.attachment import ATTACHMENT_SIZE, pack_fields, unpack
from telemetry.codec.batch import BATCH_ENCODING, batch_head, read_batch
from telemetry.config import default_fleet_config_path, parse_fleet_config
from telemetry.dashboard.reports import decode_fleet_status, decode_vehicle_stats
from telemetry.errors import CodecError, ConfigError, KeyExprError
from telemetry.keys import KeySpace

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SHIPPED_FLEET = default_fleet_config_path().read_text(encoding="utf-8")
T0 = 1_767_268_800 * 1_000_000_000


def _mutated(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    """`data` with each (position, byte) edit applied, positions wrapped into range."""
    out = bytearray(data)
    for position, value in edits:
        if out:
            out[position % len(out)] = value
    return bytes(out)


EDITS = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8)


@FUZZ
@given(st.binary(max_size=64))
def test_any_attachment_bytes_unpack_or_raise_a_codec_error(data: bytes) -> None:
    try:
        attachment = unpack(data)
    except CodecError as error:
        assert "attachment" in str(error).lower()
    else:
        assert len(data) == ATTACHMENT_SIZE and attachment.sequence >= 0


@FUZZ
@given(st.binary(max_size=512), EDITS, st.integers(0, 2000))
def test_any_batch_bytes_read_or_raise_a_codec_error_naming_the_type(
    store: TypeStore, noise: bytes, edits: list[tuple[int, int]], cut: int
) -> None:
    valid = batch_payload(store, arrivals(1000, 0.005, start_ns=T0), T0)
    for payload in (noise, _mutated(valid, edits), valid[:cut]):
        try:
            read_batch(store, payload)
        except CodecError as error:
            assert str(error).startswith("telemetry/msg/SampleBatch: ")
        try:
            head, data_len = batch_head(payload)
        except (ValueError, struct.error):
            continue
        try:
            read_batch(store, head, data_len)
        except CodecError as error:
            assert str(error).startswith("telemetry/msg/SampleBatch: ")


@FUZZ
@given(st.binary(max_size=400))
def test_any_stats_bytes_decode_or_raise_a_codec_error_naming_the_key(store: TypeStore, data: bytes) -> None:
    decoders = ((decode_vehicle_stats, "telemetry/stats/eu-west/rover-01"), (decode_fleet_status, "telemetry/fleet"))
    for decode, key in decoders:
        try:
            decode(store, key, b"\x00\x01\x00\x00" + data)
        except CodecError as error:
            assert str(error).startswith(f"{key}: ")


@FUZZ
@given(st.text(max_size=80))
def test_any_key_parses_or_raises_a_key_error(text: str) -> None:
    try:
        KeySpace().parse(text)
    except KeyExprError as error:
        assert str(error)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(SHIPPED_FLEET)), st.text(max_size=6)), min_size=1, max_size=4))
def test_a_mutated_fleet_config_loads_or_names_the_file_and_the_problem(
    store: TypeStore, edits: list[tuple[int, str]]
) -> None:
    text = SHIPPED_FLEET
    for position, insert in edits:
        text = text[:position] + insert + text[position + len(insert):]
    try:
        parse_fleet_config(text, "fuzz/fleet.yaml", store)
    except ConfigError as error:
        assert str(error).startswith("fuzz/fleet.yaml: "), str(error)


KEYS = st.one_of(
    st.sampled_from(["telemetry/data/eu-west/rover-01/imu", "telemetry/batch/eu-west/rover-01/imu",
                     "telemetry/health/eu-west/rover-01",
                     "telemetry/data/eu-west", "telemetry/data/*/x/y", "telemetry/data/eu-west/rover-01/a$b",
                     "other/data/a/b/c"]),
    st.text(alphabet="abc/-_*$#?", max_size=40).map(lambda t: "telemetry/data/" + t),
)


@FUZZ
@given(st.lists(st.tuples(KEYS, st.binary(max_size=80), st.one_of(st.none(), st.binary(max_size=40)), st.booleans()),
                max_size=30))
def test_the_aggregator_counts_hostile_samples_and_keeps_publishing(
    store: TypeStore, samples: list[tuple[str, bytes, bytes | None, bool]]
) -> None:
    ingest = Ingest(KeySpace())
    good = pack_fields(1, T0, T0, stamp_from_header=True)
    ingest.on_data(FakeSample("telemetry/data/eu-west/rover-01/imu", FakeBytes(b"\x00\x01\x00\x00" + bytes(40)),
                              FakeBytes(good)))
    for key, payload, attachment, says_batch in samples:
        # A message that claims to be a SampleBatch (its encoding), whatever its bytes are.
        encoding = BATCH_ENCODING if says_batch else "application/cdr;sensor_msgs/msg/Imu"
        sample = FakeSample(key, FakeBytes(payload), None if attachment is None else FakeBytes(attachment), encoding)
        if key.startswith("telemetry/health/"):
            ingest.on_health(sample)
        else:
            ingest.on_data(sample)
    run = Run(store)
    run.engine.ingest(ingest.drain(), T0 + 500_000_000)
    snapshot = run.snapshot(T0 + 500_000_000)
    fleet = run.fleet(snapshot)
    assert "eu-west/rover-01" in list(fleet.vehicles)
    rover = run.vehicle(snapshot, "eu-west", "rover-01")
    assert rover.malformed == sum(bad.count for bad in rover.bad_input)

