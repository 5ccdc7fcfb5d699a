#!/usr/bin/env python3
"""The workload of sidecar-bench (Sources/sidecar-bench) through this client, for
scripts/bench/clients.sh: N workers, each sending one message after the other (so N in
flight), the same send params, body and per-message idempotency key, duplicate
suppression left at the daemon's default. Prints sidecar-bench's result line.

    load.py --socket S --request FILE [--mode async|sync] [--clients 16] [--messages 1600]
            [--warmup 5] [--size 2048] [--label TEXT] [--max-connections 4]

async: one AsyncSidecarClient, N tasks. sync: one SidecarClient shared by N threads.
"""
import argparse
import asyncio
import json
import os
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import smtp_sidecar as ss  # noqa: E402


def percentile(xs, p):
    """sidecar-bench's: the smallest value with at least p % of the values at or below it."""
    if not xs:
        return float("nan")
    rank = min(len(xs) - 1, max(0, -(-p * len(xs) // 100) - 1))
    return xs[int(rank)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--request", required=True)
    ap.add_argument("--mode", choices=("async", "sync"), default="async")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--messages", type=int, default=1600)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--label", default=None)
    ap.add_argument("--max-connections", type=int, default=4, help="the client's pool (its default: 4)")
    a = ap.parse_args()
    with open(a.request) as f:
        template = json.load(f)
    template["text"] = "The quick brown fox jumps over the lazy dog.\n" * max(1, a.size // 45)
    template.pop("dedup_window_seconds", None)  # the daemon's default: duplicate suppression on
    per_client = -(-a.messages // a.clients)

    def params(client, index):
        p = dict(template)
        p["context"] = {"idempotency_key": f"bench-{client}-{index}-{uuid.uuid4()}"}
        return p

    results = []  # (latencies, failures) per worker
    lock = threading.Lock()

    async def worker_async(c, client):
        lat, failed = [], 0
        for i in range(per_client + a.warmup):
            p = params(c, i)
            t = time.perf_counter()
            try:
                await c_send(client, p)
                ok = True
            except ss.SidecarError as e:
                ok = False
                if failed == 0:
                    print(f"send failed: {e!r}", file=sys.stderr)
            el = (time.perf_counter() - t) * 1000
            if i < a.warmup:
                continue
            if ok:
                lat.append(el)
            else:
                failed += 1
        return lat, failed

    async def c_send(client, p):
        return await client.send(p)

    def worker_sync(c, client):
        lat, failed = [], 0
        for i in range(per_client + a.warmup):
            p = params(c, i)
            t = time.perf_counter()
            try:
                client.send(p)
                ok = True
            except ss.SidecarError as e:
                ok = False
                if failed == 0:
                    print(f"send failed: {e!r}", file=sys.stderr)
            el = (time.perf_counter() - t) * 1000
            if i < a.warmup:
                continue
            if ok:
                lat.append(el)
            else:
                failed += 1
        with lock:
            results.append((lat, failed))

    if a.mode == "async":
        async def run():
            async with ss.AsyncSidecarClient(a.socket, max_connections=a.max_connections) as client:
                await client.hello()
                t0 = time.perf_counter()
                res = await asyncio.gather(*(worker_async(c, client) for c in range(a.clients)))
                return res, time.perf_counter() - t0
        res, wall = asyncio.run(run())
        results.extend(res)
    else:
        with ss.SidecarClient(a.socket, max_connections=a.max_connections) as client:
            client.hello()
            threads = [threading.Thread(target=worker_sync, args=(c, client)) for c in range(a.clients)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
    lat = sorted(x for l, _ in results for x in l)
    failures = sum(f for _, f in results)
    sent = len(lat)
    share = sent / (sent + a.warmup * a.clients) if sent else 1
    rate = sent / (wall * share) if sent else 0.0
    label = a.label or f"python {a.mode}"
    print(f"{label:<34} {sent:6d} msgs {rate:8.1f} msg/s  p50 {percentile(lat, 50):7.2f} ms  "
          f"p90 {percentile(lat, 90):7.2f} ms  p99 {percentile(lat, 99):7.2f} ms  failures {failures}")


if __name__ == "__main__":
    main()
