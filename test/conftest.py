"""Fixtures shared by every test folder: child processes and Zenoh client sessions.

test/support/ holds the helpers; this folder goes on sys.path so tests import them as
`support.*` whatever pytest's import mode is.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.processes import ProcessGroup

if TYPE_CHECKING:
    from support.zenoh_net import ClientSessions


@pytest.fixture
def processes() -> Iterator[ProcessGroup]:
    """Start children with `processes.start_module(...)`; each is stopped by pid afterwards, pass or fail."""
    group = ProcessGroup()
    try:
        yield group
    finally:
        group.stop_all()


@pytest.fixture
def zenoh_clients() -> Iterator[ClientSessions]:
    """Open client sessions with `zenoh_clients.open(endpoint)`; all are closed afterwards."""
    from support.zenoh_net import ClientSessions  # imports zenoh: only for tests that use it

    sessions = ClientSessions()
    try:
        yield sessions
    finally:
        sessions.close_all()
