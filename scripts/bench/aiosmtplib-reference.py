#!/usr/bin/env python3
"""Reference row for scripts/bench.sh: one persistent aiosmtplib connection (STARTTLS +
AUTH PLAIN/LOGIN, certificate checked against CA_FILE for the name "localhost") sending
COUNT ~2 KB messages one after another (after 5 warm-up sends), printed like the other
bench.sh lines: label, messages, messages/s, latency p50/p90/p99.

    aiosmtplib-reference.py HOST PORT USER PASSWORD CA_FILE COUNT LABEL
"""
import asyncio
import ssl
import sys
import time

import aiosmtplib

WARMUP = 5
BODY = "Subject: benchmark\r\n\r\n" + "The quick brown fox jumps over the lazy dog.\r\n" * 45


async def main(host, port, user, password, ca, count, label):
    context = ssl.create_default_context(cafile=ca)
    smtp = aiosmtplib.SMTP(hostname=host, port=port, start_tls=False, timeout=60)
    await smtp.connect()
    await smtp.starttls(server_hostname="localhost", tls_context=context)
    if smtp.supports_extension("auth") and "PLAIN" in smtp.server_auth_methods:
        await smtp.auth_plain(user, password)
    else:
        await smtp.auth_login(user, password)
    latencies = []
    for i in range(count + WARMUP):
        started = time.perf_counter()
        await smtp.sendmail(user, ["sink@example.test"], BODY)
        if i >= WARMUP:
            latencies.append((time.perf_counter() - started) * 1000)
    await smtp.quit()
    latencies.sort()

    def p(q):
        return latencies[min(len(latencies) - 1, int(q / 100 * len(latencies) + 0.999) - 1)]

    print(f"{label:<34} {len(latencies):6d} msgs {1000 / (sum(latencies) / len(latencies)):8.1f} msg/s"
          f"  p50 {p(50):7.2f} ms  p90 {p(90):7.2f} ms  p99 {p(99):7.2f} ms", flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 8:
        sys.exit(__doc__.split("\n\n")[1].strip().replace("aiosmtplib-reference.py", "usage: " + sys.argv[0], 1))
    host, port, user, password, ca, count, label = sys.argv[1:]
    asyncio.run(main(host, int(port), user, password, ca, int(count), label))
