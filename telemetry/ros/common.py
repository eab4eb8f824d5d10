"""What both nodes share: QoS per stream, node names, argument and executor handling."""

from __future__ import annotations

import importlib
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Sequence
from typing import NoReturn

import rclpy
from rclpy._rclpy_pybind11 import RCLError
from rclpy.executors import Executor, ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import (
    QoSDurabilityPolicy,
    QoSHistoryPolicy,
    QoSProfile,
    QoSReliabilityPolicy,
    qos_profile_sensor_data,
)
from rclpy.utilities import ok, remove_ros_args, try_shutdown

from telemetry.codec import normalize_type_name

__all__ = [
    "EXECUTORS",
    "PublishingThread",
    "exit_process",
    "init_ros",
    "make_executor",
    "message_class",
    "node_name",
    "qos_for",
    "spin_publishing_node",
    "spin_until_shutdown",
    "split_ros_args",
]

_RELIABLE_QOS = QoSProfile(
    reliability=QoSReliabilityPolicy.RELIABLE,
    history=QoSHistoryPolicy.KEEP_LAST,
    depth=50,
    durability=QoSDurabilityPolicy.VOLATILE,
)


def qos_for(reliable: bool, depth: int | None = None) -> QoSProfile:
    """Sensor-data QoS (best effort) unless the stream is configured reliable; `depth`
    overrides the history depth (a budgeted stream's samples wait in that queue)."""
    profile = _RELIABLE_QOS if reliable else qos_profile_sensor_data
    if depth is None or depth == profile.depth:
        return profile
    return QoSProfile(reliability=profile.reliability, history=QoSHistoryPolicy.KEEP_LAST, depth=depth,
                      durability=profile.durability)


def node_name(base: str, vehicle: str) -> str:
    """`sensor_sim` + `rover-01` -> `sensor_sim_rover_01` (ROS node names allow [A-Za-z0-9_])."""
    return f"{base}_{re.sub(r'[^A-Za-z0-9_]', '_', vehicle)}"


def split_ros_args(argv: Sequence[str]) -> list[str]:
    """The arguments argparse should see: everything but `--ros-args ... [--]`."""
    return remove_ros_args(args=list(argv))[1:]


EXECUTORS = ("lean", "single", "events")


def make_executor(kind: str = "single") -> Executor:
    """An rclpy executor: `single` or `events` (`lean` is not an executor: see lean_spinner).

    rclpy's EventsExecutor costs about half the CPU per callback where it works, but in the
    ROS 2 Jazzy wheels from PyPI (rclpy 7.1.6) it delivered no callback at all and burned a
    core, spun from the main thread, with raw and decoded subscriptions, with and without
    timers (measured here). So it is opt-in; an rclpy without it falls back to `single`.
    """
    if kind == "events":
        try:
            from rclpy.experimental.events_executor import EventsExecutor
        except ImportError:
            return SingleThreadedExecutor()
        return EventsExecutor()
    if kind not in ("single", "lean"):
        raise ValueError(f"executor {kind!r}: expected one of {', '.join(EXECUTORS)}")
    return SingleThreadedExecutor()


def init_ros(args: Sequence[str], domain_id: int | None) -> None:
    """rclpy.init with the node's own arguments and, when given, the vehicle's domain id."""
    if domain_id is None:
        rclpy.init(args=list(args))
    else:
        rclpy.init(args=list(args), domain_id=domain_id)


#: Longest wait of one executor turn: how soon a shut-down context is noticed at the latest.
SHUTDOWN_POLL_S = 0.1


def spin_until_shutdown(executor: Executor, poll_s: float = SHUTDOWN_POLL_S) -> None:
    """Spin until Ctrl-C, SIGTERM or rclpy.shutdown(), whichever way rclpy reports it.

    rclpy's signal handler shuts the context down; depending on where the executor was
    waiting, that surfaces as KeyboardInterrupt, ExternalShutdownException, or an RCLError
    about an invalid context. All three mean "stop", not "crash".

    `executor.spin()` waits without a timeout and relies on the shutdown waking it. Under
    load that wake-up can be lost: with two busy loops on this 2-core machine, 2 of 25
    sensor_sims stayed in rcl_wait after SIGTERM until killed (py-spy showed the main thread
    there, the context already shut down). Each turn here waits at most `poll_s`, so a
    shut-down context is seen within `poll_s` whatever happened to the wake-up.
    """
    try:
        while executor.context.ok():
            executor.spin_once(timeout_sec=poll_s)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except RCLError:
        if ok():
            raise


class PublishingThread:
    """A simulator node's publishing loop, on its own thread (deadline loops, not rclpy
    timers: see sensor_sim). The loop runs until `stopping` is set."""

    def __init__(self, loop: Callable[[], None], name: str) -> None:
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        self.stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout_s)


def spin_publishing_node(node: Node, publishing: PublishingThread, on_ready: Callable[[], None] | None = None) -> None:
    """Spin `node` until shutdown with its publishing thread running (rclpy must be
    initialised); on the way out, in this order: the thread, the executor, the node, rclpy."""
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        publishing.start()
        if on_ready is not None:
            on_ready()
        spin_until_shutdown(executor)
    finally:
        publishing.stop()
        executor.shutdown()
        node.destroy_node()
        try_shutdown()


def exit_process(code: int) -> NoReturn:
    """End a node's process once everything it opened is closed, skipping interpreter finalisation.

    Native threads of rclpy, Fast DDS and Zenoh may still be winding down when Python
    finalises; one that then tries to enter Python is ended with pthread_exit, and that
    forced unwind aborts the whole process when it crosses a Rust or C++ frame that catches
    everything ("FATAL: exception not rethrown", exit -6: 1 in 4 bridge stops here under
    test). Everything is closed by now, so there is nothing left for finalisation to do.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def message_class(ros_type: str) -> type | None:
    """The generated rclpy class of `pkg/msg/Type`, or None when the package is not installed."""
    package, _, name = normalize_type_name(ros_type).split("/")
    try:
        return getattr(importlib.import_module(f"{package}.msg"), name)  # type: ignore[no-any-return]
    except (ImportError, AttributeError):
        return None
