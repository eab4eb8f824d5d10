"""The fleet key space: every key kind built and parsed back, and every bad name refused."""

from __future__ import annotations

import re

import pytest

from telemetry.codec.rmw_zenoh import parse_token
from telemetry.errors import KeyExprError
from telemetry.keys import (
    DEFAULT_ROOT,
    TOPIC_MAX_LENGTH,
    KeyKind,
    KeySpace,
    ParsedKey,
    RmwZenohMap,
    RmwZenohVehicle,
    key_to_topic,
    namespace_name,
    topic_to_key,
    validate_name,
)

SPACE = KeySpace()
KINDS = "(expected one of alive, clock, data, fleet, health, history, meta, recorder, stats)"


def exactly(message: str) -> str:
    """A `match=` pattern for exactly this message."""
    return f"^{re.escape(message)}$"


# -- names ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["eu-west", "car_01", "Vehicle.7", "r2d2", "région", "_x", "a@b"])
def test_validate_name_returns_a_valid_name_unchanged(name: str) -> None:
    assert validate_name(name, "vehicle") == name


BAD_NAMES = [
    ("", "must not be empty"),
    ("eu*west", "must not contain '*'"),
    ("eu$west", "must not contain '$'"),
    ("eu#west", "must not contain '#'"),
    ("eu?west", "must not contain '?'"),
    ("eu/west", "must not contain '/'"),
    ("**", "must not contain '*'"),
    ("@eu", "must not start with '@' (Zenoh wildcards do not match such a chunk)"),
    ("eu west", "must not contain whitespace (' ')"),
    ("eu\twest", "must not contain whitespace ('\\t')"),
    (" eu", "must not contain whitespace (' ')"),
    ("eu\x00west", "must not contain a control character ('\\x00')"),
    ("eu\x7fwest", "must not contain a control character ('\\x7f')"),
]


@pytest.mark.parametrize(("name", "problem"), BAD_NAMES)
def test_validate_name_names_the_value_and_what_is_wrong(name: str, problem: str) -> None:
    with pytest.raises(KeyExprError, match=exactly(f"region {name!r}: {problem}")):
        validate_name(name, "region")


def test_validate_name_messages_read_as_documented() -> None:
    with pytest.raises(KeyExprError, match=r"^region 'eu\*west': must not contain '\*'$"):
        validate_name("eu*west", "region")
    with pytest.raises(KeyExprError, match=r"^vehicle '': must not be empty$"):
        validate_name("", "vehicle")


@pytest.mark.parametrize(("name", "problem"), BAD_NAMES)
def test_every_key_builder_refuses_a_bad_region_or_vehicle(name: str, problem: str) -> None:
    with pytest.raises(KeyExprError, match=exactly(f"vehicle {name!r}: {problem}")):
        SPACE.data("eu-west", name, "/imu")
    with pytest.raises(KeyExprError, match=exactly(f"region {name!r}: {problem}")):
        SPACE.data(name, "car1", "/imu")
    for build in (SPACE.alive, SPACE.meta, SPACE.clock, SPACE.stats):
        with pytest.raises(KeyExprError, match=exactly(f"region {name!r}: {problem}")):
            build(name, "car1")
        with pytest.raises(KeyExprError, match=exactly(f"vehicle {name!r}: {problem}")):
            build("eu-west", name)


# -- topics -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "chunks"),
    [
        ("/imu/data", "imu/data"),
        ("imu/data", "imu/data"),
        ("/imu", "imu"),
        ("/a/b/c", "a/b/c"),
        ("/_hidden/x_1/Y__2", "_hidden/x_1/Y__2"),
    ],
)
def test_topic_to_key_drops_the_leading_slash(topic: str, chunks: str) -> None:
    assert topic_to_key(topic) == chunks


@pytest.mark.parametrize("chunks", ["imu/data", "imu", "a/b/c", "_hidden/x_1"])
def test_key_to_topic_is_the_inverse_of_topic_to_key(chunks: str) -> None:
    assert key_to_topic(chunks) == "/" + chunks
    assert topic_to_key(key_to_topic(chunks)) == chunks


def test_a_topic_of_rmws_maximum_length_is_accepted() -> None:
    topic = "/" + "a" * (TOPIC_MAX_LENGTH - 1)

    assert topic_to_key(topic) == topic[1:]


BAD_TOPICS = [
    ("", "must not be empty"),
    ("/", "must not be empty"),
    ("/imu//data", "empty name chunk"),
    ("//imu", "empty name chunk"),
    ("/imu/data/", "must not end with '/'"),
    ("/imu/1data", "chunk '1data' must not start with a digit"),
    ("/9", "chunk '9' must not start with a digit"),
    ("/imu data", "chunk 'imu data' may contain only letters, digits and '_'"),
    ("/imu-data", "chunk 'imu-data' may contain only letters, digits and '_'"),
    ("/imu/*", "chunk '*' may contain only letters, digits and '_'"),
    ("/imu/**", "chunk '**' may contain only letters, digits and '_'"),
    ("/imu/da$ta", "chunk 'da$ta' may contain only letters, digits and '_'"),
    ("/imu/d#", "chunk 'd#' may contain only letters, digits and '_'"),
    ("/imu?x", "chunk 'imu?x' may contain only letters, digits and '_'"),
    ("/été", "chunk 'été' may contain only letters, digits and '_'"),
    ("~/imu", "substitutions ('~', '{...}') are not allowed here; give the expanded name"),
    ("/{node}/imu", "substitutions ('~', '{...}') are not allowed here; give the expanded name"),
    ("/" + "a" * TOPIC_MAX_LENGTH, f"must be at most 247 characters, got {TOPIC_MAX_LENGTH + 1}"),
]


@pytest.mark.parametrize(("topic", "problem"), BAD_TOPICS)
def test_topic_to_key_names_the_topic_and_what_is_wrong(topic: str, problem: str) -> None:
    with pytest.raises(KeyExprError, match=exactly(f"topic {topic!r}: {problem}")):
        topic_to_key(topic)


def test_topic_error_message_reads_as_documented() -> None:
    with pytest.raises(KeyExprError, match=r"^topic '/imu//data': empty name chunk$"):
        topic_to_key("/imu//data")


def test_key_to_topic_names_the_chunks_and_what_is_wrong() -> None:
    with pytest.raises(KeyExprError, match=r"^topic chunks 'imu//data': empty name chunk$"):
        key_to_topic("imu//data")
    with pytest.raises(KeyExprError, match=r"^topic chunks '/imu': empty name chunk$"):
        key_to_topic("/imu")
    with pytest.raises(KeyExprError, match=r"^topic chunks '': must not be empty$"):
        key_to_topic("")


@pytest.mark.parametrize(("topic", "problem"), BAD_TOPICS[2:])
def test_stream_key_builders_refuse_a_bad_topic(topic: str, problem: str) -> None:
    with pytest.raises(KeyExprError, match=exactly(f"topic {topic!r}: {problem}")):
        SPACE.data("eu-west", "car1", topic)


# -- building and parsing ---------------------------------------------------------------


def test_key_builders_lay_keys_out_as_designed() -> None:
    assert SPACE.data("eu-west", "car1", "/imu/data") == "telemetry/data/eu-west/car1/imu/data"
    assert SPACE.alive("eu-west", "car1") == "telemetry/alive/eu-west/car1"
    assert SPACE.meta("eu-west", "car1") == "telemetry/meta/eu-west/car1"
    assert SPACE.clock("eu-west", "car1") == "telemetry/clock/eu-west/car1"
    assert SPACE.stats("eu-west", "car1") == "telemetry/stats/eu-west/car1"
    assert SPACE.health("eu-west", "car1") == "telemetry/health/eu-west/car1"
    assert SPACE.fleet() == "telemetry/fleet"


def test_the_default_root_is_telemetry() -> None:
    assert SPACE.root == DEFAULT_ROOT == "telemetry"


@pytest.mark.parametrize(
    ("key", "parsed"),
    [
        ("telemetry/data/eu-west/car1/imu", ParsedKey(KeyKind.DATA, "eu-west", "car1", "/imu")),
        ("telemetry/data/us/v2/odom", ParsedKey(KeyKind.DATA, "us", "v2", "/odom")),
        ("telemetry/alive/eu-west/car1", ParsedKey(KeyKind.ALIVE, "eu-west", "car1")),
        ("telemetry/meta/eu-west/car1", ParsedKey(KeyKind.META, "eu-west", "car1")),
        ("telemetry/clock/eu-west/car1", ParsedKey(KeyKind.CLOCK, "eu-west", "car1")),
        ("telemetry/stats/eu-west/car1", ParsedKey(KeyKind.STATS, "eu-west", "car1")),
        ("telemetry/health/eu-west/car1", ParsedKey(KeyKind.HEALTH, "eu-west", "car1")),
        ("telemetry/fleet", ParsedKey(KeyKind.FLEET)),
    ],
)
def test_parse_reads_every_key_kind(key: str, parsed: ParsedKey) -> None:
    assert SPACE.parse(key) == parsed


def test_every_kind_has_a_builder_that_parse_reverses() -> None:
    built = {
        KeyKind.DATA: SPACE.data("r", "v", "/t"),
        KeyKind.ALIVE: SPACE.alive("r", "v"),
        KeyKind.META: SPACE.meta("r", "v"),
        KeyKind.CLOCK: SPACE.clock("r", "v"),
        KeyKind.STATS: SPACE.stats("r", "v"),
        KeyKind.HEALTH: SPACE.health("r", "v"),
        KeyKind.FLEET: SPACE.fleet(),
        KeyKind.HISTORY: SPACE.history("r", "v", "/t"),
        KeyKind.RECORDER: SPACE.recorder("main"),
    }

    assert set(built) == set(KeyKind)
    for kind, key in built.items():
        assert SPACE.parse(key).kind is kind


@pytest.mark.parametrize("topic", ["/imu", "/imu/data", "/a/b/c", "/_x/y_1/z__2"])
@pytest.mark.parametrize("space", [KeySpace(), KeySpace("fleet/telemetry")])
def test_stream_keys_round_trip_through_parse(space: KeySpace, topic: str) -> None:
    assert space.parse(space.data("eu-west", "car1", topic)) == ParsedKey(KeyKind.DATA, "eu-west", "car1", topic)


def test_stream_keys_built_from_a_topic_without_slash_parse_to_the_slashed_topic() -> None:
    assert SPACE.parse(SPACE.data("r", "v", "imu/data")).topic == "/imu/data"


def test_a_custom_root_prefixes_every_key() -> None:
    space = KeySpace("fleet/telemetry")

    assert space.data("eu", "car1", "/imu/data") == "fleet/telemetry/data/eu/car1/imu/data"
    assert space.alive("eu", "car1") == "fleet/telemetry/alive/eu/car1"
    assert space.fleet() == "fleet/telemetry/fleet"
    assert space.parse("fleet/telemetry/stats/eu/car1") == ParsedKey(KeyKind.STATS, "eu", "car1")
    assert space.parse("fleet/telemetry/fleet") == ParsedKey(KeyKind.FLEET)


@pytest.mark.parametrize(
    ("root", "problem"),
    [
        ("", "must not be empty"),
        ("fleet/", "empty chunk"),
        ("/telemetry", "empty chunk"),
        ("fleet//telemetry", "empty chunk"),
        ("fleet/*", "chunk '*': must not contain '*'"),
        ("tele metry", "chunk 'tele metry': must not contain whitespace (' ')"),
        ("fleet/$x", "chunk '$x': must not contain '$'"),
        (
            "@admin/telemetry",
            "chunk '@admin': must not start with '@' (Zenoh wildcards do not match such a chunk)",
        ),
    ],
)
def test_a_bad_root_is_refused_when_the_key_space_is_made(root: str, problem: str) -> None:
    with pytest.raises(KeyExprError, match=exactly(f"root {root!r}: {problem}")):
        KeySpace(root)


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "does not start with root 'telemetry'"),
        ("other/data/eu/car1/imu", "does not start with root 'telemetry'"),
        ("telemetryx/fleet", "does not start with root 'telemetry'"),
        ("fleet/telemetry/fleet", "does not start with root 'telemetry'"),
        ("telemetry", "missing kind"),
        ("telemetry/", f"unknown kind '' {KINDS}"),
        ("telemetry/video/eu/car1", f"unknown kind 'video' {KINDS}"),
        ("telemetry/DATA/eu/car1/imu", f"unknown kind 'DATA' {KINDS}"),
        ("telemetry/fleet/eu", "unexpected chunks 'eu' after 'fleet'"),
        ("telemetry/alive", "missing region"),
        ("telemetry/alive/eu", "missing vehicle"),
        ("telemetry/alive/eu/car1/imu", "unexpected chunks 'imu' after the vehicle"),
        ("telemetry/stats/eu/car1/a/b", "unexpected chunks 'a/b' after the vehicle"),
        ("telemetry/data", "missing region"),
        ("telemetry/data/eu", "missing vehicle"),
        ("telemetry/data/eu/car1", "missing topic"),
        ("telemetry/batch/eu/car1/imu", f"unknown kind 'batch' {KINDS}"),
        ("telemetry/data/eu*/car1/imu", "region 'eu*': must not contain '*'"),
        ("telemetry/data/eu/**", "vehicle '**': must not contain '*'"),
        ("telemetry/alive//car1", "region '': must not be empty"),
        ("telemetry/meta/eu/ car1", "vehicle ' car1': must not contain whitespace (' ')"),
        ("telemetry/data/eu/car1/imu/", "topic chunks 'imu/': must not end with '/'"),
        ("telemetry/data/eu/car1/imu//data", "topic chunks 'imu//data': empty name chunk"),
        (
            "telemetry/data/eu/car1/1imu",
            "topic chunks '1imu': chunk '1imu' must not start with a digit",
        ),
        (
            "telemetry/data/eu/car1/**",
            "topic chunks '**': chunk '**' may contain only letters, digits and '_'",
        ),
    ],
)
def test_parse_names_the_key_and_what_is_wrong(key: str, problem: str) -> None:
    with pytest.raises(KeyExprError, match=exactly(f"key {key!r}: {problem}")):
        SPACE.parse(key)


def test_parse_with_a_custom_root_refuses_the_default_root() -> None:
    with pytest.raises(
        KeyExprError,
        match=exactly("key 'telemetry/fleet': does not start with root 'fleet/telemetry'"),
    ):
        KeySpace("fleet/telemetry").parse("telemetry/fleet")


# -- selectors --------------------------------------------------------------------------


def test_stream_selectors_match_the_whole_space_a_region_or_a_vehicle() -> None:
    assert SPACE.selector(KeyKind.DATA) == "telemetry/data/**"
    assert SPACE.selector(KeyKind.DATA, "eu-west") == "telemetry/data/eu-west/**"
    assert SPACE.selector(KeyKind.DATA, "eu-west", "car1") == "telemetry/data/eu-west/car1/**"
    assert SPACE.selector(KeyKind.DATA, vehicle="car1") == "telemetry/data/*/car1/**"


def test_vehicle_selectors_use_one_wildcard_per_missing_chunk() -> None:
    assert SPACE.selector(KeyKind.ALIVE) == "telemetry/alive/*/*"
    assert SPACE.selector(KeyKind.ALIVE, "eu-west") == "telemetry/alive/eu-west/*"
    assert SPACE.selector(KeyKind.STATS) == "telemetry/stats/*/*"
    assert SPACE.selector(KeyKind.STATS, "eu-west") == "telemetry/stats/eu-west/*"
    assert SPACE.selector(KeyKind.META) == "telemetry/meta/*/*"
    assert SPACE.selector(KeyKind.CLOCK, "eu", "car1") == "telemetry/clock/eu/car1"
    assert SPACE.selector(KeyKind.ALIVE, vehicle="car1") == "telemetry/alive/*/car1"


def test_the_fleet_selector_is_the_fleet_key() -> None:
    assert SPACE.selector(KeyKind.FLEET) == "telemetry/fleet"


def test_the_fleet_selector_refuses_a_region_or_vehicle() -> None:
    message = "selector for 'fleet': takes no region or vehicle"

    with pytest.raises(KeyExprError, match=exactly(message)):
        SPACE.selector(KeyKind.FLEET, "eu")


def test_selectors_use_a_custom_root() -> None:
    space = KeySpace("fleet/telemetry")

    assert space.selector(KeyKind.DATA, "eu") == "fleet/telemetry/data/eu/**"
    assert space.selector(KeyKind.ALIVE) == "fleet/telemetry/alive/*/*"


@pytest.mark.parametrize(("name", "problem"), BAD_NAMES)
def test_selectors_refuse_a_bad_region_or_vehicle(name: str, problem: str) -> None:
    with pytest.raises(KeyExprError, match=exactly(f"region {name!r}: {problem}")):
        SPACE.selector(KeyKind.DATA, name)
    with pytest.raises(KeyExprError, match=exactly(f"vehicle {name!r}: {problem}")):
        SPACE.selector(KeyKind.DATA, "eu", name)
    with pytest.raises(KeyExprError, match=exactly(f"region {name!r}: {problem}")):
        SPACE.selector(KeyKind.ALIVE, name)


def test_zenoh_accepts_every_built_key_and_the_selectors_match_what_they_should() -> None:
    import zenoh

    space = KeySpace("fleet/telemetry")
    here = [space.data("eu", "car1", "/imu/data"), space.alive("eu", "car1")]
    elsewhere = [space.data("us", "car2", "/imu"), space.alive("us", "car2")]
    for key in [*here, *elsewhere, space.stats("eu", "car1"), space.fleet()]:
        assert str(zenoh.KeyExpr(key)) == key

    def matches(selector: str, key: str) -> bool:
        return bool(zenoh.KeyExpr(selector).intersects(zenoh.KeyExpr(key)))

    assert matches(space.selector(KeyKind.DATA), here[0])
    assert matches(space.selector(KeyKind.DATA), elsewhere[0])
    assert matches(space.selector(KeyKind.DATA, "eu"), here[0])
    assert not matches(space.selector(KeyKind.DATA, "eu"), elsewhere[0])
    assert matches(space.selector(KeyKind.DATA, vehicle="car1"), here[0])
    assert not matches(space.selector(KeyKind.DATA), here[1])
    assert matches(space.selector(KeyKind.ALIVE), here[1])
    assert matches(space.selector(KeyKind.ALIVE), elsewhere[1])
    assert matches(space.selector(KeyKind.ALIVE, "eu"), here[1])
    assert not matches(space.selector(KeyKind.ALIVE, "eu"), elsewhere[1])
    assert not matches(space.selector(KeyKind.ALIVE), here[0])


# --- rmw_zenoh vehicles ----------------------------------------------------------------------------

IMU_KEY_TAIL = "sensor_msgs::msg::dds_::Imu_/RIHS01_7d9a00ff131080897a5ec7e26e315954b8eae3353c3f995c55faf71574000b5b"
RMW_FLEET = RmwZenohMap([
    RmwZenohVehicle("eu-west", "base", 0),
    RmwZenohVehicle("eu-west", "robot-01", 0, "/robot1"),
    RmwZenohVehicle("us-east", "robot-02", 5, "/fleet/robot2"),
])


@pytest.mark.parametrize(
    ("key", "owner"),
    [
        (f"0/robot1/imu/{IMU_KEY_TAIL}", ("eu-west", "robot-01", "/imu")),
        (f"0/robot1x/imu/{IMU_KEY_TAIL}", ("eu-west", "base", "/robot1x/imu")),  # a prefix of a name is no namespace
        (f"0/imu/{IMU_KEY_TAIL}", ("eu-west", "base", "/imu")),
        (f"5/fleet/robot2/imu/data/{IMU_KEY_TAIL}", ("us-east", "robot-02", "/imu/data")),
    ],
)
def test_an_rmw_zenoh_key_belongs_to_the_vehicle_of_its_longest_namespace(key: str, owner: tuple[str, ...]) -> None:
    stream = RMW_FLEET.stream(key)
    assert stream is not None
    assert (stream.parsed.kind, stream.parsed.region, stream.parsed.vehicle, stream.parsed.topic) == (KeyKind.DATA,
                                                                                                    *owner)
    assert stream.ros_type == "sensor_msgs/msg/Imu"


@pytest.mark.parametrize("key", [f"5/robot9/imu/{IMU_KEY_TAIL}", f"9/imu/{IMU_KEY_TAIL}", "telemetry/data/a/b/imu",
                                 "0/imu/not_a_type/h"])
def test_a_key_no_configured_vehicle_owns_maps_to_none(key: str) -> None:
    assert RMW_FLEET.stream(key) is None


def test_the_map_subscribes_per_vehicle_and_watches_tokens_per_domain() -> None:
    assert RMW_FLEET.data_selectors() == ["0/**", "0/robot1/**", "5/fleet/robot2/**"]
    assert RMW_FLEET.liveliness_selectors() == ["@ros2_lv/0/**", "@ros2_lv/5/**"]
    assert not RmwZenohMap([])


def test_a_publishers_token_maps_to_its_vehicle_and_a_nodes_to_none() -> None:
    publisher = parse_token(
        f"@ros2_lv/5/z/0/3/MP/%/%fleet%robot2/imu_node/%fleet%robot2%imu/{IMU_KEY_TAIL}/2::,5:,:,:,,")
    owner = RMW_FLEET.publisher(publisher)
    assert owner is not None and (owner[0].vehicle, owner[1]) == ("robot-02", "/imu")
    assert RMW_FLEET.publisher(parse_token("@ros2_lv/5/z/0/0/NN/%/%fleet%robot2/imu_node")) is None


@pytest.mark.parametrize(("given", "absolute"), [("/", "/"), ("", "/"), ("robot1", "/robot1"), ("/a/b/", "/a/b")])
def test_a_namespace_is_kept_in_its_absolute_form(given: str, absolute: str) -> None:
    assert namespace_name(given) == absolute


def test_a_namespace_ros_would_refuse_is_a_key_error() -> None:
    with pytest.raises(KeyExprError, match="namespace '/1robot': chunk '1robot' must not start with a digit"):
        namespace_name("/1robot")
