"""A stand-in for a ROS 2 node on rmw_zenoh: what such a robot puts on Zenoh, and nothing of ours.

rmw_zenoh cannot be installed here (no wheel, no Debian package), so the tests of rmw_zenoh
vehicles, and the demo's `--rmw-zenoh-vehicles`, run this process instead. It is written from
rmw_zenoh's design document and source as summarised in ../shared/notes/rmw_zenoh_wire.md:

- §1 the data key `<domain>/<fully qualified topic>/<dds type>/<RIHS01 hash>`;
- §2 the payload, plain little-endian CDR with its 4-byte header (sim/sensor_cdr's Imu,
  proven equal to rclpy's serialize_message);
- §3 the attachment, positional (33 bytes, Jazzy >= 0.2.4 and Kilted) or keyed (77 bytes,
  early Jazzy), with sequence numbers from 1 per publisher;
- §4 the node's and the publisher's liveliness tokens, undeclared when the node ends;
- §5 a peer session to the robot's router. The GID is 16 bytes of a hash of the publisher's
  token: rmw_zenoh uses XXH3-128, but peers never recompute it, so any unique value serves.

It lives in the package, not in test/support, because the demo runs it too. It lies on
purpose when told to: `--skip` leaves sequence numbers out (that many samples "lost"), and
`--attachment none|garbage` sends what a broken node would.

    rmw_zenoh_sim -e tcp/127.0.0.1:7448 --domain 0 --namespace /robot1 --rate 1000
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import zenoh

from telemetry.codec.rmw_zenoh import (
    EntityKind,
    LivelinessToken,
    QosProfile,
    data_key,
    pack_attachment,
    pack_keyed_attachment,
)
from telemetry.console import run_console, stop_on_signals
from telemetry.errors import TelemetryError
from telemetry.keys import namespace_name, topic_to_key
from telemetry.net.declarations import undeclare_all
from telemetry.net.session import open_session
from telemetry.net.zenoh_config import SessionOptions
from telemetry.sim.motion import model_for_vehicle
from telemetry.sim.schedule import run_on_deadlines
from telemetry.sim.sensor_cdr import ImuPacker
from telemetry.sim.sensors import IMU_TYPE

__all__ = ["ATTACHMENT_FORMS", "TYPE_HASHES", "RmwZenohNode", "main"]

_log = logging.getLogger(__name__)

#: RIHS01 hashes of the types this stand-in publishes (the notes' §6 table; the same for Jazzy
#: and Kilted; test/sim checks them against rclpy's own).
TYPE_HASHES = {IMU_TYPE: "RIHS01_7d9a00ff131080897a5ec7e26e315954b8eae3353c3f995c55faf71574000b5b"}
ATTACHMENT_FORMS = ("positional", "keyed", "none", "garbage")
#: What `ros2 topic info -v` would show for a sensor publisher: SensorDataQoS; or reliable and
#: keep-all, the one QoS that rmw_zenoh maps to Zenoh's congestion control BLOCK (notes §5).
_SENSOR_QOS = QosProfile(reliable=False, depth=5)
_KEEP_ALL_QOS = QosProfile(reliable=True, keep_all=True, depth=1000)
_ZENOH_ID_CHARS = 32


@dataclass(frozen=True)
class NodeSettings:
    domain_id: int
    namespace: str  # absolute, `/` for none
    node_name: str
    topic: str  # relative to the namespace, `/imu`
    rate_hz: float
    attachment: str = "positional"
    skip: frozenset[int] = frozenset()  # sequence numbers never sent
    keep_all: bool = False  # reliable, keep-all QoS (else SensorDataQoS)

    @property
    def full_topic(self) -> str:
        return self.topic if self.namespace == "/" else self.namespace + self.topic


class RmwZenohNode:
    """One node with one Imu publisher, on an open session: tokens while it runs, samples on deadlines."""

    def __init__(self, session: zenoh.Session, settings: NodeSettings) -> None:
        self._session = session
        self._settings = settings
        zid = str(session.info.zid()).rjust(_ZENOH_ID_CHARS, "0")
        node = LivelinessToken(settings.domain_id, zid, 0, 0, EntityKind.NODE, "/", settings.namespace,
                               settings.node_name)
        self.publisher_token = LivelinessToken(
            settings.domain_id, zid, 0, 1, EntityKind.PUBLISHER, "/", settings.namespace, settings.node_name,
            settings.full_topic, IMU_TYPE, TYPE_HASHES[IMU_TYPE], _KEEP_ALL_QOS if settings.keep_all else _SENSOR_QOS)
        self.gid = hashlib.blake2b(self.publisher_token.key().encode(), digest_size=16).digest()
        self.key = data_key(settings.domain_id, settings.full_topic, IMU_TYPE, TYPE_HASHES[IMU_TYPE])
        self._packer = ImuPacker(settings.namespace.strip("/") + "/" if settings.namespace != "/" else "")
        self._motion = model_for_vehicle(settings.namespace + settings.node_name)
        self._started_s = time.monotonic()
        self._declared: list[object] = [
            session.liveliness().declare_token(node.key()),
            session.liveliness().declare_token(self.publisher_token.key()),
        ]
        # As rmw_zenoh maps the QoS (notes §5): best effort and DROP, or reliable and BLOCK.
        reliability, congestion = ((zenoh.Reliability.RELIABLE, zenoh.CongestionControl.BLOCK) if settings.keep_all
                                   else (zenoh.Reliability.BEST_EFFORT, zenoh.CongestionControl.DROP))
        self._publisher = session.declare_publisher(self.key, reliability=reliability,
                                                    congestion_control=congestion, express=True)
        self.sent = 0

    def run(self, stop: threading.Event) -> None:
        run_on_deadlines(self._send, self._settings.rate_hz, stop)

    def close(self) -> None:
        undeclare_all([self._publisher, *self._declared])

    def _send(self, sequence: int) -> None:
        if sequence in self._settings.skip:
            return
        now_ns = time.time_ns()
        payload = self._packer.pack(self._motion.state_at(time.monotonic() - self._started_s), now_ns)
        self._publisher.put(payload, attachment=self._attachment(sequence, now_ns))
        self.sent += 1

    def _attachment(self, sequence: int, now_ns: int) -> bytes | None:
        form = self._settings.attachment
        if form == "positional":
            return pack_attachment(sequence, now_ns, self.gid)
        if form == "keyed":
            return pack_keyed_attachment(sequence, now_ns, self.gid)
        return None if form == "none" else b"\x01\x02\x03"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rmw_zenoh_sim", description=__doc__.split("\n\n")[0])
    parser.add_argument("-e", "--connect", action="append", required=True, metavar="ENDPOINT",
                        help="the robot's router (or its region's), e.g. tcp/127.0.0.1:7448")
    parser.add_argument("--mode", choices=("peer", "client"), default="peer",
                        help="peer, as rmw_zenoh's nodes are (default), or client")
    parser.add_argument("--domain", type=int, default=0, help="ROS_DOMAIN_ID: the first chunk of every key")
    parser.add_argument("--namespace", default="/", help="the node's namespace, e.g. /robot1")
    parser.add_argument("--node", default="imu_driver", help="node name (default imu_driver)")
    parser.add_argument("--topic", default="/imu", help="topic, relative to the namespace (default /imu)")
    parser.add_argument("--rate", type=float, default=1000.0, metavar="HZ", help="samples per second")
    parser.add_argument("--attachment", choices=ATTACHMENT_FORMS, default="positional",
                        help="positional (default), keyed (early Jazzy), none or garbage (a broken node)")
    parser.add_argument("--keep-all", action="store_true",
                        help="reliable, keep-all QoS (Zenoh congestion control BLOCK); default SensorDataQoS")
    parser.add_argument("--skip", default="", metavar="N,M,...", help="sequence numbers never sent")
    return parser


def settings_from_args(args: argparse.Namespace) -> NodeSettings:
    if args.rate <= 0:
        raise TelemetryError(f"--rate: must be > 0, got {args.rate:g}")
    try:
        skip = frozenset(int(n) for n in args.skip.split(",") if n.strip())
    except ValueError:
        raise TelemetryError(f"--skip: expected sequence numbers separated by commas, got {args.skip!r}") from None
    topic = "/" + topic_to_key(args.topic)
    return NodeSettings(args.domain, namespace_name(args.namespace), args.node, topic, args.rate, args.attachment,
                        skip, args.keep_all)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_console("rmw_zenoh_sim", lambda: _serve(args))


def _serve(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    stop = stop_on_signals()
    session = open_session(SessionOptions(mode=args.mode, connect=tuple(args.connect)))
    try:
        node = RmwZenohNode(session, settings)
        print(f"rmw_zenoh_sim {node.publisher_token.zid} publishing on {node.key}", flush=True)
        try:
            node.run(stop)
        finally:
            node.close()
            _log.info("sent %d samples", node.sent)
    finally:
        session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
