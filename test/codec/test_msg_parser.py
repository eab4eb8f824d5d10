"""The .msg parser: every feature our msg/ files and the standard sensor messages use."""

from __future__ import annotations

import pytest

from telemetry.codec import ArrayKind, CodecError, TypeRef, normalize_type_name, parse_msg

FEATURES = """\
# A leading comment line
uint8 MODE_IDLE=0            # a constant with a trailing comment
int32 LIMIT = -5
float64 GAIN=0.5
string GREETING="hello # not a comment"
bool ENABLED=true

Header header                 # legacy spelling of std_msgs/Header
builtin_interfaces/Time stamp
Point origin                  # same package, bare name
geometry_msgs/msg/Vector3 axis
float64[9] covariance
int16[] samples
uint8[<=4] small
string<=16 label
string<=8[<=3] tags
int32 count 7
float32[] weights [1.0, 2.5]
"""


def test_parser_reads_fields_in_wire_order_with_their_types() -> None:
    definition = parse_msg(FEATURES, "demo_msgs/Feature")

    assert definition.name == "demo_msgs/msg/Feature"
    assert [f.name for f in definition.fields] == [
        "header", "stamp", "origin", "axis", "covariance", "samples", "small", "label", "tags",
        "count", "weights",
    ]
    by_name = {f.name: f for f in definition.fields}
    assert by_name["header"].type == TypeRef("std_msgs/msg/Header")
    assert by_name["stamp"].type == TypeRef("builtin_interfaces/msg/Time")
    assert by_name["origin"].type == TypeRef("demo_msgs/msg/Point")
    assert by_name["axis"].type == TypeRef("geometry_msgs/msg/Vector3")
    assert (by_name["covariance"].array, by_name["covariance"].array_size) == (ArrayKind.FIXED, 9)
    assert (by_name["samples"].array, by_name["samples"].array_size) == (ArrayKind.UNBOUNDED, None)
    assert (by_name["small"].array, by_name["small"].array_size) == (ArrayKind.BOUNDED, 4)
    assert by_name["label"].type == TypeRef("string", 16)
    assert by_name["tags"].type == TypeRef("string", 8)
    assert by_name["tags"].array is ArrayKind.BOUNDED


def test_parser_reads_constants_and_defaults_as_typed_values() -> None:
    definition = parse_msg(FEATURES, "demo_msgs/Feature")

    constants = {c.name: c.value for c in definition.constants}
    assert constants == {
        "MODE_IDLE": 0, "LIMIT": -5, "GAIN": 0.5, "GREETING": "hello # not a comment", "ENABLED": True,
    }
    by_name = {f.name: f for f in definition.fields}
    assert by_name["count"].default == 7
    assert by_name["weights"].default == (1.0, 2.5)


def test_parser_lists_nested_dependencies_once_each() -> None:
    definition = parse_msg("Header a\nstd_msgs/Header b\nPoint c\n", "demo_msgs/Twice")

    assert definition.dependencies == ("std_msgs/msg/Header", "demo_msgs/msg/Point")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("flaot64 x", r"Bad\.msg:1: unknown type 'flaot64'"),
        ("float64", r"Bad\.msg:1: expected '<type> <name>'"),
        ("float64 X_y", r"field name 'X_y' must be lower_case"),
        ("float64 a__b", r"field name 'a__b' must be lower_case"),
        ("int32 x\nint32 x", r"Bad\.msg:2: 'x' is defined twice"),
        ("uint8 BIG=256", r"constant BIG: 256 is out of range for uint8 \[0, 255\]"),
        ("int8 lowercase=1", r"constant name 'lowercase' must be UPPER_CASE"),
        ("bool FLAG=maybe", r"constant FLAG: 'maybe' is not a bool"),
        ("float64 RATE=fast", r"constant RATE: 'fast' is not a number"),
        ("int32 N=", r"constant N has no value"),
        ("geometry_msgs/Point P=1", r"constant P must have a primitive type"),
        ("int32[0] x", r"array size in 'int32\[0\]' must be > 0"),
        ("int32[<=] x", r"bounded array 'int32\[<=\]' needs a size"),
        ("int32[3 x", r"malformed type 'int32\[3'"),
        ("wstring w", r"wstring is not supported"),
        ("string<=x s", r"malformed bounded string 'string<=x'"),
        ("Bad/Pkg/Type/X f", r"expected 'package/msg/Type'"),
        ("float64[2] x [1.0]", r"field x: default has 1 items, the array has 2"),
        ("geometry_msgs/Point p 3", r"field p: only primitive fields can have defaults"),
        ("int8 x 300", r"field x: 300 is out of range for int8"),
    ],
)
def test_parser_raises_on_bad_definition_naming_file_line_and_problem(text: str, message: str) -> None:
    with pytest.raises(CodecError, match=message):
        parse_msg(text, "demo_msgs/Bad", source="Bad.msg")


@pytest.mark.parametrize(
    ("given", "canonical"),
    [("sensor_msgs/Imu", "sensor_msgs/msg/Imu"), ("sensor_msgs/msg/Imu", "sensor_msgs/msg/Imu"),
     (" nav_msgs/Odometry ", "nav_msgs/msg/Odometry")],
)
def test_type_names_are_normalized_to_package_msg_type(given: str, canonical: str) -> None:
    assert normalize_type_name(given) == canonical


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("Imu", r"ROS type 'Imu': expected 'package/msg/Type' or 'package/Type'"),
        ("a/b/c/d", r"ROS type 'a/b/c/d': expected"),
        ("sensor_msgs/srv/Imu", r"ROS type 'sensor_msgs/srv/Imu': expected"),
        ("Sensor/Imu", r"package 'Sensor' is not a valid package name"),
        ("sensor_msgs/imu", r"'imu' is not a valid message name"),
    ],
)
def test_bad_type_names_are_refused_with_the_name(given: str, message: str) -> None:
    with pytest.raises(CodecError, match=message):
        normalize_type_name(given)
