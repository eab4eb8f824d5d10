"""Find a file the package ships under config/, wherever the package runs from."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from telemetry.errors import ConfigError

__all__ = ["shipped_file"]

_PACKAGE = "telemetry"


def shipped_file(relative: str | Path, anchor: Path | None = None) -> Path:
    """`relative` (e.g. `config/zenoh/vehicle.json5`) in the source tree or an install.

    A checkout or a colcon symlink install runs from the source tree, so the package root
    (the folder above `anchor` holding package.xml) comes first: edits there take effect
    without a rebuild. Otherwise the copy setup.py installs to `<prefix>/share/telemetry/`
    is looked up under each AMENT_PREFIX_PATH entry, then `sys.prefix` (a pip install).
    """
    searched: list[Path] = []
    start = (anchor or Path(__file__)).resolve()
    package_root = next((folder for folder in start.parents if (folder / "package.xml").is_file()), None)
    if package_root is not None:
        searched.append(package_root / relative)
    prefixes = [p for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    searched += [Path(prefix) / "share" / _PACKAGE / relative for prefix in (*prefixes, sys.prefix)]
    for candidate in searched:
        if candidate.is_file():
            return candidate
    places = ", ".join(str(path) for path in searched)
    raise ConfigError(f"{relative}: shipped file not found (searched: {places})")
