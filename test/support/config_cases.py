"""A valid fleet as plain data, and the helpers that write it, load it and expect one error.

Shared by the tests under test/config/, which each break one thing in a copy of BASE_FLEET.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from telemetry.codec import TypeStore
from telemetry.config import FleetConfig, load_fleet_config
from telemetry.errors import ConfigError

__all__ = ["BASE_FLEET", "SHIPPED_FLEET", "expect_error", "load", "write"]

#: config/fleet.yaml of this checkout.
SHIPPED_FLEET = Path(__file__).resolve().parents[2] / "config" / "fleet.yaml"

#: Two regions, three vehicles, two streams each: small, but every section a check reads is there.
BASE_FLEET: dict[str, Any] = {
    "cloud": {"router": {"listen": ["tcp/127.0.0.1:7447"]}},
    "regions": [
        {"name": "eu-west", "router": {"listen": ["tcp/127.0.0.1:7448"]}},
        {"name": "us-east", "router": {"listen": ["tcp/127.0.0.1:7449"]}},
    ],
    "vehicles": [
        {
            "name": f"rover-0{number}",
            "region": region,
            "ros_domain_id": 10 + number,
            "streams": [
                {"topic": "/imu", "type": "sensor_msgs/msg/Imu", "rate_hz": 1000},
                {"topic": "/battery", "type": "sensor_msgs/msg/BatteryState", "rate_hz": 1},
            ],
        }
        for number, region in ((1, "eu-west"), (2, "eu-west"), (3, "us-east"))
    ],
}


def write(tmp_path: Path, content: dict[str, Any] | str) -> Path:
    """`content` (data is dumped as YAML, text kept as written) as tmp_path/fleet.yaml."""
    path = tmp_path / "fleet.yaml"
    text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, content: dict[str, Any] | str, store: TypeStore) -> FleetConfig:
    """Write `content` and read it back the way every process reads its fleet file."""
    return load_fleet_config(write(tmp_path, content), store)


def expect_error(
    tmp_path: Path, content: dict[str, Any] | str, store: TypeStore, where: str, words: str
) -> None:
    """Loading fails with `<file>: <where>: <words>`; `where` is literal, `words` a regex."""
    file = re.escape(str(tmp_path / "fleet.yaml"))
    with pytest.raises(ConfigError, match=f"^{file}: {re.escape(where)}: {words}"):
        load(tmp_path, content, store)
