"""Parse ROS 2 `.msg` text into plain, immutable field specs.

This layer knows the .msg syntax and nothing of CDR or pycdr2: the type store turns the
specs into serializable classes. Keeping the two apart lets tests check the parser on
strings and lets the store resolve nested types lazily.

Supported: the primitive types, `string` and `string<=N`, fixed (`T[N]`), bounded
(`T[<=N]`) and unbounded (`T[]`) arrays, nested types (`pkg/Type`, `pkg/msg/Type`, a bare
`Type` from the same package, and `Header` for std_msgs/Header), constants (`int32 X=1`),
default values (`int32 x 5`) and comments. `wstring` is refused: nothing here needs it
and its CDR width differs between middlewares.
"""

from __future__ import annotations

import ast
import enum
import re
from dataclasses import dataclass

from telemetry.codec.names import HEADER
from telemetry.errors import CodecError

__all__ = [
    "PRIMITIVE_TYPES",
    "ArrayKind",
    "ConstantSpec",
    "FieldSpec",
    "MsgDefinition",
    "TypeRef",
    "normalize_type_name",
    "parse_msg",
]

#: ROS 2 primitive names, mapped to the Python type their values have.
PRIMITIVE_TYPES: dict[str, type] = {
    "bool": bool,
    "byte": int,
    "char": int,
    "int8": int,
    "uint8": int,
    "int16": int,
    "uint16": int,
    "int32": int,
    "uint32": int,
    "int64": int,
    "uint64": int,
    "float32": float,
    "float64": float,
    "string": str,
}

_INT_RANGES: dict[str, tuple[int, int]] = {
    "byte": (0, 2**8 - 1),
    "char": (0, 2**8 - 1),
    "uint8": (0, 2**8 - 1),
    "int8": (-(2**7), 2**7 - 1),
    "uint16": (0, 2**16 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "uint32": (0, 2**32 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint64": (0, 2**64 - 1),
    "int64": (-(2**63), 2**63 - 1),
}

_PACKAGE_RE = re.compile(r"[a-z][a-z0-9_]*")
_TYPE_RE = re.compile(r"[A-Z][A-Za-z0-9]*")
_FIELD_RE = re.compile(r"[a-z][a-z0-9_]*")
_CONSTANT_RE = re.compile(r"[A-Z][A-Z0-9_]*")
_ARRAY_RE = re.compile(r"^(?P<base>[^\[\]]+)(\[(?P<bound><=)?(?P<size>\d*)\])?$")


class ArrayKind(enum.Enum):
    """Whether a field is a scalar or which kind of array it is."""

    NONE = "none"
    FIXED = "fixed"
    BOUNDED = "bounded"
    UNBOUNDED = "unbounded"


@dataclass(frozen=True)
class TypeRef:
    """The element type of a field: a primitive name, or a full `pkg/msg/Type` name."""

    name: str
    string_bound: int | None = None

    @property
    def is_primitive(self) -> bool:
        return self.name in PRIMITIVE_TYPES


@dataclass(frozen=True)
class FieldSpec:
    """One field of a message, as written in its .msg file."""

    name: str
    type: TypeRef
    array: ArrayKind = ArrayKind.NONE
    array_size: int | None = None
    default: object = None


@dataclass(frozen=True)
class ConstantSpec:
    """A constant (`uint8 STATUS_OK=0`), typed and range-checked."""

    name: str
    type: str
    value: bool | int | float | str


@dataclass(frozen=True)
class MsgDefinition:
    """A parsed .msg file: its full name, fields in wire order, and constants."""

    name: str
    fields: tuple[FieldSpec, ...]
    constants: tuple[ConstantSpec, ...]

    @property
    def dependencies(self) -> tuple[str, ...]:
        """Full names of the nested types this message needs, in first-use order."""
        seen: dict[str, None] = {}
        for field in self.fields:
            if not field.type.is_primitive:
                seen.setdefault(field.type.name)
        return tuple(seen)


def normalize_type_name(name: str) -> str:
    """`sensor_msgs/Imu` or `sensor_msgs/msg/Imu` -> `sensor_msgs/msg/Imu`.

    Configs and tools write both forms; one canonical form keeps caches and keys unique.
    """
    parts = name.strip().split("/")
    if len(parts) == 3 and parts[1] == "msg":
        package, type_name = parts[0], parts[2]
    elif len(parts) == 2:
        package, type_name = parts
    else:
        raise CodecError(f"ROS type {name!r}: expected 'package/msg/Type' or 'package/Type'")
    if not _PACKAGE_RE.fullmatch(package):
        raise CodecError(f"ROS type {name!r}: package {package!r} is not a valid package name")
    if not _TYPE_RE.fullmatch(type_name):
        raise CodecError(f"ROS type {name!r}: {type_name!r} is not a valid message name")
    return f"{package}/msg/{type_name}"


def parse_msg(text: str, type_name: str, source: str = "<string>") -> MsgDefinition:
    """Parse the text of one .msg file defining `type_name` (any accepted spelling).

    `source` names the file in error messages: `msg/Foo.msg:3: unknown type 'flaot64'`.
    """
    full_name = normalize_type_name(type_name)
    package = full_name.split("/")[0]
    fields: list[FieldSpec] = []
    constants: list[ConstantSpec] = []
    names: set[str] = set()
    for line_no, raw_line in enumerate(text.splitlines(), start=1):
        where = f"{source}:{line_no}"
        line = _strip_comment(raw_line).strip()
        if not line:
            continue
        item = _parse_line(line, package, where)
        if item.name in names:
            raise CodecError(f"{where}: {item.name!r} is defined twice")
        names.add(item.name)
        if isinstance(item, ConstantSpec):
            constants.append(item)
        else:
            fields.append(item)
    return MsgDefinition(full_name, tuple(fields), tuple(constants))


def _strip_comment(line: str) -> str:
    """Cut a `#` comment, but not a `#` inside a quoted string value."""
    quote: str | None = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#":
            return line[:index]
    return line


def _parse_line(line: str, package: str, where: str) -> FieldSpec | ConstantSpec:
    parts = line.split(None, 1)
    if len(parts) < 2:
        raise CodecError(f"{where}: expected '<type> <name>', got {line!r}")
    type_text, rest = parts
    if re.match(r"^\w+\s*=", rest):
        return _parse_constant(type_text, rest, where)
    return _parse_field(type_text, rest, package, where)


def _parse_constant(type_text: str, rest: str, where: str) -> ConstantSpec:
    name, _, value_text = (part.strip() for part in rest.partition("="))
    if not _CONSTANT_RE.fullmatch(name):
        raise CodecError(f"{where}: constant name {name!r} must be UPPER_CASE")
    if type_text not in PRIMITIVE_TYPES:
        raise CodecError(f"{where}: constant {name} must have a primitive type, got {type_text!r}")
    if not value_text:
        raise CodecError(f"{where}: constant {name} has no value")
    value = _primitive_value(type_text, value_text, f"{where}: constant {name}")
    return ConstantSpec(name, type_text, value)


def _parse_field(type_text: str, rest: str, package: str, where: str) -> FieldSpec:
    name, default_text = ([*rest.split(None, 1), ""])[:2]
    default_text = default_text.strip()
    if not _FIELD_RE.fullmatch(name) or "__" in name or name.endswith("_"):
        raise CodecError(
            f"{where}: field name {name!r} must be lower_case (letters, digits, single '_')"
        )
    element, array, size = _parse_array(type_text, where)
    type_ref = _parse_type_ref(element, package, where)
    default = None
    if default_text:
        if not type_ref.is_primitive:
            raise CodecError(f"{where}: field {name}: only primitive fields can have defaults")
        default = _default_value(type_ref.name, array, size, default_text, f"{where}: field {name}")
    return FieldSpec(name, type_ref, array, size, default)


def _parse_array(type_text: str, where: str) -> tuple[str, ArrayKind, int | None]:
    match = _ARRAY_RE.match(type_text)
    if not match:
        raise CodecError(f"{where}: malformed type {type_text!r}")
    base = match.group("base")
    if match.group(2) is None:
        return base, ArrayKind.NONE, None
    size_text = match.group("size")
    if not size_text:
        if match.group("bound"):
            raise CodecError(f"{where}: bounded array {type_text!r} needs a size")
        return base, ArrayKind.UNBOUNDED, None
    size = int(size_text)
    if size <= 0:
        raise CodecError(f"{where}: array size in {type_text!r} must be > 0")
    return base, ArrayKind.BOUNDED if match.group("bound") else ArrayKind.FIXED, size


def _parse_type_ref(element: str, package: str, where: str) -> TypeRef:
    if element.startswith("string<="):
        bound_text = element[len("string<=") :]
        if not bound_text.isdigit() or int(bound_text) <= 0:
            raise CodecError(f"{where}: malformed bounded string {element!r}")
        return TypeRef("string", int(bound_text))
    if element in PRIMITIVE_TYPES:
        return TypeRef(element)
    if element.startswith("wstring"):
        raise CodecError(f"{where}: wstring is not supported")
    if element == "Header":
        return TypeRef(HEADER)
    if "/" not in element:
        if not _TYPE_RE.fullmatch(element):
            raise CodecError(f"{where}: unknown type {element!r}")
        return TypeRef(f"{package}/msg/{element}")
    try:
        return TypeRef(normalize_type_name(element))
    except CodecError as error:
        raise CodecError(f"{where}: {error}") from None


def _default_value(
    type_name: str, array: ArrayKind, size: int | None, text: str, what: str
) -> object:
    if array is ArrayKind.NONE:
        return _primitive_value(type_name, text, what)
    try:
        items = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise CodecError(f"{what}: default {text!r} is not a list") from None
    if not isinstance(items, (list, tuple)):
        raise CodecError(f"{what}: default {text!r} is not a list")
    if array is ArrayKind.FIXED and len(items) != size:
        raise CodecError(f"{what}: default has {len(items)} items, the array has {size}")
    if array is ArrayKind.BOUNDED and size is not None and len(items) > size:
        raise CodecError(f"{what}: default has {len(items)} items, the bound is {size}")
    return tuple(_primitive_value(type_name, repr(item), what) for item in items)


def _primitive_value(type_name: str, text: str, what: str) -> bool | int | float | str:
    """Turn the text of a constant or default into a checked Python value."""
    if type_name == "string":
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            return str(ast.literal_eval(text))
        return text
    if type_name == "bool":
        lowered = text.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise CodecError(f"{what}: {text!r} is not a bool")
    if type_name in ("float32", "float64"):
        try:
            return float(text)
        except ValueError:
            raise CodecError(f"{what}: {text!r} is not a number") from None
    try:
        value = int(text, 0)
    except ValueError:
        raise CodecError(f"{what}: {text!r} is not an integer") from None
    low, high = _INT_RANGES[type_name]
    if not low <= value <= high:
        raise CodecError(f"{what}: {value} is out of range for {type_name} [{low}, {high}]")
    return value
