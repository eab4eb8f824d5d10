"""The bridge's spin loop: one wait set over the streams that may wake it, plus its timers.

rclpy's executors rebuild a wait set from every entity of the node (parameter services,
QoS event handlers, guards) for every single callback, and run each callback as a task.
At 1 kHz that overhead is the bridge's whole cost: measured here with one raw Imu
subscription, ~186 µs of CPU per sample with SingleThreadedExecutor (~150 µs without
parameter services and event handlers), ~43 µs with a loop that keeps one wait set of the
node's subscriptions and timers and drains every ready subscription with `take` until it is
empty. (The EventsExecutor of the Jazzy wheels delivered nothing here.)

This loop goes further, because a wake-up is what costs (tens of µs on a 2-vCPU VM, more
than the sample's own work): every stream a wake-up finds ready is drained completely and
what it held goes to the forwarder in one call, so samples found together leave as one
message; and a stream with a latency budget leaves the wait set while its batch is open,
its samples waiting in the DDS reader's queue until the deadline drains them all
(telemetry.bridge.budget). Under load, wake-ups and messages per sample fall instead of
the bridge falling behind.

It uses the wait-set binding rclpy's own executors use; where that binding is missing
(another rclpy), `lean_spin_available()` is False and callers fall back to an executor.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from rclpy.context import Context

from telemetry.bridge.budget import BudgetSchedule
from telemetry.sim.schedule import DeadlineSchedule

try:
    from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy

    _WAIT_SET = _rclpy.WaitSet
    _RCL_ERROR: type[Exception] = _rclpy.RCLError
except (ImportError, AttributeError):  # pragma: no cover - depends on the installed rclpy
    _WAIT_SET = None
    _RCL_ERROR = RuntimeError

__all__ = ["BridgedSubscription", "Chore", "LeanNode", "SampleSink", "lean_spin", "lean_spin_available"]

_log = logging.getLogger(__name__)
_WAIT_TIMEOUT_NS = 100_000_000  # how often the loop looks at the shutdown flag

#: A raw subscription and the index of its stream in the forwarder and the schedule.
BridgedSubscription = tuple[Any, int]
#: Something the node does every `period_s` (report, look at the graph): (period_s, what).
Chore = tuple[float, Callable[[], None]]


class SampleSink(Protocol):
    """Where drained samples go (telemetry.net.forwarder.ZenohForwarder)."""

    def take(self, index: int, payloads: Sequence[bytes], source_numbers: Sequence[int] | None,
             receive_ns: int) -> None: ...

    def send(self, index: int) -> None: ...


class LeanNode(Protocol):
    """What the loop needs of the node it spins."""

    @property
    def context(self) -> Context: ...

    @property
    def chores(self) -> Sequence[Chore]: ...

    @property
    def bridged(self) -> Sequence[BridgedSubscription]: ...

    @property
    def sink(self) -> SampleSink: ...

    @property
    def schedule(self) -> BudgetSchedule: ...


def lean_spin_available() -> bool:
    return _WAIT_SET is not None


def lean_spin(node: LeanNode) -> None:
    """Serve the node's raw stream subscriptions and run its chores until rclpy shuts down.

    Subscriptions created while spinning (from a chore) are picked up on the next turn. The
    node's chores run here on their own deadlines rather than as rclpy timers: a timer is one
    more entity in every turn's wait set, and finding out which timer is ready costs a turn
    ~20 µs (measured), which at ~450 turns a second is 1 % of a core per bridge. Services,
    clients, timers and waitables are not served: create the node with
    `start_parameter_services=False` and subscriptions without event callbacks.
    """
    assert _WAIT_SET is not None
    context, sink, schedule = node.context, node.sink, node.schedule
    chores = list(node.chores)
    chore_deadlines = DeadlineSchedule([round(period_s * 1e9) for period_s, _ in chores], time.monotonic_ns(),
                                       max_catch_up_ns=0)
    sized_for = -1
    wait_set: Any = None
    by_pointer: dict[int, BridgedSubscription] = {}
    by_index: dict[int, Any] = {}
    try:
        while context.ok():
            streams = node.bridged
            if len(streams) != sized_for:
                sized_for = len(streams)
                wait_set = _WAIT_SET(len(streams), 0, 0, 0, 0, 0, context.handle)
                by_pointer = {subscription.handle.pointer: (subscription, index) for subscription, index in streams}
                by_index = {index: subscription for subscription, index in streams}
            now_ns = time.monotonic_ns()
            for index in schedule.due(now_ns):
                found, _ = _drain(by_index[index], index, sink)
                sink.send(index)
                schedule.drained(index, found > 0, time.monotonic_ns())
            next_chore_ns = _run_due_chores(chores, chore_deadlines, now_ns)
            wait_set.clear_entities()
            waited = 0
            for subscription, index in streams:
                if schedule.waits_for(index):
                    wait_set.add_subscription(subscription.handle)
                    waited += 1
            if not waited:  # every stream's batch is open (or there is none yet): nothing can wake us
                time.sleep(_timeout_ns(schedule, next_chore_ns) / 1e9)
                continue
            wait_set.wait(_timeout_ns(schedule, next_chore_ns))
            for pointer in wait_set.get_ready_entities("subscription"):
                subscription, index = by_pointer[pointer]
                found, first_arrival_ns = _drain(subscription, index, sink)
                if not found:
                    continue
                if schedule.budget_ns(index):
                    schedule.opened(index, first_arrival_ns)
                else:
                    sink.send(index)
    except KeyboardInterrupt:
        pass
    except _RCL_ERROR:
        if context.ok():
            raise


def _run_due_chores(chores: Sequence[Chore], deadlines: DeadlineSchedule, now_ns: int) -> int | None:
    """Run the chores whose time has come (a late one runs once, not once per missed period);
    returns the next chore's deadline."""
    if not chores:
        return None
    index, deadline_ns = deadlines.next_due()
    while deadline_ns <= now_ns:
        chores[index][1]()
        deadlines.mark_sent(index, now_ns)
        index, deadline_ns = deadlines.next_due()
    return deadline_ns


def _timeout_ns(schedule: BudgetSchedule, next_chore_ns: int | None) -> int:
    """Until the next batch or chore is due, and never longer than the shutdown check allows."""
    deadlines = [d for d in (schedule.next_deadline_ns(), next_chore_ns) if d is not None]
    if not deadlines:
        return _WAIT_TIMEOUT_NS
    return max(0, min(_WAIT_TIMEOUT_NS, min(deadlines) - time.monotonic_ns()))


def _drain(subscription: Any, index: int, sink: SampleSink) -> tuple[int, int]:
    """Take every sample the subscription holds and hand them over in one call.

    Returns how many, and when the oldest arrived on the monotonic clock (from the DDS
    reception timestamp, so a late wake-up does not extend the sample's budget).
    """
    take, msg_type = subscription.handle.take_message, subscription.msg_type
    payloads: list[bytes] = []
    numbers: list[int] = []
    first_info: dict[str, Any] | None = None
    while (taken := take(msg_type, True)) is not None:
        payload, info = taken
        if first_info is None:
            first_info = info
        payloads.append(payload)
        numbers.append(info["publication_sequence_number"])
    if first_info is None:
        return 0, 0
    now_ns, now_mono_ns = time.time_ns(), time.monotonic_ns()
    sink.take(index, payloads, numbers, now_ns)
    waited_ns = max(0, now_ns - int(first_info.get("received_timestamp") or now_ns))
    return len(payloads), now_mono_ns - waited_ns
