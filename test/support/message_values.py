"""Test helpers: fill any message with deterministic values, and express the same values in
the three implementations under comparison (this codec, rosbags, rclpy).

The walk is driven by the parsed definition, so a new field in msg/ is covered without
touching the tests.
"""

from __future__ import annotations

import importlib
import random
from typing import Any

import numpy as np

from telemetry.codec import ArrayKind, FieldSpec, TypeStore

_INT_BITS = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}
_UINT_BITS = {"byte": 8, "char": 8, "uint8": 8, "uint16": 16, "uint32": 32, "uint64": 64}
_NUMPY_DTYPES = {
    "bool": np.bool_, "byte": np.uint8, "char": np.uint8, "int8": np.int8, "uint8": np.uint8,
    "int16": np.int16, "uint16": np.uint16, "int32": np.int32, "uint32": np.uint32,
    "int64": np.int64, "uint64": np.uint64, "float32": np.float32, "float64": np.float64,
}


def filled(store: TypeStore, type_name: str, rng: random.Random, array_len: int) -> Any:
    """A message of `type_name` whose every field holds a value drawn from `rng`.

    Unbounded arrays get `array_len` items, bounded arrays their maximum, so that
    `array_len=0` gives the emptiest message and a large one the fullest.
    """
    definition = store.definition(type_name)
    values = {field.name: _field_value(store, field, rng, array_len) for field in definition.fields}
    return store.new(type_name, **values)


def _field_value(store: TypeStore, field: FieldSpec, rng: random.Random, array_len: int) -> Any:
    if field.array is ArrayKind.NONE:
        return _element_value(store, field, rng, array_len)
    count = array_len if field.array is ArrayKind.UNBOUNDED else field.array_size or 0
    items = [_element_value(store, field, rng, array_len) for _ in range(count)]
    if field.type.name in _UINT_BITS and _UINT_BITS[field.type.name] == 8 and field.array is not ArrayKind.BOUNDED:
        return bytes(items)
    return items


def _element_value(store: TypeStore, field: FieldSpec, rng: random.Random, array_len: int) -> Any:
    name = field.type.name
    if not field.type.is_primitive:
        return filled(store, name, rng, min(array_len, 3))
    if name == "bool":
        return rng.random() < 0.5
    if name in _INT_BITS:
        bits = _INT_BITS[name]
        return rng.randint(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if name in _UINT_BITS:
        return rng.randint(0, 2 ** _UINT_BITS[name] - 1)
    if name in ("float32", "float64"):
        return rng.randint(-4096, 4096) / 8.0  # exact in float32 too
    length = rng.randint(0, min(field.type.string_bound or 12, 12))
    return "".join(rng.choice("abcxyz_/ é0123") for _ in range(length))


def to_rosbags(store: TypeStore, type_name: str, message: Any, rosbags_store: Any) -> Any:
    """The same values as a rosbags message object (numpy arrays for primitive arrays)."""
    definition = store.definition(type_name)
    cls = rosbags_store.types[definition.name]
    kwargs = {}
    for field in definition.fields:
        value = getattr(message, field.name)
        if not field.type.is_primitive:
            if field.array is ArrayKind.NONE:
                value = to_rosbags(store, field.type.name, value, rosbags_store)
            else:
                value = [to_rosbags(store, field.type.name, item, rosbags_store) for item in value]
        elif field.array is not ArrayKind.NONE and field.type.name != "string":
            value = np.array(list(value), dtype=_NUMPY_DTYPES[field.type.name])
        kwargs[field.name] = value
    return cls(**kwargs)


def to_rclpy(store: TypeStore, type_name: str, message: Any) -> Any:
    """The same values as an rclpy message (the generated Python class of a ROS package)."""
    definition = store.definition(type_name)
    package, _, name = definition.name.split("/")
    ros_message = getattr(importlib.import_module(f"{package}.msg"), name)()
    for field in definition.fields:
        value = getattr(message, field.name)
        if not field.type.is_primitive:
            if field.array is ArrayKind.NONE:
                value = to_rclpy(store, field.type.name, value)
            else:
                value = [to_rclpy(store, field.type.name, item) for item in value]
        elif field.type.name == "byte" and field.array is ArrayKind.NONE:
            value = bytes([value])
        elif field.type.name == "byte":
            value = [bytes([item]) for item in value]
        setattr(ros_message, field.name, value)
    return ros_message
