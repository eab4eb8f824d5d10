"""Zenoh's `_time` selector parameter, parsed: the recorder's history queries are time ranges.

Zenoh defines the syntax (its "Time DSL", `commons/zenoh-util/src/time_range.rs`) but there is
no parser for it in the Python API, so this module re-implements it, to the same rules:

    [start..end]        either bound may be empty (unbounded that way): [..], [now(-5m)..]
    [start;duration]    the same as [start..start+duration]; the start is required
    [ or ] on each side: the bracket pointing inward is inclusive, outward exclusive, so
    ]a..b[ excludes both ends and [a..b[ is the half-open range for paging without repeats

A bound is `now(<offset>)`, resolved against the caller's clock (`now()`, `now(-5m)`,
`now(1.5s)`), or a UTC instant read as zenoh's `humantime::parse_rfc3339_weak` reads it:
`2026-12-03T12:00:00Z`, with any number of fractional digits (beyond nanoseconds they are
cut), `T` or a space in the middle, `Z` optional, years 1970 to 9999, and no UTC offsets
(`+02:00` is refused, as zenoh refuses it, with the UTC time to write instead). A duration is
a number with one unit of u (microseconds), ms, s, m, h, d, w; no unit means seconds. Zenoh
reads the number as a Rust f64, so a sign and an exponent are allowed (`now(-1e3ms)`); `inf`
and `nan`, which Rust's parser also takes, are refused here.

Zenoh splits selector parameters at every `;` and does not percent-decode them, so the
`[start;duration]` form cannot arrive through a selector: `_time=[now(-1h);1h]` reaches a
queryable as `_time=[now(-1h)`. Clients must send the `..` form; the error for the cut value
says so. `range_selector_value` always writes that form.

Everything here is pure: `now(...)` is resolved against the `now_ns` passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from telemetry.errors import TelemetryError

__all__ = [
    "TIME_PARAMETER",
    "TimeRange",
    "TimeRangeError",
    "format_instant",
    "parse_duration_s",
    "parse_time_range",
    "range_selector_value",
    "time_parameter",
]

#: The selector parameter zenoh reserves for time ranges.
TIME_PARAMETER = "_time"

_NS_PER_UNIT = {
    "u": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
    "w": 604_800_000_000_000,
}
_UNITS = "units: u, ms, s, m, h, d, w"
# Durations beyond what an int64 of nanoseconds holds (about 292 years) are refused, so a
# typo such as 1e99w fails here instead of giving a bound nothing can be compared against.
_MAX_DURATION_NS = 2**63 - 1

# Rust's f64 grammar, minus inf and nan: sign, digits with an optional point, exponent.
_DURATION_RE = re.compile(r"([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)(.*)", re.DOTALL)
# humantime's weak RFC3339: fixed positions, `T` or space, optional fraction, optional `Z`.
_DATE_TIME = r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?"
_INSTANT_RE = re.compile(_DATE_TIME + "Z?")
_OFFSET_RE = re.compile(_DATE_TIME + r"([+-][0-9]{2}:?[0-9]{2})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NS_PER_S = 1_000_000_000
_LAST_NS = 253_402_300_800 * _NS_PER_S - 1  # 9999-12-31T23:59:59.999999999Z


class TimeRangeError(TelemetryError):
    """A `_time` value, or a duration, that zenoh's Time DSL does not accept."""


class _Invalid(ValueError):
    """What is wrong inside the text; the public functions add the text it came from."""


@dataclass(frozen=True)
class TimeRange:
    """A resolved range in nanoseconds since the Unix epoch; None is unbounded on that side.

    An unbounded side is stored as inclusive whatever bracket was written, so `[..]` and
    `]..[` compare equal (zenoh keeps no bracket for an unbounded side either).
    """

    start_ns: int | None
    end_ns: int | None
    start_inclusive: bool
    end_inclusive: bool

    def contains(self, t_ns: int) -> bool:
        """True when `t_ns` lies in the range, each end compared as its bracket says."""
        after_start = self.start_ns is None or t_ns > self.start_ns or (t_ns == self.start_ns and self.start_inclusive)
        before_end = self.end_ns is None or t_ns < self.end_ns or (t_ns == self.end_ns and self.end_inclusive)
        return after_start and before_end

    def bounds_ns(self) -> tuple[int | None, int | None]:
        """The range as inclusive integer bounds [lo, hi], which an index lookup wants.

        An exclusive start moves up one nanosecond and an exclusive end down one; the result
        may have lo > hi, meaning no instant is inside.
        """
        lo = self.start_ns if self.start_ns is None or self.start_inclusive else self.start_ns + 1
        hi = self.end_ns if self.end_ns is None or self.end_inclusive else self.end_ns - 1
        return lo, hi


def parse_time_range(text: str, now_ns: int) -> TimeRange:
    """Parse a `_time` value such as `[now(-5m)..]`, resolving `now(...)` against `now_ns`.

    A range whose start is after its end is accepted and empty, as in zenoh.
    """
    try:
        return _parse_range(text, now_ns)
    except _Invalid as e:
        raise TimeRangeError(f"{TIME_PARAMETER}={text}: {e}") from None


def time_parameter(parameters: str) -> str | None:
    """The `_time` value in a selector's parameters (`a=1;_time=[..]`), or None when absent.

    Splits exactly as zenoh does (`Parameters::get`): trailing `;`, `=` and `|` dropped, then
    `;` between parameters, the first `=` between key and value, keys compared as written, the
    first `_time` wins, no percent-decoding, and a bare `_time` gives "". So the `;` inside a
    `[start;duration]` value cuts it, here as in zenoh: `_time=[now();1h]` gives `[now()`,
    which `parse_time_range` then refuses, saying to send `[start..end]`.
    """
    for item in parameters.rstrip(";=|").split(";"):
        key, _, value = item.partition("=")
        if key == TIME_PARAMETER:
            return value
    return None


def format_instant(t_ns: int) -> str:
    """`t_ns` as an RFC3339 UTC instant zenoh parses back: `2026-12-03T12:00:00.250Z`.

    Fractional seconds are written in groups of three digits, only as many as needed (none,
    milliseconds, microseconds or nanoseconds). Zenoh's instants run from 1970 to year 9999,
    so anything outside is refused rather than written as a value zenoh would reject.
    """
    if not 0 <= t_ns <= _LAST_NS:
        raise TimeRangeError(f"instant {t_ns} ns is outside 1970-01-01 to 9999-12-31, which zenoh can express")
    seconds, nanos = divmod(t_ns, _NS_PER_S)
    text = (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        fraction = f"{nanos:09d}"
        while fraction.endswith("000"):
            fraction = fraction[:-3]
        text += "." + fraction
    return text + "Z"


def range_selector_value(start_ns: int | None, end_ns: int | None) -> str:
    """A `_time` value selecting [start_ns, end_ns], both ends inclusive; None leaves a side open.

    Always the `..` form, which survives zenoh's splitting of parameters at `;`.
    """
    start = "" if start_ns is None else format_instant(start_ns)
    end = "" if end_ns is None else format_instant(end_ns)
    return f"[{start}..{end}]"


def parse_duration_s(text: str) -> float:
    """Seconds in a duration written as in `_time`, for the command line: `5m`, `30s`, `1.5h`.

    The grammar is zenoh's, so a sign is allowed: callers that need a positive duration check.
    """
    try:
        if not text:
            raise _Invalid(f"empty duration (write a number and a unit, such as 5m; {_UNITS})")
        return _duration_ns(text, f"duration {text!r}") / _NS_PER_S
    except _Invalid as e:
        raise TimeRangeError(str(e)) from None


# -- the grammar -------------------------------------------------------------------------


def _parse_range(text: str, now_ns: int) -> TimeRange:
    if len(text) < 4:
        raise _Invalid("too short for a time range (the shortest is '[..]')")
    first, inner, last = text[0], text[1:-1], text[-1]
    if first not in "[]":
        raise _Invalid(f"must start with '[' (inclusive) or ']' (exclusive), not {first!r}")
    if last not in "[]":
        message = f"must end with ']' (inclusive) or '[' (exclusive), not {last!r}"
        if ".." not in text:  # most likely a '[start;duration]' cut at its ';' on the way
            message += "; zenoh splits selector parameters at every ';', so send '[start..end]', not '[start;duration]'"
        raise _Invalid(message)
    start_inclusive, end_inclusive = first == "[", last == "]"
    start_text, dots, end_text = inner.partition("..")
    if dots:
        start_ns = _bound_ns(start_text, now_ns)
        end_ns = _bound_ns(end_text, now_ns)
    else:
        start_text, semicolon, duration_text = inner.partition(";")
        if not semicolon:
            raise _Invalid("no '..' or ';' between the bounds")
        if not start_text:
            raise _Invalid("a '[start;duration]' range needs a start")
        if not duration_text:
            raise _Invalid("a '[start;duration]' range needs a duration")
        start_ns = _time_ns(start_text, now_ns)
        end_ns = start_ns + _duration_ns(duration_text, f"duration {duration_text!r}")
    return TimeRange(
        start_ns=start_ns,
        end_ns=end_ns,
        start_inclusive=start_inclusive or start_ns is None,
        end_inclusive=end_inclusive or end_ns is None,
    )


def _bound_ns(text: str, now_ns: int) -> int | None:
    """One bound of a `..` range: empty is unbounded."""
    return None if not text else _time_ns(text, now_ns)


def _time_ns(text: str, now_ns: int) -> int:
    """A time: `now(<offset>)` or a UTC instant."""
    if text.startswith("now(") and text.endswith(")"):
        offset = text[4:-1]
        if not offset:
            return now_ns
        # As zenoh: one leading '-' negates, and the rest is a duration (which may be signed).
        if offset.startswith("-"):
            return now_ns - _duration_ns(offset[1:], repr(text))
        return now_ns + _duration_ns(offset, repr(text))
    if text.startswith("now("):
        raise _Invalid(f"{text!r} is missing its closing ')'")
    return _instant_ns(text)


def _duration_ns(text: str, where: str) -> int:
    """A duration in whole nanoseconds (rounded to nearest, as Rust's Duration::from_secs_f64)."""
    if not text:
        raise _Invalid(f"empty duration in {where} (write a number and a unit, such as 5m; {_UNITS})")
    match = _DURATION_RE.fullmatch(text)
    if match is None:
        raise _Invalid(f"no number in {where} (write a number and a unit, such as 5m; {_UNITS})")
    number, unit = match.groups()
    if unit not in _NS_PER_UNIT:
        raise _Invalid(f"unknown unit {unit!r} in {where} ({_UNITS})")
    value = Decimal(number)
    if value and value.adjusted() > 20:  # past any sane duration: spare Decimal a huge product
        raise _Invalid(f"duration out of range in {where} (at most about 292 years)")
    ns = int((value * _NS_PER_UNIT[unit]).to_integral_value(rounding=ROUND_HALF_EVEN))
    if abs(ns) > _MAX_DURATION_NS:
        raise _Invalid(f"duration out of range in {where} (at most about 292 years)")
    return ns


def _instant_ns(text: str) -> int:
    """A UTC instant, accepted exactly where zenoh's humantime::parse_rfc3339_weak accepts it."""
    match = _INSTANT_RE.fullmatch(text)
    if match is None:
        offset = _OFFSET_RE.fullmatch(text)
        if offset is not None:
            raise _Invalid(_offset_message(text, offset))
        raise _Invalid(
            f"{text!r} is not a time: write now(<offset>) or a UTC RFC3339 instant such as 2026-12-03T12:00:00Z"
        )
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    if year < 1970:
        raise _Invalid(f"{text!r} is before 1970, which zenoh's instants cannot express")
    if hour > 23 or minute > 59 or second > 60:
        raise _Invalid(f"time of day out of range in {text!r}")
    try:
        # A leap second (:60) counts as :59, as in humantime.
        moment = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except ValueError:
        raise _Invalid(f"date out of range in {text!r}") from None
    fraction = (match.group(7) or "")[:9].ljust(9, "0")  # digits past nanoseconds are cut
    seconds = (moment - _EPOCH) // timedelta(seconds=1)
    return seconds * _NS_PER_S + int(fraction)


def _offset_message(text: str, match: re.Match[str]) -> str:
    """The refusal of a UTC offset, naming the UTC instant to write instead when there is one."""
    offset = match.group(8)
    message = f"UTC offset {offset!r} in {text!r}: zenoh takes UTC instants only"
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    sign = 1 if offset[0] == "+" else -1
    digits = offset[1:].replace(":", "")
    try:
        local = datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError:
        return message
    utc = local - sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    fraction = "" if match.group(7) is None else "." + match.group(7)
    return f"{message}, write {utc:%Y-%m-%dT%H:%M:%S}{fraction}Z"
