#!/usr/bin/env python3
"""16 concurrent sends: a hand-written raw-socket baseline vs the client (async and sync).

    python3 bench/bench.py --socket S --postfix-dir DIR [--rounds 20] [--concurrency 16]

DIR is a running scripts/postfix-harness.sh instance (--discard recommended). Prints the
p50/p90 latency of one send for each way and the client's overhead on p50.
"""
import argparse
import asyncio
import json
import os
import socket
import statistics
import struct
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import smtp_sidecar as ss  # noqa: E402


def env_of(d):
    out = {}
    for f in ("ports.env", "users.env"):
        for line in open(os.path.join(d, f)):
            if "=" in line:
                k, v = line.strip().split("=", 1)
                out[k] = v
    return out


def params(env, i, tag):
    return {
        "workspace_id": "bench",
        "credential": {"id": "bench", "host": env["SMTP_HOST"], "port": int(env["SUBMISSION_PORT"]), "security": "starttls",
                       "username": env["SMTP_USER"], "password": env["SMTP_PASSWORD"],
                       "tls": {"ca_pem": open(env["SMTP_CA_FILE"]).read(), "server_name": env.get("SMTP_TLS_NAME", "localhost")}},
        "from": env["SMTP_USER"], "to": "bench@example.test", "subject": f"bench {tag} {i}", "text": "x",
        "dedup_window_seconds": 0,
    }


def raw_round(sock_path, env, n, tag):
    """Baseline: one connection, hello, n pipelined sends, answers matched by id."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_path)

    def send(obj):
        p = json.dumps(obj).encode()
        s.sendall(struct.pack(">I", len(p)) + p)

    buf = b""

    def recv():
        nonlocal buf
        while True:
            if len(buf) >= 4:
                (ln,) = struct.unpack(">I", buf[:4])
                if len(buf) >= 4 + ln:
                    obj = json.loads(buf[4:4 + ln])
                    buf = buf[4 + ln:]
                    return obj
            buf += s.recv(65536)

    send({"id": 0, "op": "hello", "params": {"versions": [1]}})
    recv()
    start = {}
    lat = []
    for i in range(1, n + 1):
        start[i] = time.perf_counter()
        send({"id": i, "op": "send", "params": params(env, i, tag)})
    for _ in range(n):
        r = recv()
        assert r["ok"], r
        lat.append(time.perf_counter() - start[r["id"]])
    s.close()
    return lat


async def async_round(client, env, n, tag):
    async def one(i):
        t = time.perf_counter()
        await client.send(params(env, i, tag))
        return time.perf_counter() - t
    return await asyncio.gather(*(one(i) for i in range(n)))


def sync_round(client, env, n, tag):
    lat = []
    lock = threading.Lock()

    def one(i):
        t = time.perf_counter()
        client.send(params(env, i, tag))
        with lock:
            lat.append(time.perf_counter() - t)

    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    return lat


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--postfix-dir", required=True)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--concurrency", type=int, default=16)
    a = ap.parse_args()
    env = env_of(a.postfix_dir)
    run = uuid.uuid4().hex[:8]
    res = {"raw": [], "async": [], "sync": []}
    ac = None
    loop = asyncio.new_event_loop()
    ac = loop.run_until_complete(_make(a.socket))
    sc = ss.SidecarClient(a.socket, max_connections=1)
    # warm up the daemon's SMTP pool and both clients
    raw_round(a.socket, env, a.concurrency, f"{run}-w")
    loop.run_until_complete(async_round(ac, env, a.concurrency, f"{run}-wa"))
    sync_round(sc, env, a.concurrency, f"{run}-ws")
    ways = {
        "raw": lambda r: raw_round(a.socket, env, a.concurrency, f"{run}-r{r}"),
        "async": lambda r: loop.run_until_complete(async_round(ac, env, a.concurrency, f"{run}-a{r}")),
        "sync": lambda r: sync_round(sc, env, a.concurrency, f"{run}-s{r}"),
    }
    order = list(ways)
    for r in range(a.rounds):  # interleaved and rotated, so drift and position hit all three alike
        for k in order[r % 3:] + order[: r % 3]:
            res[k] += ways[k](r)
    loop.run_until_complete(ac.close())
    sc.close()
    base = statistics.median(res["raw"]) * 1000
    print(f"{'way':<8} {'n':>5} {'p50 ms':>8} {'p90 ms':>8} {'p50 vs raw':>11}")
    for k, v in res.items():
        p50 = statistics.median(v) * 1000
        print(f"{k:<8} {len(v):>5} {p50:>8.2f} {pct(v, 0.9):>8.2f} {100 * (p50 - base) / base:>+10.1f}%")


async def _make(path):
    return ss.AsyncSidecarClient(path, max_connections=1)


if __name__ == "__main__":
    main()
