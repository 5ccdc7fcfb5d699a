#!/usr/bin/env python3
"""A minimal smtp-sidecar client for scripts/package-boot-test.sh.

Speaks the wire protocol of proto-spec/ (a 4-byte big-endian length, then one JSON
object) on a Unix socket, sends one request, and prints the response as one JSON line.
Exits 0 when a response came, 1 when none did (connection refused, closed, timed out).

  package-boot-client.py SOCKET hello
  package-boot-client.py SOCKET ping [DELAY_MS]
  package-boot-client.py SOCKET send PARAMS.json
  package-boot-client.py SOCKET stats

--timeout SECONDS (default 60) bounds the connect and the wait for the answer. The
socket path may go through /proc/PID/root/ to reach a container's socket from the host.
"""
import argparse
import json
import socket
import struct
import sys


def read_exactly(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(data)} of {count} bytes")
        data += chunk
    return data


def call(path, request, timeout):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        body = json.dumps(request).encode()
        sock.sendall(struct.pack(">I", len(body)) + body)
        (length,) = struct.unpack(">I", read_exactly(sock, 4))
        return json.loads(read_exactly(sock, length))
    finally:
        sock.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("socket")
    parser.add_argument("op", choices=["hello", "ping", "send", "stats"])
    parser.add_argument("arg", nargs="?")
    args = parser.parse_args()

    if args.op == "hello":
        request = {"id": 1, "op": "hello",
                   "params": {"versions": [1], "client": "package-boot-test/1"}}
    elif args.op == "ping":
        request = {"id": 2, "op": "ping",
                   "params": {"data": "boot", "delay_ms": int(args.arg or 0)}}
    elif args.op == "send":
        with open(args.arg) as f:
            request = {"id": "boot-send-1", "op": "send", "params": json.load(f)}
    else:
        request = {"id": 3, "op": "stats"}

    try:
        response = call(args.socket, request, args.timeout)
    except (OSError, ConnectionError, ValueError) as error:
        print(f"package-boot-client: {args.op}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(response))
    return 0


if __name__ == "__main__":
    sys.exit(main())
