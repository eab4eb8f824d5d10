"""A lean spin loop for a node made of subscriptions and timers only (the bridge).

rclpy's executors rebuild a wait set from every entity of the node (parameter services,
QoS event handlers, guards) for every single callback, and run each callback as a task.
At 1 kHz that overhead is the bridge's whole cost: measured here with one raw Imu
subscription, ~186 µs of CPU per sample with SingleThreadedExecutor (~150 µs without
parameter services and event handlers), ~43 µs with this loop, which keeps one wait set of
the node's subscriptions and timers and drains every ready subscription with `take`
until it is empty. (The EventsExecutor of the Jazzy wheels delivered nothing here.)

It uses the wait-set binding rclpy's own executors use; where that binding is missing
(another rclpy), `lean_spin_available()` is False and callers fall back to an executor.
"""

from __future__ import annotations

import logging
from typing import Any

from rclpy.node import Node

try:
    from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy

    _WAIT_SET = _rclpy.WaitSet
    _RCL_ERROR: type[Exception] = _rclpy.RCLError
except (ImportError, AttributeError):  # pragma: no cover - depends on the installed rclpy
    _WAIT_SET = None
    _RCL_ERROR = RuntimeError

__all__ = ["lean_spin", "lean_spin_available"]

_log = logging.getLogger(__name__)
_WAIT_TIMEOUT_NS = 100_000_000  # how often the loop looks at the shutdown flag


def lean_spin_available() -> bool:
    return _WAIT_SET is not None


def lean_spin(node: Node) -> None:
    """Serve `node`'s subscriptions and timers until rclpy shuts down (Ctrl-C, SIGTERM).

    Subscriptions and timers created while spinning (from a callback) are picked up on
    the next turn. Services, clients and waitables are not served: create the node with
    `start_parameter_services=False` and subscriptions without event callbacks.
    """
    assert _WAIT_SET is not None
    context = node.context
    entities: tuple[int, int] = (-1, -1)
    wait_set: Any = None
    try:
        while context.ok():
            subscriptions, timers = list(node.subscriptions), list(node.timers)
            if (len(subscriptions), len(timers)) != entities:
                entities = (len(subscriptions), len(timers))
                wait_set = _WAIT_SET(len(subscriptions), 0, len(timers), 0, 0, 0, context.handle)
            wait_set.clear_entities()
            for subscription in subscriptions:
                wait_set.add_subscription(subscription.handle)
            for timer in timers:
                wait_set.add_timer(timer.handle)
            wait_set.wait(_WAIT_TIMEOUT_NS)
            _run_ready_timers(wait_set, timers)
            _drain_ready_subscriptions(wait_set, subscriptions)
    except KeyboardInterrupt:
        pass
    except _RCL_ERROR:
        if context.ok():
            raise


def _run_ready_timers(wait_set: Any, timers: list[Any]) -> None:
    ready = wait_set.get_ready_entities("timer")
    if not ready:
        return
    for timer in timers:
        if timer.handle.pointer in ready and timer.handle.is_timer_ready():
            timer.handle.call_timer()
            timer.callback()


def _drain_ready_subscriptions(wait_set: Any, subscriptions: list[Any]) -> None:
    ready = wait_set.get_ready_entities("subscription")
    if not ready:
        return
    for subscription in subscriptions:
        if subscription.handle.pointer not in ready:
            continue
        take, msg_type, raw, callback = (
            subscription.handle.take_message, subscription.msg_type, subscription.raw, subscription.callback
        )
        while (taken := take(msg_type, raw)) is not None:
            callback(taken[0])
