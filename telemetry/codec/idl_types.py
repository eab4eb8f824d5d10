"""Turn a parsed .msg definition into a pycdr2 dataclass that (de)serializes ROS 2 CDR.

ROS 2 messages on the wire are plain (XCDR1) CDR structs: fields in order, each aligned to
its own size, arrays of fixed size without a length, sequences with a u32 length. pycdr2's
final structs produce exactly that, so each ROS field maps to one pycdr2 annotation.

Every field gets a zero default, as in rclpy, so `Imu()` is a valid message.
"""

from __future__ import annotations

import dataclasses
import keyword
import types
from collections.abc import Callable, Mapping
from typing import Any

from pycdr2 import IdlStruct
from pycdr2.types import (
    array,
    bounded_str,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    sequence,
    uint8,
    uint16,
    uint32,
    uint64,
)

from telemetry.codec.msg_parser import ArrayKind, FieldSpec, MsgDefinition
from telemetry.errors import CodecError

__all__ = ["build_idl_class"]

# ROS 2 maps `byte` and `char` to 8-bit unsigned integers (rosidl: octet and uint8).
_PRIMITIVE_ANNOTATIONS: dict[str, Any] = {
    "bool": bool,
    "byte": uint8,
    "char": uint8,
    "int8": int8,
    "uint8": uint8,
    "int16": int16,
    "uint16": uint16,
    "int32": int32,
    "uint32": uint32,
    "int64": int64,
    "uint64": uint64,
    "float32": float32,
    "float64": float64,
    "string": str,
}

_ZERO: dict[str, Any] = {"bool": False, "string": "", "float32": 0.0, "float64": 0.0}
_BYTE_TYPES = frozenset({"byte", "char", "uint8"})


def build_idl_class(definition: MsgDefinition, nested: Mapping[str, type[IdlStruct]]) -> type[IdlStruct]:
    """A pycdr2 dataclass for `definition`; `nested` holds the classes of its dependencies."""
    package, _, type_name = definition.name.split("/")
    fields: dict[str, tuple[Any, Callable[[], Any]]] = {}
    for field in definition.fields:
        if keyword.iskeyword(field.name):
            raise CodecError(f"{definition.name}: field name {field.name!r} is a Python keyword")
        fields[field.name] = _annotation_and_default(field, nested)

    def fill(namespace: dict[str, Any]) -> None:
        # IdlMeta.__prepare__ made the namespace (and its __annotations__) and entered its IDL scope.
        for name, (annotation, default_factory) in fields.items():
            namespace["__annotations__"][name] = annotation
            namespace[name] = dataclasses.field(default_factory=default_factory)

    # types.new_class runs IdlMeta's __prepare__ and __new__ as a class statement would.
    built = types.new_class(type_name, (IdlStruct,), {"typename": f"{package}::msg::{type_name}"}, fill)
    cls: type = dataclasses.dataclass(built)
    if not issubclass(cls, IdlStruct):
        raise CodecError(f"{definition.name}: pycdr2 did not build an IdlStruct")
    for constant in definition.constants:
        setattr(cls, constant.name, constant.value)
    cls.__doc__ = f"ROS 2 message {definition.name} (built from its .msg definition)."
    return cls


def _annotation_and_default(
    field: FieldSpec, nested: Mapping[str, type[IdlStruct]]
) -> tuple[Any, Callable[[], Any]]:
    element, element_default = _element(field, nested)
    is_bytes = field.type.name in _BYTE_TYPES
    if field.array is ArrayKind.NONE:
        return element, element_default
    items = _array_default(field)
    if field.array is ArrayKind.FIXED:
        size = field.array_size or 0
        if is_bytes:  # pycdr2 reads uint8[N] as bytes, as rclpy does
            initial = bytes(items) if items is not None else bytes(size)
            return _subscript(array, uint8, size), lambda: initial
        if items is not None:
            return _subscript(array, element, size), lambda: list(items)
        return _subscript(array, element, size), lambda: [element_default() for _ in range(size)]
    if is_bytes and field.array is ArrayKind.UNBOUNDED:
        # `bytes` has the same CDR layout as sequence<uint8> and decodes without a list.
        initial = bytes(items) if items is not None else b""
        return bytes, lambda: initial
    values = list(items) if items is not None else []
    bound = field.array_size if field.array is ArrayKind.BOUNDED else None
    annotation = _subscript(sequence, element, bound) if bound else _subscript(sequence, element)
    return annotation, lambda: list(values)


def _array_default(field: FieldSpec) -> tuple[Any, ...] | None:
    """An array field's default: msg_parser checks it into a tuple of primitives, or leaves None."""
    if field.default is None or isinstance(field.default, tuple):
        return field.default
    raise CodecError(f"{field.name}: array default {field.default!r} is not a tuple")


def _subscript(generic: Any, *arguments: Any) -> Any:
    """`generic[arguments]` for pycdr2's array, sequence and bounded_str.

    They take their parameters through `__class_getitem__` at run time and are not declared
    generic, so a type checker refuses `array[element, size]` written out."""
    return generic[arguments if len(arguments) > 1 else arguments[0]]


def _element(field: FieldSpec, nested: Mapping[str, type[IdlStruct]]) -> tuple[Any, Callable[[], Any]]:
    """The annotation of one element of the field and a factory for its default value."""
    ref = field.type
    if not ref.is_primitive:
        cls = nested[ref.name]
        return cls, cls
    annotation = _subscript(bounded_str, ref.string_bound) if ref.string_bound else _PRIMITIVE_ANNOTATIONS[ref.name]
    scalar_default = field.default if field.array is ArrayKind.NONE and field.default is not None else None
    value = scalar_default if scalar_default is not None else _ZERO.get(ref.name, 0)
    return annotation, lambda: value
