"""The package's one error family.

Every error a user can cause (a bad config, a malformed payload, an invalid key) is a
`TelemetryError`, so a command-line entry point can catch that one type and print its
message without a traceback. Messages name the thing that failed: file, path, field.
"""

from __future__ import annotations

__all__ = ["CodecError", "ConfigError", "KeyExprError", "TelemetryError"]


class TelemetryError(Exception):
    """Base of every error this package raises on bad input."""


class ConfigError(TelemetryError):
    """A fleet or bridge configuration file is unreadable or invalid."""


class CodecError(TelemetryError):
    """A message definition, payload or attachment cannot be parsed or encoded."""


class KeyExprError(TelemetryError):
    """A Zenoh key, or a region, vehicle or topic name inside one, is invalid."""
