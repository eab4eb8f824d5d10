"""Undeclaring what a component declared on a session, newest first, before it closes."""

from __future__ import annotations

import logging
from typing import Any

import zenoh

__all__ = ["undeclare_all"]

_log = logging.getLogger(__name__)


def undeclare_all(declared: list[Any]) -> None:
    """Undeclare every subscriber, queryable, token or publisher in `declared`, then empty it.

    One that fails (its session already closed) does not stop the others.
    """
    for entity in reversed(declared):
        try:
            entity.undeclare()
        except zenoh.ZError as error:
            _log.debug("undeclare of %r failed: %s", entity, error)
    declared.clear()
