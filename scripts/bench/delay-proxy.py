#!/usr/bin/env python3
"""A TCP proxy that adds a fixed round-trip time, for scripts/bench.sh.

The kernel on the benchmark machines has no `netem` (tc qdisc ... netem delay), so the
benchmark simulates network latency here instead: every chunk read from either side is
delivered to the other side rtt/2 later (monotonic clock), in order, each at its own due
time (a chunk that arrives while an earlier one waits is not delayed any further).
EOF (half-close) is forwarded once the chunks before it are delivered; an error (reset)
on either side closes both, after the chunks that side sent before it (as on a real
wire). Backpressure: a side is not read while the other is not keeping up. TCP_NODELAY
on every socket. At --rtt-ms 0 chunks are written
straight through (no timer), so the proxy's own cost stays in the tens of microseconds.

    delay-proxy.py --listen 127.0.0.1:0 --target 127.0.0.1:587 --rtt-ms 20

The first line on stdout is the bound listening port (useful with port 0).
"""
import argparse
import asyncio
import collections
import select
import selectors
import signal
import socket
import sys

# Stop reading from a side while this much is queued (or buffered) towards the other.
HIGH_WATER = 4 * 1024 * 1024
LOW_WATER = 1024 * 1024
_EOF = None  # queue markers
_RESET = False


def parse_address(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def set_nodelay(transport):
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


class PreciseEpollSelector(selectors.EpollSelector):
    """epoll_wait() takes whole milliseconds and asyncio rounds timeouts up, so every timer
    would fire up to 1 ms late (about +1 ms per simulated round trip). Wait on the epoll
    descriptor with select() instead (microsecond timeout), then collect the events."""

    def select(self, timeout=None):
        if timeout is not None and timeout > 0 and self._selector.fileno() < 1024:
            select.select([self._selector.fileno()], [], [], timeout)
            timeout = 0
        return super().select(timeout)


class Direction:
    """One way of a proxied connection: chunks from `source` written to `sink` after `delay`."""

    def __init__(self, loop, delay, pair):
        self.loop = loop
        self.delay = delay
        self.pair = pair
        self.source = None  # Side whose reads feed this direction
        self.sink = None  # Side written to
        self.queue = collections.deque()  # (due, bytes or _EOF)
        self.queued = 0
        self.timer = None
        self.eof_sent = False
        self.dead = False  # the sink is gone: drop everything
        self.source_paused = False  # paused by our flow control
        self.sink_blocked = False  # sink transport asked us to pause

    def push(self, data):
        if self.pair.closed or self.dead:
            return
        if self.delay <= 0 and not self.queue:
            self._deliver(data)
            return
        self.queue.append((self.loop.time() + self.delay, data))
        if data:
            self.queued += len(data)
        if self.timer is None:
            self.timer = self.loop.call_at(self.queue[0][0], self._flush)
        self._update_flow()

    def _flush(self):
        self.timer = None
        if self.pair.closed:
            return
        now = self.loop.time()
        while self.queue and self.queue[0][0] <= now:
            _, data = self.queue.popleft()
            if data:
                self.queued -= len(data)
            self._deliver(data)
            if self.pair.closed:
                return
        if self.queue:
            self.timer = self.loop.call_at(self.queue[0][0], self._flush)
        self._update_flow()

    def _deliver(self, data):
        transport = self.sink.transport
        if transport is None:  # not connected (cannot happen: the client is paused until then)
            self.pair.close()
        elif data is _EOF:
            self.eof_sent = True
            try:
                if transport.can_write_eof():
                    transport.write_eof()
            except OSError:
                pass  # the peer is already gone; its connection_lost follows
            self.pair.maybe_done()
        elif data is _RESET:
            self.pair.close()
        else:
            transport.write(data)

    def _update_flow(self):
        source = self.source.transport
        want_pause = self.sink_blocked or self.queued > HIGH_WATER
        if want_pause and not self.source_paused:
            self.source_paused = True
            if source.is_reading():
                source.pause_reading()
        elif self.source_paused and not self.sink_blocked and self.queued <= LOW_WATER:
            self.source_paused = False
            if not self.source.got_eof and not source.is_closing():
                source.resume_reading()

    def sink_pause(self):
        self.sink_blocked = True
        self._update_flow()

    def sink_resume(self):
        self.sink_blocked = False
        self._update_flow()

    def cancel(self):
        self.dead = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.queue.clear()


class Side(asyncio.Protocol):
    def __init__(self, pair):
        self.pair = pair
        self.transport = None
        self.outbound = None  # Direction fed by this side's reads
        self.inbound = None  # Direction written to this side
        self.got_eof = False

    def connection_made(self, transport):
        self.transport = transport
        set_nodelay(transport)
        if self is self.pair.client:
            transport.pause_reading()  # until the upstream connection is up
            self.pair.connecting = self.pair.loop.create_task(self.pair.connect())

    def data_received(self, data):
        # Acknowledge at once, as the sidecar does: a delayed ACK here would hold up a
        # server's Nagle-buffered second write (a TLS flight) by 40 ms, which no real
        # network path adds. Linux only; the kernel clears the flag again by itself.
        sock = self.transport.get_extra_info("socket") if self.transport is not None else None
        if sock is not None and hasattr(socket, "TCP_QUICKACK") and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            except OSError:
                pass
        self.outbound.push(data)

    def eof_received(self):
        self.got_eof = True
        self.outbound.push(_EOF)
        return True  # keep the transport open: half-close

    def connection_lost(self, exc):
        self.pair.side_lost(self, exc)

    def pause_writing(self):
        self.inbound.sink_pause()

    def resume_writing(self):
        self.inbound.sink_resume()


class Pair:
    """A client connection and its upstream connection."""

    def __init__(self, loop, delay, target):
        self.loop = loop
        self.target = target
        self.closed = False
        self.connecting = None  # keeps the connect task referenced
        self.client = Side(self)
        self.server = Side(self)
        self.up = Direction(loop, delay, self)  # client -> server
        self.down = Direction(loop, delay, self)  # server -> client
        self.up.source, self.up.sink = self.client, self.server
        self.down.source, self.down.sink = self.server, self.client
        self.client.outbound, self.client.inbound = self.up, self.down
        self.server.outbound, self.server.inbound = self.down, self.up

    async def connect(self):
        try:
            await self.loop.create_connection(lambda: self.server, *self.target)
        except OSError as error:
            print(f"delay-proxy: cannot connect to {self.target[0]}:{self.target[1]}: {error}",
                  file=sys.stderr, flush=True)
            self.close()
            return
        if self.closed:
            self.server.transport.abort()
            return
        self.client.transport.resume_reading()

    def maybe_done(self):
        if self.up.eof_sent and self.down.eof_sent:
            self.close(graceful=True)

    def side_lost(self, side, exc):
        if self.closed:
            return
        # Nothing more can be written to this side; what it sent before is still delivered
        # to the other side, followed by an EOF (clean close) or an abort (error, reset).
        side.inbound.cancel()
        side.inbound.eof_sent = True
        if not side.got_eof:
            side.got_eof = True
            side.outbound.push(_EOF if exc is None else _RESET)
        self.maybe_done()

    def close(self, graceful=False):
        if self.closed:
            return
        self.closed = True
        self.up.cancel()
        self.down.cancel()
        for side in (self.client, self.server):
            if side.transport is not None and not side.transport.is_closing():
                if graceful:
                    side.transport.close()
                else:
                    side.transport.abort()


async def main():
    parser = argparse.ArgumentParser(description="TCP proxy adding a fixed RTT (no netem here)")
    parser.add_argument("--listen", type=parse_address, required=True, metavar="HOST:PORT")
    parser.add_argument("--target", type=parse_address, required=True, metavar="HOST:PORT")
    parser.add_argument("--rtt-ms", type=float, required=True, metavar="N")
    args = parser.parse_args()
    if args.rtt_ms < 0:
        parser.error("--rtt-ms must be >= 0")
    loop = asyncio.get_running_loop()
    delay = args.rtt_ms / 2000.0

    def new_connection():
        return Pair(loop, delay, args.target).client

    server = await loop.create_server(new_connection, *args.listen, reuse_address=True, backlog=512)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = loop.create_future()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: stop.done() or stop.set_result(None))
    await stop
    server.close()


if __name__ == "__main__":
    event_loop = asyncio.SelectorEventLoop(PreciseEpollSelector() if hasattr(selectors, "EpollSelector") else None)
    asyncio.set_event_loop(event_loop)
    try:
        event_loop.run_until_complete(main())
    finally:
        event_loop.close()

