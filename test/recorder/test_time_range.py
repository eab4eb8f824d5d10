"""Zenoh's `_time` Time DSL: every form parsed as zenoh's time_range.rs reads it, and every bad
value refused with a message naming what is wrong."""

from __future__ import annotations

import re

import pytest
import zenoh

from telemetry.errors import TelemetryError
from telemetry.recorder.time_range import (
    TimeRange,
    TimeRangeError,
    format_instant,
    parse_duration_s,
    parse_time_range,
    range_selector_value,
    time_parameter,
)

S = 1_000_000_000
MIN = 60 * S
HOUR = 60 * MIN
#: 2026-12-03T12:00:00Z, the clock every now(...) here resolves against.
NOW = 1_796_299_200 * S
NOON = "2026-12-03T12:00:00Z"
UNITS = "(units: u, ms, s, m, h, d, w)"
NOT_A_TIME = "is not a time: write now(<offset>) or a UTC RFC3339 instant such as 2026-12-03T12:00:00Z"
CUT = "; zenoh splits selector parameters at every ';', so send '[start..end]', not '[start;duration]'"


def exactly(message: str) -> str:
    """A `match=` pattern for exactly this message."""
    return f"^{re.escape(message)}$"


def closed(start_ns: int | None, end_ns: int | None) -> TimeRange:
    return TimeRange(start_ns, end_ns, start_inclusive=True, end_inclusive=True)


# -- the two forms and the brackets ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[..]", closed(None, None)),
        ("[now(-5m)..]", closed(NOW - 5 * MIN, None)),
        ("[..now()]", closed(None, NOW)),
        ("[now(-1h)..now(1h)]", closed(NOW - HOUR, NOW + HOUR)),
        (f"[{NOON}..now()]", closed(NOW, NOW)),
        ("[now(-1h);30m]", closed(NOW - HOUR, NOW - 30 * MIN)),
        (f"[{NOON};1.5h]", closed(NOW, NOW + 90 * MIN)),
        (f"]{NOON};1h[", TimeRange(NOW, NOW + HOUR, start_inclusive=False, end_inclusive=False)),
    ],
)
def test_range_and_duration_forms(text: str, expected: TimeRange) -> None:
    assert parse_time_range(text, NOW) == expected


@pytest.mark.parametrize(
    ("text", "start_inclusive", "end_inclusive"),
    [
        ("[now(-1m)..now()]", True, True),
        ("]now(-1m)..now()]", False, True),
        ("[now(-1m)..now()[", True, False),
        ("]now(-1m)..now()[", False, False),
    ],
)
def test_brackets_inward_inclusive_outward_exclusive(text: str, start_inclusive: bool, end_inclusive: bool) -> None:
    assert parse_time_range(text, NOW) == TimeRange(NOW - MIN, NOW, start_inclusive, end_inclusive)


@pytest.mark.parametrize("text", ["[..]", "]..]", "[..[", "]..["])
def test_an_unbounded_side_is_the_same_whatever_its_bracket(text: str) -> None:
    assert parse_time_range(text, NOW) == closed(None, None)


def test_start_after_end_is_accepted_and_empty_as_in_zenoh() -> None:
    backwards = parse_time_range("[now()..now(-1h)]", NOW)
    assert backwards == closed(NOW, NOW - HOUR)
    assert not any(backwards.contains(t) for t in (NOW - HOUR, NOW - MIN, NOW))
    lo, hi = backwards.bounds_ns()
    assert lo is not None and hi is not None and lo > hi


# -- instants --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "ns"),
    [
        ("2026-12-03T12:00:00Z", NOW),
        ("2026-12-03T12:00:00", NOW),  # Z is optional (humantime's weak form)
        ("2026-12-03 12:00:00Z", NOW),  # so is the T
        ("2026-12-03T12:00:00.5Z", NOW + S // 2),
        ("2026-12-03T12:00:00.250Z", NOW + 250_000_000),
        ("2026-12-03T12:00:00.000000001Z", NOW + 1),
        ("2026-12-03T12:00:00.123456789999Z", NOW + 123_456_789),  # past nanoseconds: cut, not rounded
        ("2026-12-03T12:00:00.Z", NOW),
        ("2016-12-31T23:59:60Z", 1_483_228_799 * S),  # a leap second reads as :59
        ("1970-01-01T00:00:00Z", 0),
        ("9999-12-31T23:59:59.999999999Z", 253_402_300_800 * S - 1),
    ],
)
def test_utc_instants(instant: str, ns: int) -> None:
    assert parse_time_range(f"[{instant}..{instant}]", NOW) == closed(ns, ns)


@pytest.mark.parametrize(
    ("instant", "utc"),
    [
        ("2026-12-03T12:00:00+02:00", "2026-12-03T10:00:00Z"),
        ("2026-12-03T12:00:00.250+02:00", "2026-12-03T10:00:00.250Z"),
        ("2026-12-03T01:30:00-05:30", "2026-12-03T07:00:00Z"),
        ("2026-12-03T00:00:00+0100", "2026-12-02T23:00:00Z"),
    ],
)
def test_utc_offsets_are_refused_as_zenoh_refuses_them_naming_the_utc_instant(instant: str, utc: str) -> None:
    offset = re.search(r"[+-][0-9:]+$", instant)
    assert offset is not None
    message = f"_time=[{instant}..]: UTC offset {offset.group()!r} in {instant!r}: zenoh takes UTC instants only"
    message += f", write {utc}"
    with pytest.raises(TimeRangeError, match=exactly(message)):
        parse_time_range(f"[{instant}..]", NOW)


# -- now(<offset>) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bound", "offset_ns"),
    [
        ("now()", 0),
        ("now(0)", 0),
        ("now(5)", 5 * S),  # no unit: seconds
        ("now(-5)", -5 * S),
        ("now(2u)", 2_000),
        ("now(-2u)", -2_000),
        ("now(250ms)", 250_000_000),
        ("now(-1.5ms)", -1_500_000),
        ("now(1.5s)", 3 * S // 2),
        ("now(-30s)", -30 * S),
        ("now(1.1m)", 66 * S),
        ("now(-5m)", -5 * MIN),
        ("now(1h)", HOUR),
        ("now(-1.5h)", -90 * MIN),
        ("now(1d)", 24 * HOUR),
        ("now(-7d)", -7 * 24 * HOUR),
        ("now(2w)", 14 * 24 * HOUR),
        ("now(-1w)", -7 * 24 * HOUR),
        # Zenoh reads the number as a Rust f64: a sign of its own, an exponent, a bare point.
        ("now(+3s)", 3 * S),
        ("now(--5m)", 5 * MIN),
        ("now(1e3ms)", S),
        ("now(.5s)", S // 2),
        ("now(1.s)", S),
    ],
)
def test_now_with_every_unit_and_sign(bound: str, offset_ns: int) -> None:
    assert parse_time_range(f"[{bound}..]", NOW) == closed(NOW + offset_ns, None)


# -- contains and bounds_ns ------------------------------------------------------------------


START, END = NOW - 10 * S, NOW
#: One nanosecond either side of each end of [now(-10s)..now()], and the ends themselves.
PROBES = {
    "start-1": START - 1,
    "start": START,
    "start+1": START + 1,
    "end-1": END - 1,
    "end": END,
    "end+1": END + 1,
}


@pytest.mark.parametrize(
    ("text", "inside"),
    [
        ("[now(-10s)..now()]", {"start", "start+1", "end-1", "end"}),
        ("]now(-10s)..now()]", {"start+1", "end-1", "end"}),
        ("[now(-10s)..now()[", {"start", "start+1", "end-1"}),
        ("]now(-10s)..now()[", {"start+1", "end-1"}),
        ("[now(-10s)..]", {"start", "start+1", "end-1", "end", "end+1"}),
        ("]..now()[", {"start-1", "start", "start+1", "end-1"}),
        ("[..]", set(PROBES)),
        ("[now(-10s);10s[", {"start", "start+1", "end-1"}),
    ],
)
def test_contains_at_the_edges(text: str, inside: set[str]) -> None:
    time_range = parse_time_range(text, NOW)
    assert {name for name, t in PROBES.items() if time_range.contains(t)} == inside


@pytest.mark.parametrize(
    ("text", "bounds"),
    [
        ("[now(-10s)..now()]", (START, NOW)),
        ("]now(-10s)..now()]", (START + 1, NOW)),
        ("[now(-10s)..now()[", (START, NOW - 1)),
        ("]now(-10s)..now()[", (START + 1, NOW - 1)),
        ("]now(-10s)..]", (START + 1, None)),
        ("[..now()[", (None, NOW - 1)),
        ("]..[", (None, None)),
    ],
)
def test_bounds_ns_are_inclusive_integers(text: str, bounds: tuple[int | None, int | None]) -> None:
    time_range = parse_time_range(text, NOW)
    assert time_range.bounds_ns() == bounds
    lo, hi = bounds
    for t in PROBES.values():
        assert time_range.contains(t) is ((lo is None or t >= lo) and (hi is None or t <= hi))


# -- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[now(-5x)..]", f"unknown unit 'x' in 'now(-5x)' {UNITS}"),
        ("[now(4mm)..]", f"unknown unit 'mm' in 'now(4mm)' {UNITS}"),
        ("[now(1h4m)..]", f"unknown unit 'h4m' in 'now(1h4m)' {UNITS}"),
        ("[now(5 s)..]", f"unknown unit ' s' in 'now(5 s)' {UNITS}"),
        ("[now(1µs)..]", f"unknown unit 'µs' in 'now(1µs)' {UNITS}"),
        ("[now();1x]", f"unknown unit 'x' in duration '1x' {UNITS}"),
        ("[now(abcd)..]", f"no number in 'now(abcd)' (write a number and a unit, such as 5m; {UNITS[1:]}"),
        ("[now(inf)..]", f"no number in 'now(inf)' (write a number and a unit, such as 5m; {UNITS[1:]}"),
        ("[now(ms)..]", f"no number in 'now(ms)' (write a number and a unit, such as 5m; {UNITS[1:]}"),
        ("[now(-)..]", f"empty duration in 'now(-)' (write a number and a unit, such as 5m; {UNITS[1:]}"),
        ("[now();]", "a '[start;duration]' range needs a duration"),
        ("[now(1e99w)..]", "duration out of range in 'now(1e99w)' (at most about 292 years)"),
        ("[now(-5m..]", "'now(-5m' is missing its closing ')'"),
        ("now(-5m)..]", "must start with '[' (inclusive) or ']' (exclusive), not 'n'"),
        ("(now(-5m)..]", "must start with '[' (inclusive) or ']' (exclusive), not '('"),
        ("[now(-5m)..", "must end with ']' (inclusive) or '[' (exclusive), not '.'"),
        ("[now(-5m)..now())", "must end with ']' (inclusive) or '[' (exclusive), not ')'"),
        ("[now(-1h)", f"must end with ']' (inclusive) or '[' (exclusive), not ')'{CUT}"),
        ("[..", "too short for a time range (the shortest is '[..]')"),
        ("", "too short for a time range (the shortest is '[..]')"),
        ("[now()]", "no '..' or ';' between the bounds"),
        ("[;1h]", "a '[start;duration]' range needs a start"),
        ("[yesterday..]", f"'yesterday' {NOT_A_TIME}"),
        ("[2026-12-03..]", f"'2026-12-03' {NOT_A_TIME}"),
        ("[2026-12-03t12:00:00z..]", f"'2026-12-03t12:00:00z' {NOT_A_TIME}"),
        ("[ now()..]", f"' now()' {NOT_A_TIME}"),
        ("[1969-12-31T23:59:59Z..]", "'1969-12-31T23:59:59Z' is before 1970, which zenoh's instants cannot express"),
        ("[2026-02-30T00:00:00Z..]", "date out of range in '2026-02-30T00:00:00Z'"),
        ("[2026-13-01T00:00:00Z..]", "date out of range in '2026-13-01T00:00:00Z'"),
        ("[2026-12-03T24:00:00Z..]", "time of day out of range in '2026-12-03T24:00:00Z'"),
        ("[2026-12-03T12:00:61Z..]", "time of day out of range in '2026-12-03T12:00:61Z'"),
    ],
)
def test_refusals_name_what_is_wrong_and_the_text(text: str, message: str) -> None:
    with pytest.raises(TimeRangeError, match=exactly(f"_time={text}: {message}")):
        parse_time_range(text, NOW)


def test_time_range_error_is_a_telemetry_error() -> None:
    assert issubclass(TimeRangeError, TelemetryError)


# -- the parameter in a selector -------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameters", "value"),
    [
        ("_time=[now(-5m)..]", "[now(-5m)..]"),
        ("a=1;_time=[..]", "[..]"),
        ("a=1|2;_time=[now(-1h)..];b;c=x=y", "[now(-1h)..]"),
        (";;_time=[..];;", "[..]"),
        ("_time=[..]|", "[..]"),  # zenoh drops trailing ';', '=' and '|'
        ("_time==[..]", "=[..]"),  # the first '=' splits
        ("_time", ""),
        ("_time=[..];_time=[now()..]", "[..]"),  # the first one wins
        ("a=1;_time=[now(-1h);1h]", "[now(-1h)"),  # the ';' form is cut, by zenoh too
        ("_time=[now()%3B1h]", "[now()%3B1h]"),  # and percent-encoding does not save it
        ("", None),
        ("a=1;b=2", None),
        ("_timetrick=[..]", None),
        ("_TIME=[..]", None),
        (" _time=[..]", None),
    ],
)
def test_time_parameter_splits_as_zenoh_does(parameters: str, value: str | None) -> None:
    assert time_parameter(parameters) == value
    assert zenoh.Parameters(parameters).get("_time") == value  # zenoh's own parser, no session


def test_a_duration_range_cut_by_the_selector_says_to_send_the_dot_form() -> None:
    value = time_parameter("a=1;_time=[now(-1h);1h]")
    assert value == "[now(-1h)"
    message = f"_time=[now(-1h): must end with ']' (inclusive) or '[' (exclusive), not ')'{CUT}"
    with pytest.raises(TimeRangeError, match=exactly(message)):
        parse_time_range(value, NOW)


# -- writing a range for a client ------------------------------------------------------------


@pytest.mark.parametrize(
    ("t_ns", "text"),
    [
        (NOW, NOON),
        (NOW + 250_000_000, "2026-12-03T12:00:00.250Z"),
        (NOW + 120_000, "2026-12-03T12:00:00.000120Z"),
        (NOW + 123_456_789, "2026-12-03T12:00:00.123456789Z"),
        (NOW + 1, "2026-12-03T12:00:00.000000001Z"),
        (0, "1970-01-01T00:00:00Z"),
        (253_402_300_800 * S - 1, "9999-12-31T23:59:59.999999999Z"),
    ],
)
def test_format_instant_trims_the_fraction_to_groups_of_three(t_ns: int, text: str) -> None:
    assert format_instant(t_ns) == text


@pytest.mark.parametrize("t_ns", [-1, 253_402_300_800 * S])
def test_format_instant_refuses_what_zenoh_cannot_parse(t_ns: int) -> None:
    message = f"instant {t_ns} ns is outside 1970-01-01 to 9999-12-31, which zenoh can express"
    with pytest.raises(TimeRangeError, match=exactly(message)):
        format_instant(t_ns)


@pytest.mark.parametrize(
    ("start_ns", "end_ns"),
    [
        (NOW - HOUR, NOW),
        (NOW + 1, NOW + 999_999_999),
        (NOW + 120_000, None),
        (None, NOW + 250_000_000),
        (None, None),
        (0, 253_402_300_800 * S - 1),
    ],
)
def test_range_selector_value_round_trips(start_ns: int | None, end_ns: int | None) -> None:
    text = range_selector_value(start_ns, end_ns)
    assert ";" not in text  # so it survives the selector
    assert parse_time_range(text, NOW) == closed(start_ns, end_ns)
    assert parse_time_range(time_parameter(f"a=1;_time={text};b=2") or "", NOW) == closed(start_ns, end_ns)


def test_range_selector_value_text() -> None:
    assert range_selector_value(NOW - HOUR, NOW + 1) == "[2026-12-03T11:00:00Z..2026-12-03T12:00:00.000000001Z]"
    assert range_selector_value(None, None) == "[..]"


# -- durations for the command line ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5m", 300.0),
        ("30s", 30.0),
        ("1.5h", 5400.0),
        ("100ms", 0.1),
        ("2u", 0.000002),
        ("1d", 86400.0),
        ("1w", 604800.0),
        ("1.2", 1.2),
        ("0", 0.0),
        ("-5m", -300.0),
    ],
)
def test_parse_duration_s(text: str, seconds: float) -> None:
    assert parse_duration_s(text) == pytest.approx(seconds, rel=1e-15)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5x", f"unknown unit 'x' in duration '5x' {UNITS}"),
        ("1h30m", f"unknown unit 'h30m' in duration '1h30m' {UNITS}"),
        ("", f"empty duration (write a number and a unit, such as 5m; {UNITS[1:]}"),
        ("m", f"no number in duration 'm' (write a number and a unit, such as 5m; {UNITS[1:]}"),
        ("nan", f"no number in duration 'nan' (write a number and a unit, such as 5m; {UNITS[1:]}"),
    ],
)
def test_parse_duration_s_refusals(text: str, message: str) -> None:
    with pytest.raises(TimeRangeError, match=exactly(message)):
        parse_duration_s(text)
