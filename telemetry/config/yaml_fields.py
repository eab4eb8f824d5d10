"""Strict YAML loading and typed field readers for every config file the package reads.

Each reader takes a `Context` (the file name), the path of the value inside the file
(`vehicles[2].streams[0].rate_hz`) and the raw value, and returns the value checked and typed,
or raises a `ConfigError` that names the file, the path and what is wrong. Readers stop at the
first mistake, so the same file always gives the same message.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import yaml

from telemetry.errors import ConfigError, KeyExprError

__all__ = [
    "Context",
    "boolean",
    "check_unique",
    "describe",
    "fields",
    "join_path",
    "key_part",
    "load_yaml",
    "non_empty_list",
    "non_empty_string",
    "number",
    "optional",
    "positive",
]

_T = TypeVar("_T")


# --- YAML ----------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping.

    Plain PyYAML keeps the last value silently, so a pasted second `rate_hz:` would win
    unnoticed; here it is a parse error with its line. Keys merged in with `<<: *anchor`
    may still be overridden: that is what merging is for.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, source: str) -> object:
    """Parse YAML `text` safely, refusing duplicate keys; errors name `source` and the line."""
    try:
        # Safe: _StrictLoader is a SafeLoader, so no tag can build arbitrary Python objects.
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        column = f" (column {mark.column + 1})" if mark is not None else ""
        problem = error.problem or error.context or "malformed YAML"
        raise ConfigError(f"{source}: {where}could not parse YAML: {problem}{column}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: could not parse YAML: {error}") from None


# --- checking helpers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What every check needs: the file name for messages (subclasses add what they vet against)."""

    source: str

    def error(self, path: str, problem: str) -> ConfigError:
        """`<source>: <path>: <problem>`, with an empty path shown as `top level`."""
        return ConfigError(f"{self.source}: {path or 'top level'}: {problem}")


_C = TypeVar("_C", bound=Context)


def join_path(path: str, field: str) -> str:
    """The path of `field` inside the mapping at `path` (`cloud` + `router` is `cloud.router`)."""
    return f"{path}.{field}" if path else field


def describe(value: object) -> str:
    """A value as the YAML author wrote it, for `got ...` in messages."""
    if value is None:
        return "null (empty value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


def fields(
    context: Context, path: str, value: object, required: tuple[str, ...], optional: tuple[str, ...]
) -> dict[str, object]:
    """A mapping with no unknown field and every required one: typos fail instead of defaulting."""
    if not isinstance(value, dict):
        raise context.error(path, f"must be a mapping, got {describe(value)}")
    allowed = (*required, *optional)
    for key in value:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            did_you_mean = f"; did you mean {hint[0]!r}?" if hint else ""
            expected = ", ".join(allowed)
            raise context.error(
                join_path(path, str(key)), f"unknown field (expected one of: {expected}){did_you_mean}"
            )
    for key in required:
        if key not in value:
            raise context.error(join_path(path, key), "missing")
    return {str(key): item for key, item in value.items()}


def optional(
    context: _C,
    raw: dict[str, object],
    path: str,
    key: str,
    check: Callable[[_C, str, object], _T],
) -> _T | None:
    """`check` the field when given; absent or null (`key:` left empty) means "use the default"."""
    value = raw.get(key)
    return None if value is None else check(context, join_path(path, key), value)


def non_empty_list(context: Context, path: str, value: object, item: str) -> list[object]:
    """A non-empty list: an empty section is a mistake, never a fleet with nothing in it."""
    if not isinstance(value, list):
        raise context.error(path, f"must be a list of {item}s, got {describe(value)}")
    if not value:
        raise context.error(path, f"must list at least one {item}")
    return value


def non_empty_string(context: Context, path: str, value: object) -> str:
    """A string with at least one character; an empty value is never a name."""
    if not isinstance(value, str) or not value:
        raise context.error(path, f"must be a non-empty string, got {describe(value)}")
    return value


def number(context: Context, path: str, value: object) -> float:
    """A finite int or float; YAML's `true` is an int to Python but never a rate."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = ""
        if isinstance(value, str) and _looks_numeric(value):
            hint = " (YAML reads this as text: unquote it, or write 1000 or 1.0e+3)"
        raise context.error(path, f"must be a number, got {describe(value)}{hint}")
    if not math.isfinite(value):
        raise context.error(path, f"must be a finite number, got {value}")
    return float(value)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def positive(context: Context, path: str, value: object) -> float:
    """A finite number > 0, as a float."""
    result = number(context, path, value)
    if result <= 0:
        raise context.error(path, f"must be > 0, got {describe(value)}")
    return result


def boolean(context: Context, path: str, value: object) -> bool:
    """YAML `true` or `false`; never a number or a string that looks like one."""
    if not isinstance(value, bool):
        raise context.error(path, f"must be true or false, got {describe(value)}")
    return value


def key_part(context: Context, path: str, value: object, check: Callable[[str], str]) -> str:
    """A string that becomes part of a Zenoh key, vetted (and normalized) by a keys.py `check`."""
    text = non_empty_string(context, path, value)
    try:
        return check(text)
    except KeyExprError as error:
        raise context.error(path, str(error)) from None


def check_unique(context: Context, path: str, what: str, value: object, seen: dict[object, str]) -> None:
    """Record `value` at `path`; a ConfigError naming the first place if it was seen before."""
    if value in seen:
        raise context.error(path, f"duplicate {what} {describe(value)} (also at {seen[value]})")
    seen[value] = path
