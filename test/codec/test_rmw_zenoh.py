"""rmw_zenoh's wire layout, byte for byte against the examples in ../shared/notes/rmw_zenoh_wire.md
(taken there from rmw_zenoh's design document and source), and against zenoh-ext's own serializer,
which rmw_zenoh's attachment is written with."""

from __future__ import annotations

import pytest
import zenoh.ext as ze

from telemetry.codec.rmw_zenoh import (
    EntityKind,
    QosProfile,
    RmwAttachment,
    data_key,
    data_selector,
    dds_type_name,
    liveliness_selector,
    pack_attachment,
    pack_keyed_attachment,
    parse_attachment,
    parse_data_key,
    parse_qos_chunk,
    parse_token,
    qos_chunk,
    ros_type_name,
)
from telemetry.errors import CodecError

TIMESTAMP = 1700000000123456789
GID = bytes.fromhex("ac170f31eadcd9ff0cd86d7a17907d1c")
POSITIONAL = bytes.fromhex(
    "0100000000000000" "15cd853dfe9c9717" "10" "ac170f31eadcd9ff0cd86d7a17907d1c"
)
KEYED = (
    b"\x0fsequence_number" + bytes.fromhex("0100000000000000")
    + b"\x10source_timestamp" + bytes.fromhex("15cd853dfe9c9717")
    + b"\x0asource_gid" + b"\x10" + GID
)
IMU_HASH = "RIHS01_7d9a00ff131080897a5ec7e26e315954b8eae3353c3f995c55faf71574000b5b"
STRING_HASH = "RIHS01_df668c740482bbd48fb39d76a70dfd4bd59db1288021743503259e948f6b1a18"
ZID = "aac3178e146ba6f1fc6e6a4085e77f21"


# --- attachments ---------------------------------------------------------------------------------


def test_the_positional_attachment_is_the_notes_33_bytes_and_zenoh_exts_serialization() -> None:
    packed = pack_attachment(1, TIMESTAMP, GID)
    assert packed == POSITIONAL and len(packed) == 33
    assert packed == ze.z_serialize((ze.Int64(1), ze.Int64(TIMESTAMP), GID)).to_bytes()


def test_the_keyed_attachment_of_early_jazzy_is_the_notes_77_bytes() -> None:
    assert pack_keyed_attachment(1, TIMESTAMP, GID) == KEYED and len(KEYED) == 77


@pytest.mark.parametrize("raw", [POSITIONAL, KEYED], ids=["positional", "keyed"])
def test_both_forms_parse_to_the_same_values(raw: bytes) -> None:
    assert parse_attachment(raw) == RmwAttachment(1, TIMESTAMP, GID)


def test_what_zenoh_ext_serializes_parses() -> None:
    raw = ze.z_serialize((ze.Int64(77), ze.Int64(-5), bytes(range(16)))).to_bytes()
    assert parse_attachment(raw) == RmwAttachment(77, -5, bytes(range(16)))


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (POSITIONAL[:-1], "expected 33 bytes \\(or 77, the keyed form of early Jazzy\\), got 32"),
        (b"", "got 0"),
        (POSITIONAL[:16] + b"\x11" + POSITIONAL[17:], "GID length byte is 17, expected 16"),
        (bytes(8) + POSITIONAL[8:], "sequence must be >= 1, got 0"),
        (KEYED.replace(b"sequence_number", b"sequence_numbex"), "expected the key 'sequence_number' at byte 0"),
        (KEYED.replace(b"\x0asource_gid\x10", b"\x0asource_gid\x0f"), "GID length byte is 15"),
    ],
)
def test_a_broken_attachment_is_a_codec_error_saying_what(raw: bytes, words: str) -> None:
    with pytest.raises(CodecError, match=words):
        parse_attachment(raw)


def test_a_gid_of_the_wrong_size_is_refused_when_packing() -> None:
    with pytest.raises(CodecError, match="the GID must be 16 bytes, got 15"):
        pack_attachment(1, 0, GID[:15])


# --- type names and data keys --------------------------------------------------------------------


def test_type_names_convert_both_ways() -> None:
    assert dds_type_name("sensor_msgs/msg/Imu") == "sensor_msgs::msg::dds_::Imu_"
    assert ros_type_name("std_msgs::msg::dds_::String_") == "std_msgs/msg/String"


@pytest.mark.parametrize("bad", ["Imu", "sensor_msgs/Imu", "sensor_msgs/foo/Imu", "sensor_msgs//Imu"])
def test_a_ros_type_that_is_not_pkg_msg_name_is_refused(bad: str) -> None:
    with pytest.raises(CodecError, match="expected <package>/msg/<Name>"):
        dds_type_name(bad)


@pytest.mark.parametrize("bad", ["sensor_msgs::msg::Imu_", "sensor_msgs::msg::dds_::Imu", "::msg::dds_::Imu_"])
def test_a_dds_type_that_is_not_of_the_form_is_refused(bad: str) -> None:
    with pytest.raises(CodecError, match="expected <package>::msg::dds_::<Name>_"):
        ros_type_name(bad)


@pytest.mark.parametrize(
    ("key", "domain", "topic", "ros_type", "type_hash"),
    [
        (f"0/chatter/std_msgs::msg::dds_::String_/{STRING_HASH}", 0, "/chatter", "std_msgs/msg/String", STRING_HASH),
        (f"0/robot1/imu/data/sensor_msgs::msg::dds_::Imu_/{IMU_HASH}", 0, "/robot1/imu/data", "sensor_msgs/msg/Imu",
         IMU_HASH),
    ],
)
def test_the_notes_data_keys_build_and_parse(key: str, domain: int, topic: str, ros_type: str, type_hash: str) -> None:
    assert data_key(domain, topic, ros_type, type_hash) == key
    parsed = parse_data_key(key)
    assert (parsed.domain_id, parsed.topic, parsed.ros_type, parsed.type_hash) == (domain, topic, ros_type, type_hash)


@pytest.mark.parametrize("bad", ["0/chatter/x", "x/chatter/std_msgs::msg::dds_::String_/h",
                                 "0/chatter/std_msgs/msg/String/h", "0//std_msgs::msg::dds_::String_/h"])
def test_a_key_that_is_not_an_rmw_zenoh_data_key_is_a_codec_error(bad: str) -> None:
    with pytest.raises(CodecError):
        parse_data_key(bad)


def test_selectors_cover_a_domain_or_one_namespace_of_it() -> None:
    assert data_selector(0) == "0/**" and data_selector(7, "/robot1") == "7/robot1/**"
    assert liveliness_selector(7) == "@ros2_lv/7/**"


# --- liveliness tokens and QoS -------------------------------------------------------------------

NODE_TOKEN = f"@ros2_lv/0/{ZID}/0/0/NN/%/%/listener"
SUBSCRIPTION_TOKEN = (f"@ros2_lv/0/{ZID}/0/10/MS/%/%/listener/%chatter/std_msgs::msg::dds_::String_/{STRING_HASH}/"
                      "::,10:,:,:,,")
IMU_NODE_TOKEN = f"@ros2_lv/0/{ZID}/0/0/NN/%/%robot1/imu_node"
IMU_PUBLISHER_TOKEN = (f"@ros2_lv/0/{ZID}/0/3/MP/%/%robot1/imu_node/%robot1%imu%data/sensor_msgs::msg::dds_::Imu_/"
                       f"{IMU_HASH}/2::,5:,:,:,,")
SERVICE_TOKEN = (f"@ros2_lv/0/{ZID}/0/5/SS/%/%/add_two_ints_server/%add_two_ints/"
                 "example_interfaces::srv::dds_::AddTwoInts_/"
                 "RIHS01_e118de6bf5eeb66a2491b5bda11202e7b68f198d6f67922cf30364858239c81a/::,10:,:,:,,")


@pytest.mark.parametrize("token", [NODE_TOKEN, SUBSCRIPTION_TOKEN, IMU_NODE_TOKEN, IMU_PUBLISHER_TOKEN, SERVICE_TOKEN])
def test_the_notes_tokens_parse_and_rebuild_to_the_same_string(token: str) -> None:
    assert parse_token(token).key() == token


def test_a_publishers_token_says_its_node_topic_type_and_qos() -> None:
    token = parse_token(IMU_PUBLISHER_TOKEN)
    assert (token.domain_id, token.zid, token.node_id, token.entity_id, token.kind) == (0, ZID, 0, 3,
                                                                                         EntityKind.PUBLISHER)
    assert (token.enclave, token.namespace, token.node_name) == ("/", "/robot1", "imu_node")
    assert (token.topic, token.ros_type, token.type_hash) == ("/robot1/imu/data", "sensor_msgs/msg/Imu", IMU_HASH)
    assert token.qos == QosProfile(reliable=False, depth=5)
    node = parse_token(IMU_NODE_TOKEN)
    assert node.kind is EntityKind.NODE and node.topic is None and node.qos is None


@pytest.mark.parametrize(
    ("token", "words"),
    [
        (f"@ros2_lv/0/{ZID}/0/0/NN/%/%", "expected @ros2_lv/"),
        (f"@ros2_lv/0/{ZID}/0/0/NN/%//listener", "no empty chunk"),
        (f"@ros2_lv/0/{ZID}/0/0/XX/%/%/listener", "unknown kind"),
        (IMU_PUBLISHER_TOKEN.rsplit("/", 1)[0], "an endpoint's token has 13 chunks, got 12"),
        (IMU_PUBLISHER_TOKEN.replace("2::,5:", "9::,5:"), "unknown reliability"),
        (f"@ros2_lv/0/{ZID}/0/0/NN/%/%/listener/extra", "a node's token has 9 chunks"),
    ],
)
def test_a_token_rmw_zenoh_would_reject_is_a_codec_error(token: str, words: str) -> None:
    with pytest.raises(CodecError, match=words):
        parse_token(token)


@pytest.mark.parametrize(
    ("chunk", "qos"),
    [
        ("::,10:,:,:,,", QosProfile(depth=10)),
        ("::,7:,:,:,,", QosProfile(depth=7)),
        ("2::,5:,:,:,,", QosProfile(reliable=False, depth=5)),
        (":1:,1:,:,:,,", QosProfile(transient_local=True, depth=1)),
        ("::2,1000:,:,:,,", QosProfile(keep_all=True, depth=1000)),
        ("::,10:0,500000000:,:,,", QosProfile(depth=10, tail="0,500000000:,:,,")),
    ],
)
def test_each_qos_row_of_the_notes_round_trips(chunk: str, qos: QosProfile) -> None:
    assert parse_qos_chunk(chunk) == qos
    assert qos_chunk(qos) == chunk


@pytest.mark.parametrize("bad", ["", "::", "a::,10:,:,:,,", "::,10"])
def test_a_malformed_qos_chunk_is_a_codec_error(bad: str) -> None:
    with pytest.raises(CodecError, match="rmw_zenoh QoS"):
        parse_qos_chunk(bad)
