"""Fixtures shared by every test folder: child processes, Zenoh client sessions, type stores.

test/support/ holds the helpers; this folder goes on sys.path so tests import them as
`support.*` whatever pytest's import mode is.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.processes import ProcessGroup

if TYPE_CHECKING:
    from support.zenoh_net import ClientSessions

    from telemetry.codec import TypeStore as TelemetryTypeStore


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


@pytest.fixture(scope="session")
def store() -> TelemetryTypeStore:
    """The codec's type store as every process builds it: this package's msg/ plus ROS's."""
    from telemetry.codec import TypeStore

    return TypeStore.from_environment()


@pytest.fixture(scope="session")
def rosbags_store() -> Any:
    """rosbags' own Jazzy types plus this package's msg/ files, registered from their text:
    the independent implementation the codec and the wire are checked against."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    from telemetry.codec.store import source_msg_dir

    typestore = get_typestore(Stores.ROS2_JAZZY)
    msg_dir = source_msg_dir()
    assert msg_dir is not None
    for path in sorted(msg_dir.glob("*.msg")):
        typestore.register(get_types_from_msg(path.read_text(), f"telemetry/msg/{path.stem}"))
    return typestore
