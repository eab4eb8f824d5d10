"""The type store: finds .msg definitions, builds pycdr2 classes lazily, encodes and decodes.

One store object is created by whoever needs messages (aggregator, tests, tools) and passed
around; it caches every definition and class it builds, so a type is parsed once per
process. The store reads the files, the parser understands them, and `idl_types` turns
them into pycdr2 classes: three layers that pass plain records.

Where definitions come from, in order: packages registered explicitly (this package's own
msg/ folder when running from a source tree), then `<prefix>/share/<package>/msg/` for each
prefix on AMENT_PREFIX_PATH (a ROS 2 install or a sourced colcon workspace) and for the
Python environment itself (the ROS 2 wheels from PyPI install the .msg files there).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pycdr2 import IdlStruct
from pycdr2._support import Buffer, Endianness

from telemetry.codec.idl_types import build_idl_class
from telemetry.codec.msg_parser import MsgDefinition, normalize_type_name, parse_msg
from telemetry.errors import CodecError

__all__ = ["TypeStore", "default_share_roots", "source_msg_dir"]

_log = logging.getLogger(__name__)

#: What separates the types of a concatenated definition (rosbag2's and Foxglove's format).
_SCHEMA_SEPARATOR = "=" * 80

#: The package whose messages live in this repository's msg/ folder.
OWN_PACKAGE = "telemetry"


def source_msg_dir() -> Path | None:
    """This package's msg/ folder when running from a source tree or a symlink install."""
    candidate = Path(__file__).resolve().parents[2] / "msg"
    return candidate if (candidate.parent / "package.xml").is_file() else None


def default_share_roots() -> list[Path]:
    """Folders laid out as `<root>/<package>/msg/<Type>.msg`, most specific first."""
    prefixes = [p for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    prefixes.append(sys.prefix)
    roots: list[Path] = []
    for prefix in prefixes:
        share = Path(prefix) / "share"
        if share.is_dir() and share not in roots:
            roots.append(share)
    return roots


class TypeStore:
    """Message definitions and their pycdr2 classes, by full ROS name (`pkg/msg/Type`)."""

    def __init__(
        self,
        share_roots: Iterable[Path] = (),
        package_msg_dirs: Mapping[str, Path] | None = None,
    ) -> None:
        self._share_roots = [Path(root) for root in share_roots]
        self._package_msg_dirs = {name: Path(path) for name, path in (package_msg_dirs or {}).items()}
        self._texts: dict[str, tuple[str, str]] = {}
        self._definitions: dict[str, MsgDefinition] = {}
        self._classes: dict[str, type[IdlStruct]] = {}

    @classmethod
    def from_environment(cls) -> TypeStore:
        """A store that sees this package's msg/ and every installed ROS 2 message package."""
        own = source_msg_dir()
        return cls(default_share_roots(), {OWN_PACKAGE: own} if own else None)

    def add_definition(self, type_name: str, text: str, source: str = "<string>") -> None:
        """Register a definition given as text (tests, or types learned at run time)."""
        name = normalize_type_name(type_name)
        if name in self._classes:
            raise CodecError(f"{name}: already built; register definitions before first use")
        self._definitions.pop(name, None)
        self._texts[name] = (text, source)

    def has_type(self, type_name: str) -> bool:
        """True when a definition for `type_name` can be found (its dependencies unchecked)."""
        try:
            name = normalize_type_name(type_name)
        except CodecError:
            return False
        return name in self._texts or self._find_file(name) is not None

    def definition(self, type_name: str) -> MsgDefinition:
        """The parsed definition of `type_name`, read and cached on first use."""
        name = normalize_type_name(type_name)
        cached = self._definitions.get(name)
        if cached is None:
            text, source = self._read_text(name)
            cached = parse_msg(text, name, source)
            self._definitions[name] = cached
        return cached

    def full_definition(self, type_name: str) -> str:
        """`type_name`'s .msg text followed by every type it uses, once each, the way rosbag2
        stores a schema (`ros2msg`): what lets Foxglove or rosbags decode a recording without
        a ROS install. Nested types are named `MSG: pkg/Type` after a line of 80 `=`."""
        root = normalize_type_name(type_name)
        parts = [self._read_text(root)[0].rstrip("\n")]
        seen = {root}
        pending = list(self.definition(root).dependencies)
        while pending:
            name = pending.pop(0)
            if name in seen:
                continue
            seen.add(name)
            package, _, short = name.split("/")
            text = self._read_text(name)[0].rstrip("\n")
            parts.append(f"{_SCHEMA_SEPARATOR}\nMSG: {package}/{short}\n{text}")
            pending.extend(self.definition(name).dependencies)
        return "\n".join(parts) + "\n"

    def message_class(self, type_name: str) -> type[IdlStruct]:
        """The pycdr2 class for `type_name`; nested types are built first, once each."""
        name = normalize_type_name(type_name)
        return self._build(name, building=())

    def factory(self, type_name: str) -> Callable[..., IdlStruct]:
        """The constructor of `type_name`'s messages (keyword fields), typed for callers.

        pycdr2 builds the class at run time, so a type checker sees only `IdlStruct()`, which
        takes no fields; hot builders keep this instead of looking the class up per message."""
        return self.message_class(type_name)

    def new(self, type_name: str, **fields: Any) -> Any:
        """A message of `type_name`: zero values, overridden by `fields`.

        Typed Any on purpose: its fields (`imu.header.stamp`) exist only at run time, built
        from the .msg file, so a checker could only refuse every read of them."""
        return self.message_class(type_name)(**fields)

    def constant(self, type_name: str, name: str) -> Any:
        """A constant of `type_name`'s definition (`SampleBatch.VERSION`): CodecError if it has none."""
        cls = self.message_class(type_name)
        if name not in vars(cls):
            raise CodecError(f"{normalize_type_name(type_name)}: no constant {name!r}")
        return vars(cls)[name]

    def encode(self, message: IdlStruct) -> bytes:
        """CDR bytes, little endian, with the 4-byte encapsulation header ROS 2 uses."""
        try:
            # A fresh buffer per call: pycdr2's default buffer is shared by every message of
            # a type, which would corrupt output encoded from two threads at once.
            return message.serialize(buffer=Buffer(), endianness=Endianness.Little)
        # pycdr2 signals bad values with AssertionError, struct.error, TypeError and plain
        # Exception; this is the boundary where they become one error that names the type.
        except Exception as error:
            raise CodecError(f"{_type_of(message)}: cannot encode: {error or type(error).__name__}") from error

    def decode(self, type_name: str, data: bytes | bytearray | memoryview) -> Any:
        """Decode CDR bytes (with encapsulation header) into a message of `type_name`."""
        cls = self.message_class(type_name)
        if len(data) < 4 or bytes(data[:2]) not in (b"\x00\x00", b"\x00\x01"):
            raise CodecError(f"{normalize_type_name(type_name)}: not CDR (bad encapsulation header)")
        try:
            return cls.deserialize(bytes(data))
        except Exception as error:  # the same boundary as in encode()
            raise CodecError(
                f"{normalize_type_name(type_name)}: cannot decode {len(data)} bytes: "
                f"{error or type(error).__name__}"
            ) from error

    def _build(self, name: str, building: tuple[str, ...]) -> type[IdlStruct]:
        cached = self._classes.get(name)
        if cached is not None:
            return cached
        if name in building:
            raise CodecError(f"{name}: recursive definition via {' -> '.join(building)}")
        definition = self.definition(name)
        nested = {dep: self._build(dep, (*building, name)) for dep in definition.dependencies}
        cls = build_idl_class(definition, nested)
        self._classes[name] = cls
        return cls

    def _read_text(self, name: str) -> tuple[str, str]:
        if name in self._texts:
            return self._texts[name]
        path = self._find_file(name)
        if path is None:
            searched = [str(p) for p in self._package_msg_dirs.values()] + [str(r) for r in self._share_roots]
            raise CodecError(f"{name}: no .msg definition found (searched: {', '.join(searched) or 'nothing'})")
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as error:
            raise CodecError(f"{path}: cannot read: {error}") from error

    def _find_file(self, name: str) -> Path | None:
        package, _, type_name = name.split("/")
        candidates = []
        if package in self._package_msg_dirs:
            candidates.append(self._package_msg_dirs[package] / f"{type_name}.msg")
        candidates.extend(root / package / "msg" / f"{type_name}.msg" for root in self._share_roots)
        return next((path for path in candidates if path.is_file()), None)


def _type_of(message: object) -> str:
    typename = getattr(type(message), "__idl_typename__", None) or type(message).__name__
    return str(typename).replace("::", "/")
