#!/usr/bin/env python3
"""A scripted hostile SMTP server: it speaks enough ESMTP to take a message (EHLO,
PIPELINING, optional CHUNKING, STARTTLS with a self-signed certificate, AUTH PLAIN and
LOGIN, DATA and BDAT) and misbehaves on demand at one point of the session, which no
real server does when asked. Standard library only (asyncio, ssl).

    hostile_smtp.py --port-file F [--events F] [--chunking] [--fault POINT:ACTION] ...

POINT is where the fault replaces the server's normal behaviour:

    greeting   before the 220 greeting
    ehlo       instead of the reply to the first EHLO
    starttls   instead of the 220 reply to STARTTLS
    tls        after the TLS handshake, instead of the reply to the EHLO that follows
    auth       instead of the first reply to AUTH (for LOGIN: mid-exchange, before the
               password prompt)
    mail       instead of the reply to MAIL FROM
    rcpt       instead of the reply to the first RCPT TO
    data       instead of the 354 reply to DATA
    body       mid-body: once at least --body-bytes of message data arrived (DATA or BDAT)
    dot        after the final dot (or the last BDAT chunk's bytes), before the reply
    idle       after a transaction's reply, once the session was idle --idle-ms (no 421)

ACTION is what the server does there:

    drop          close the connection without a word
    421           "421 4.3.2 ..." then close
    stall         say nothing, read and discard whatever comes, never close
    garbage       a line that is no SMTP reply, then keep reading
    overlong      a reply line of 70,000 bytes (with its CRLF)
    unterminated  "250 2.0.0 Ok" without a line end, then close
    unterminated-stall  the same, then stall
    tlsfail       (starttls only) 220, then a TLS fatal alert instead of a handshake
    inject        (starttls only) "220 ..." and, in the same write, plaintext replies
                  a client must discard (RFC 3207 section 6, CVE-2011-0411)
    reply=TEXT    the reply line TEXT (e.g. "reply=454 Throttling failure: Maximum sending rate
                  exceeded") in place of the normal one; the session goes on, or ends after a 421
    inject-late   (starttls only) the 220, then the injected plaintext in a second
                  write 50 ms later, before the client's TLS ClientHello is answered

`--fault greeting:421-busy` answers every connection with "421 4.7.0 Too many connections".
`--fault-connections N` applies the fault to the first N connections only (default all).

The listening port is written to --port-file once the server accepts connections. Events
(accept, close, fault fired, message received) are appended to --events, one line each,
so a test can check that the fault it asked for happened. SIGTERM stops the server.
"""

import argparse
import asyncio
import base64
import os
import signal
import socket
import ssl
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

POINTS = {"greeting", "ehlo", "starttls", "tls", "auth", "mail", "rcpt", "data", "body", "dot", "idle"}
ACTIONS = {"drop", "421", "421-busy", "stall", "garbage", "overlong", "unterminated", "unterminated-stall",
           "tlsfail", "inject", "inject-late"}

# A TLS record: alert (21), TLS 1.2, length 2, fatal (2) handshake_failure (40).
TLS_FATAL_ALERT = bytes([21, 3, 3, 0, 2, 2, 40])


class Dropped(Exception):
    """The scripted fault ended the session."""


class Events:
    def __init__(self, path):
        self.file = open(path, "a", buffering=1) if path else None

    def log(self, connection, text):
        if self.file:
            self.file.write(f"{connection} {text}\n")
            self.file.flush()


class Session:
    def __init__(self, server, number, reader, writer):
        self.server = server
        self.options = server.options
        self.number = number
        self.reader = reader
        self.writer = writer
        self.faulty = self.options.fault_connections <= 0 or number <= self.options.fault_connections
        self.tls = False
        self.seen_ehlo = False
        self.seen_rcpt = False
        self.in_transaction = False
        self.body_bytes = 0
        self.body_fault_fired = False

    def log(self, text):
        self.server.events.log(self.number, text)

    def fault_at(self, point):
        if self.faulty and self.options.point == point:
            return self.options.action
        return None

    async def send(self, data):
        self.writer.write(data)
        await self.writer.drain()

    async def reply(self, text):
        await self.send(text.encode() + b"\r\n")

    async def fire(self, point, action):
        """Does `action` in place of the normal reply at `point`. Returns only for actions
        after which the session goes on (garbage, overlong); raises Dropped otherwise."""
        self.log(f"fault {point} {action}")
        if action == "drop":
            raise Dropped()
        if action.startswith("reply="):
            text = action[len("reply="):]
            await self.reply(text)
            if text.startswith("421"):
                raise Dropped()
            return
        if action in ("421", "421-busy"):
            text = "421 4.7.0 Too many connections, try again later" if action == "421-busy" else \
                "421 4.3.2 Service shutting down, closing transmission channel"
            await self.reply(text)
            raise Dropped()
        if action == "stall" and point == "body":
            # Mid-body, a stall stops reading: the client's writes fill the buffers and block.
            await asyncio.sleep(3600)
            raise Dropped()
        if action == "stall":
            await self.discard_forever()
        if action == "garbage":
            await self.send(b"HELLO? this is not SMTP\r\n")
            return
        if action == "overlong":
            await self.send(b"250 " + b"x" * 70_000 + b"\r\n")
            return
        if action == "unterminated":
            await self.send(b"250 2.0.0 Ok")
            raise Dropped()
        if action == "unterminated-stall":
            await self.send(b"250 2.0.0 Ok")
            await self.discard_forever()
        raise ValueError(f"action {action} does not apply at {point}")

    async def discard_forever(self):
        """Reads and drops whatever comes until the client closes, which is logged."""
        while await self.reader.read(65536):
            pass
        self.log("eof")
        raise Dropped()

    def capabilities(self):
        lines = ["hostile.test greets you", "PIPELINING", "8BITMIME", "SIZE 52428800", "ENHANCEDSTATUSCODES"]
        if self.options.chunking:
            lines.append("CHUNKING")
        if not self.tls:
            lines.append("STARTTLS")
        lines.append("AUTH PLAIN LOGIN")
        return lines

    async def run(self):
        action = self.fault_at("greeting")
        if action:
            await self.fire("greeting", action)
        await self.reply("220 hostile.test ESMTP scripted")
        while True:
            line = await self.read_line()
            if line is None:
                return
            await self.command(line)

    async def read_line(self):
        """One command line, or None at EOF. While idle after a transaction, an `idle`
        fault closes the connection silently once --idle-ms passed."""
        action = self.fault_at("idle")
        if action and self.server.messages_on[self.number] > 0 and not self.in_transaction:
            try:
                line = await asyncio.wait_for(self.reader.readline(), self.options.idle_ms / 1000)
            except asyncio.TimeoutError:
                await self.fire("idle", action)
                raise
        else:
            line = await self.reader.readline()
        if not line:
            return None
        if not line.endswith(b"\n"):
            return None
        return line.rstrip(b"\r\n").decode("utf-8", "replace")

    async def command(self, line):
        verb = line.split(" ", 1)[0].upper()
        argument = line[len(verb):].strip()
        if verb in ("EHLO", "HELO"):
            point = "tls" if self.tls else "ehlo"
            action = self.fault_at(point)
            if action:
                await self.fire(point, action)
                return
            self.seen_ehlo = True
            lines = self.capabilities()
            await self.send(b"".join(
                f"250{'-' if i < len(lines) - 1 else ' '}{text}\r\n".encode() for i, text in enumerate(lines)))
        elif verb == "STARTTLS":
            await self.starttls()
        elif verb == "AUTH":
            await self.auth(argument)
        elif verb == "MAIL":
            action = self.fault_at("mail")
            if action:
                await self.fire("mail", action)
                return
            self.in_transaction = True
            self.seen_rcpt = False
            await self.reply("250 2.1.0 Ok")
        elif verb == "RCPT":
            action = None if self.seen_rcpt else self.fault_at("rcpt")
            self.seen_rcpt = True
            if action:
                await self.fire("rcpt", action)
                return
            await self.reply("250 2.1.5 Ok")
        elif verb == "DATA":
            await self.data()
        elif verb == "BDAT":
            await self.bdat(argument)
        elif verb == "RSET":
            self.in_transaction = False
            await self.reply("250 2.0.0 Ok")
        elif verb == "NOOP":
            await self.reply("250 2.0.0 Ok")
        elif verb == "QUIT":
            self.log("quit")
            await self.reply("221 2.0.0 Bye")
            raise Dropped()
        else:
            await self.reply("502 5.5.2 Command not recognized")

    async def starttls(self):
        action = self.fault_at("starttls")
        if action in ("tlsfail", "inject", "inject-late"):
            self.log(f"fault starttls {action}")
            if action == "tlsfail":
                await self.send(b"220 2.0.0 Ready to start TLS\r\n")
                await asyncio.sleep(0.05)
                await self.send(TLS_FATAL_ALERT)
                raise Dropped()
            injected = b"250-hostile.test\r\n250 AUTH PLAIN\r\n"
            if action == "inject":
                await self.send(b"220 2.0.0 Ready to start TLS\r\n" + injected)
            else:
                await self.send(b"220 2.0.0 Ready to start TLS\r\n")
                await asyncio.sleep(0.05)
                await self.send(injected)
            # Whatever the client does now (a ClientHello, or closing), nothing useful follows.
            await self.discard_forever()
        if action:
            await self.fire("starttls", action)
            return
        await self.reply("220 2.0.0 Ready to start TLS")
        await self.writer.start_tls(self.server.tls_context)
        self.tls = True
        self.seen_ehlo = False
        self.log("tls")

    async def auth(self, argument):
        action = self.fault_at("auth")
        if action:
            await self.fire("auth", action)
            return
        parts = argument.split(" ", 1)
        mechanism = parts[0].upper()
        initial = parts[1] if len(parts) > 1 else None
        if mechanism == "PLAIN":
            if initial is None:
                await self.reply("334 ")
                initial = await self.read_line()
        elif mechanism == "LOGIN":
            if initial is None:
                await self.reply("334 " + base64.b64encode(b"Username:").decode())
                await self.read_line()
            await self.reply("334 " + base64.b64encode(b"Password:").decode())
            await self.read_line()
        else:
            await self.reply("504 5.5.4 Unrecognized authentication type")
            return
        self.log(f"auth {mechanism}")
        await self.reply("235 2.7.0 Authentication successful")

    async def count_body(self, size):
        """Counts message bytes; fires a `body` fault once enough arrived."""
        self.body_bytes += size
        if not self.body_fault_fired and self.body_bytes >= self.options.body_bytes:
            action = self.fault_at("body")
            if action:
                self.body_fault_fired = True
                await self.fire("body", action)

    async def data(self):
        action = self.fault_at("data")
        if action:
            await self.fire("data", action)
            return
        await self.reply("354 End data with <CR><LF>.<CR><LF>")
        self.body_bytes = 0
        while True:
            line = await self.reader.readline()
            if not line:
                raise Dropped()
            if line in (b".\r\n", b".\n"):
                break
            await self.count_body(len(line))
        await self.end_of_message()

    async def bdat(self, argument):
        parts = argument.split()
        size = int(parts[0])
        last = len(parts) > 1 and parts[1].upper() == "LAST"
        remaining = size
        while remaining > 0:
            chunk = await self.reader.read(min(remaining, 65536))
            if not chunk:
                raise Dropped()
            remaining -= len(chunk)
            await self.count_body(len(chunk))
        if last:
            await self.end_of_message()
        else:
            await self.reply(f"250 2.0.0 {size} octets received")

    async def end_of_message(self):
        self.log(f"body {self.body_bytes}")
        action = self.fault_at("dot")
        if action:
            await self.fire("dot", action)
            return
        self.server.messages += 1
        self.server.messages_on[self.number] += 1
        self.in_transaction = False
        self.body_bytes = 0
        self.body_fault_fired = False
        self.log(f"queued {self.server.messages}")
        await self.reply(f"250 2.0.0 Ok: queued as HOSTILE{self.server.messages}")


class Server:
    def __init__(self, options):
        self.options = options
        self.events = Events(options.events)
        self.connections = 0
        self.messages = 0
        self.messages_on = {}
        self.tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.tls_context.load_cert_chain(options.cert, options.key)

    async def handle(self, reader, writer):
        self.connections += 1
        number = self.connections
        self.messages_on[number] = 0
        session = Session(self, number, reader, writer)
        self.events.log(number, "accept")
        try:
            await session.run()
        except (Dropped, asyncio.TimeoutError):
            pass
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError) as error:
            self.events.log(number, f"error {type(error).__name__}")
        finally:
            self.events.log(number, "close")
            try:
                writer.close()
            except Exception:
                pass


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True, help="where to write the listening port")
    parser.add_argument("--events", help="append one line per event here")
    parser.add_argument("--chunking", action="store_true", help="advertise CHUNKING (BDAT)")
    parser.add_argument("--fault", default="", help="POINT:ACTION, e.g. dot:drop")
    parser.add_argument("--fault-connections", type=int, default=0, help="fault only the first N connections")
    parser.add_argument("--body-bytes", type=int, default=65536, help="message bytes before a body fault")
    parser.add_argument("--rcvbuf", type=int, default=0,
                        help="SO_RCVBUF of accepted sockets (small: a mid-body fault comes before the client finished writing)")
    parser.add_argument("--idle-ms", type=int, default=300, help="idle time before an idle fault")
    parser.add_argument("--cert", default=os.path.join(HERE, "server.pem"))
    parser.add_argument("--key", default=os.path.join(HERE, "server.key"))
    options = parser.parse_args()
    options.point = options.action = None
    if options.fault:
        point, _, action = options.fault.partition(":")
        if point not in POINTS or (action not in ACTIONS and not action.startswith("reply=")):
            parser.error(f"unknown fault {options.fault!r}")
        options.point, options.action = point, action
    return options


async def main():
    options = parse()
    # A test runner may start us with SIGTERM blocked (a thread's mask is inherited).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    server = Server(options)
    family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if options.rcvbuf:
        # Set before listen(), so accepted sockets inherit it and the window stays small.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, options.rcvbuf)
    sock.bind((options.host, options.port))
    sock.listen(64)
    listener = await asyncio.start_server(server.handle, sock=sock)
    port = listener.sockets[0].getsockname()[1]
    temporary = options.port_file + ".tmp"
    with open(temporary, "w") as f:
        f.write(f"{port}\n")
    os.rename(temporary, options.port_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    async with listener:
        await stop.wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
