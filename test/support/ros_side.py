"""The test's own ROS 2 node, in a private rclpy context on the test's domain.

Integration tests use it to play the parts the nodes under test meet on a real vehicle:
a driver publishing a topic that appears while the bridge runs, a faulty driver publishing
bytes that are not a valid message, an operator setting a parameter. Each probe owns its
context and shuts it down on exit, so tests on different domains never share DDS state,
and it installs no signal handlers (pytest keeps Ctrl-C).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import rclpy
from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue, SetParametersResult
from rcl_interfaces.srv import GetParameters, SetParameters
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, qos_profile_sensor_data
from rclpy.signals import SignalHandlerOptions
from rclpy.utilities import try_shutdown

from support.processes import wait_until

__all__ = ["RosProbe", "publish_until", "ros_probe"]


class RosProbe:
    """One node in its own context; `close()` destroys it and shuts the context down."""

    def __init__(self, domain_id: int, name: str = "test_probe") -> None:
        self.context = Context()
        rclpy.init(context=self.context, domain_id=domain_id, signal_handler_options=SignalHandlerOptions.NO)
        try:
            self.node = rclpy.create_node(name, context=self.context)
            self.executor = SingleThreadedExecutor(context=self.context)
            self.executor.add_node(self.node)
        except BaseException:
            try_shutdown(context=self.context)
            raise

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        try_shutdown(context=self.context)

    def publisher(self, msg_type: type, topic: str, qos: QoSProfile = qos_profile_sensor_data) -> Any:
        """A publisher on `topic`; its `publish(bytes)` sends serialized bytes as they are."""
        return self.node.create_publisher(msg_type, topic, qos)

    def call(self, service_type: type, service: str, request: Any, timeout_s: float = 10.0) -> Any:
        """Call a service once it exists; fails the test if it does not answer within `timeout_s`."""
        client = self.node.create_client(service_type, service)
        try:
            assert client.wait_for_service(timeout_sec=timeout_s), f"service {service} not available"
            future = client.call_async(request)
            self.executor.spin_until_future_complete(future, timeout_sec=timeout_s)
            assert future.done(), f"service {service} did not answer within {timeout_s} s"
            return future.result()
        finally:
            self.node.destroy_client(client)

    def set_parameters(
        self, node: str, values: Mapping[str, float], timeout_s: float = 10.0
    ) -> list[SetParametersResult]:
        """Set double parameters of another node through its `set_parameters` service."""
        request = SetParameters.Request()
        request.parameters = [
            Parameter(name=name, value=ParameterValue(type=ParameterType.PARAMETER_DOUBLE, double_value=float(value)))
            for name, value in values.items()
        ]
        response = self.call(SetParameters, f"/{node}/set_parameters", request, timeout_s)
        return list(response.results)

    def get_parameters(self, node: str, names: Sequence[str], timeout_s: float = 10.0) -> list[ParameterValue]:
        request = GetParameters.Request()
        request.names = list(names)
        return list(self.call(GetParameters, f"/{node}/get_parameters", request, timeout_s).values)


@contextmanager
def ros_probe(domain_id: int, name: str = "test_probe") -> Iterator[RosProbe]:
    probe = RosProbe(domain_id, name)
    try:
        yield probe
    finally:
        probe.close()


def publish_until(
    publish: Callable[[], None], done: Callable[[], bool], timeout_s: float, period_s: float = 0.02
) -> bool:
    """Call `publish()` every `period_s` until `done()` holds (True) or `timeout_s` passes (False).

    A topic that just appeared needs DDS discovery and the bridge's graph scan before its
    first sample can get through; a steady stream, as a driver sends, is what the test waits on.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        publish()
        if wait_until(done, period_s, interval_s=period_s / 4):
            return True
    return done()
