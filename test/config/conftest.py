"""Fixtures for the config tests: a fresh copy of a valid fleet for each test to break.

The ROS message types that stream types are checked against come from test/conftest.py's
`store` fixture, built once per session like every process builds its own.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from support.config_cases import BASE_FLEET


@pytest.fixture
def fleet() -> dict[str, Any]:
    """A valid fleet as plain data: each test breaks one thing in its own copy."""
    return copy.deepcopy(BASE_FLEET)
