"""Wire formats: ROS .msg definitions as pycdr2 types, and the per-sample attachment.

Imports none of rclpy, zenoh or textual, so every process (and every test) can use it.
"""

from __future__ import annotations

from telemetry.codec.msg_parser import (
    ArrayKind,
    ConstantSpec,
    FieldSpec,
    MsgDefinition,
    TypeRef,
    normalize_type_name,
    parse_msg,
)
from telemetry.codec.store import TypeStore
from telemetry.errors import CodecError

__all__ = [
    "ArrayKind",
    "CodecError",
    "ConstantSpec",
    "FieldSpec",
    "MsgDefinition",
    "TypeRef",
    "TypeStore",
    "normalize_type_name",
    "parse_msg",
]
