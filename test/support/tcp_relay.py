"""A TCP relay that plays a bad WAN link between two Zenoh routers: delay, drop, stall.

Kernel network emulation (netem) is not available here, so the tests put this relay on the
one hop a WAN would be: a regional router connects to the relay's port, and the relay
forwards each connection to the cloud router. It runs its own asyncio loop in a daemon
thread, so a synchronous test drives it with plain method calls:

- `set_delay(0.04)`: every chunk is held 40 ms in each direction. Each chunk is stamped when
  it is read and written at stamp + delay, in order, so the byte stream stays intact (a
  delay, never reordering or loss: what a longer path does to TCP).
- `drop()`: both sockets of every open connection are closed at once, and whatever the relay
  still held is thrown away, as when a middlebox forgets the flow; new connections are
  still accepted.
- `pause()` / `resume()`: nothing is read or written while paused, but the sockets stay
  open: the link stalls, the buffers on the way fill, and the senders see back-pressure.
  `buffer_bytes` caps what the relay itself buffers (its sockets' kernel buffers and
  asyncio's); the sender's own socket buffer is the sender's to cap (Linux grows it to
  4 MB on loopback, seconds of telemetry; Zenoh's `so_sndbuf` endpoint option caps it).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Self, TypedDict, TypeVar

__all__ = ["RelayCounters", "TcpRelay"]

_T = TypeVar("_T")
_CHUNK_BYTES = 65536
#: (due time on the monotonic clock, bytes); bytes None: the sender said goodbye.
_Chunk = tuple[float, bytes | None]


class _ReaderLimit(TypedDict, total=False):
    """The `limit` keyword of asyncio's start_server / open_connection, when one is set."""

    limit: int


@dataclass
class RelayCounters:
    """What went through the relay since it started (bytes are counted when written)."""

    accepted: int = 0
    dropped: int = 0  # connections closed by `drop()`
    upstream_bytes: int = 0  # client (regional router) -> target (cloud router)
    downstream_bytes: int = 0


@dataclass(eq=False)  # hashed by identity: links live in a set
class _Link:
    """One relayed connection: both streams and the tasks pumping between them."""

    client: asyncio.StreamWriter
    target: asyncio.StreamWriter
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def abort(self) -> None:
        for writer in (self.client, self.target):
            writer.transport.abort()
        for task in self.tasks:
            task.cancel()


class TcpRelay:
    """Listens on a free port of 127.0.0.1 and relays each connection to `target_host`:`target_port`.

    Use as a context manager; `endpoint` is the Zenoh locator to connect to it."""

    def __init__(self, target_host: str, target_port: int, *, buffer_bytes: int | None = None) -> None:
        self.target = (target_host, target_port)
        self.buffer_bytes = buffer_bytes
        self.counters = RelayCounters()
        self.port = 0
        self._delay_s = 0.0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-relay", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._links: set[_Link] = set()
        self._flowing: asyncio.Event | None = None  # set: data flows; clear: stalled

    # --- lifecycle (called from the test's thread) --------------------------------------

    def __enter__(self) -> Self:
        self._thread.start()
        self.port = self._call(self._start())
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the listener and every connection, then stop the loop's thread."""
        if not self._thread.is_alive():
            return
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    @property
    def endpoint(self) -> str:
        return f"tcp/127.0.0.1:{self.port}"

    @property
    def connections(self) -> int:
        """Connections open now."""
        return self._call(self._count())

    # --- faults ------------------------------------------------------------------------

    def set_delay(self, delay_s: float) -> None:
        """Hold every chunk `delay_s` in each direction from now on (0: forward at once)."""
        if delay_s < 0:
            raise ValueError(f"delay must be >= 0 s, got {delay_s}")
        self._delay_s = delay_s  # a float store is atomic; the pumps read it per chunk

    def drop(self) -> int:
        """Close both sockets of every open connection now; how many were closed."""
        return self._call(self._drop())

    def pause(self) -> None:
        """Stall: stop reading and writing on every connection, keeping the sockets open."""
        self._call(self._set_flowing(False))

    def resume(self) -> None:
        self._call(self._set_flowing(True))

    # --- the loop's side -----------------------------------------------------------------

    def _call(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=5)

    async def _start(self) -> int:
        self._flowing = asyncio.Event()
        self._flowing.set()
        server = await asyncio.start_server(self._accept, "127.0.0.1", 0, **self._reader_limit())
        self._server = server
        return int(server.sockets[0].getsockname()[1])

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = [task for link in self._links for task in link.tasks]
        await self._drop()
        await asyncio.gather(*tasks, return_exceptions=True)  # let the cancellations land

    async def _count(self) -> int:
        return len(self._links)

    async def _drop(self) -> int:
        links = list(self._links)
        self._links.clear()
        for link in links:
            link.abort()
        self.counters.dropped += len(links)
        return len(links)

    async def _set_flowing(self, flowing: bool) -> None:
        assert self._flowing is not None
        if flowing:
            self._flowing.set()
        else:
            self._flowing.clear()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.counters.accepted += 1
        self._limit_buffers(client_writer)
        try:
            target_reader, target_writer = await asyncio.open_connection(*self.target, **self._reader_limit())
        except OSError:
            client_writer.transport.abort()  # nothing to relay to: the client sees a refused link
            return
        self._limit_buffers(target_writer)
        link = _Link(client_writer, target_writer)
        upstream: asyncio.Queue[_Chunk] = asyncio.Queue()
        downstream: asyncio.Queue[_Chunk] = asyncio.Queue()
        senders = [
            asyncio.create_task(self._send(upstream, target_writer, upstream=True)),
            asyncio.create_task(self._send(downstream, client_writer, upstream=False)),
        ]
        link.tasks = [
            *senders,
            asyncio.create_task(self._read(client_reader, upstream)),
            asyncio.create_task(self._read(target_reader, downstream)),
        ]
        self._links.add(link)
        # A side that said goodbye (its sender got the end marker) or failed ends the link,
        # and the other side is closed as a router at either end would see it.
        await asyncio.wait(senders, return_when=asyncio.FIRST_COMPLETED)
        if link in self._links:
            self._links.discard(link)
            link.abort()

    def _reader_limit(self) -> _ReaderLimit:
        """asyncio's read buffer holds at most `buffer_bytes` too (its default is 64 kB)."""
        return {} if self.buffer_bytes is None else {"limit": self.buffer_bytes}

    def _limit_buffers(self, writer: asyncio.StreamWriter) -> None:
        if self.buffer_bytes is None:
            return
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.buffer_bytes)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.buffer_bytes)
        # asyncio's own write buffer must not absorb what the kernel's would not.
        writer.transport.set_write_buffer_limits(high=self.buffer_bytes)

    async def _read(self, reader: asyncio.StreamReader, queue: asyncio.Queue[_Chunk]) -> None:
        """Read chunks (only while flowing) and queue each with the time it is due; None at the end."""
        try:
            while True:
                await self._wait_flowing()
                chunk = await reader.read(_CHUNK_BYTES)
                if not chunk:
                    break
                queue.put_nowait((time.monotonic() + self._delay_s, chunk))
        except ConnectionError:
            pass  # reset by the peer: the end of this direction, like EOF
        queue.put_nowait((time.monotonic() + self._delay_s, None))

    async def _send(self, queue: asyncio.Queue[_Chunk], writer: asyncio.StreamWriter, upstream: bool) -> None:
        """Write queued chunks in order, each no earlier than its due time, and only while flowing."""
        while True:
            due_s, chunk = await queue.get()
            wait_s = due_s - time.monotonic()
            if wait_s > 0:
                await asyncio.sleep(wait_s)
            await self._wait_flowing()
            if chunk is None:
                return
            try:
                writer.write(chunk)
                await writer.drain()
            except ConnectionError:
                return
            if upstream:
                self.counters.upstream_bytes += len(chunk)
            else:
                self.counters.downstream_bytes += len(chunk)

    async def _wait_flowing(self) -> None:
        assert self._flowing is not None
        await self._flowing.wait()
