"""Zenoh's error text, made readable for the one-line messages this package prints.

zenoh-python raises `ZError` whose text is a Rust debug dump: `Json5Err(Message { msg: "...",
location: ... }) at /root/.cargo/.../config.rs:86`, a multi-line parser excerpt, or
`Str("unknown key")`. A user fixing a config needs the sentence and where it points.
"""

from __future__ import annotations

import json
import re

__all__ = ["zenoh_message"]

_RUST_SOURCE = re.compile(r" at \S+\.rs:\d+\.?")
_SERDE_MESSAGE = re.compile(
    r'msg: "(?P<msg>(?:[^"\\]|\\.)*)"'
    r"(?:, location: Some\(Location \{ line: (?P<line>\d+), column: (?P<column>\d+) \}\))?"
)
_PEST_LOCATION = re.compile(r"-->\s*(?P<line>\d+):(?P<column>\d+)")
_PEST_EXPECTED = re.compile(r"^\s*= (?P<text>.+)$", re.MULTILINE)
_DEBUG_STRING = re.compile(r'^Str\("(?P<text>.*)"\)$')


def zenoh_message(error: BaseException | str, *, location: bool = True) -> str:
    """Zenoh's explanation without its Rust debug wrapping, with the line and column if any.

    Zenoh reports `Json5Err(Message { msg: "...", location: ... }) at config.rs:86`, or a
    multi-line parser excerpt (`--> 3:26 ... = expected array, ...`), or `Str("unknown key")`;
    users need the sentence and (with `location`) where it points.
    """
    text = _RUST_SOURCE.sub("", str(error)).strip()
    serde = _SERDE_MESSAGE.search(text)
    if serde is not None:
        try:
            inner = zenoh_message(json.loads(f'"{serde["msg"]}"'), location=location)
        except ValueError:  # a Rust escape JSON does not share (`\u{..}`): keep it verbatim
            inner = serde["msg"]
        if location and serde["line"] is not None and "(line " not in inner:
            inner += f" (line {serde['line']}, column {serde['column']})"
        return inner
    where, expected = _PEST_LOCATION.search(text), _PEST_EXPECTED.search(text)
    if where is not None and expected is not None:
        at = f" (line {where['line']}, column {where['column']})" if location else ""
        return f"{expected['text'].strip()}{at}"
    debug = _DEBUG_STRING.match(text)
    return debug["text"] if debug is not None else text
