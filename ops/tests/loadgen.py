#!/usr/bin/env python3
"""Bounded HTTP load generator for the ops scenarios (standard library only).

Sends GET requests to one URL from several threads until a stop file appears, the
duration runs out or the request budget is spent, then prints one JSON line:
{"requests", "ok", "failed", "errors": {...}, "seconds", "rps", "p50_ms", "p99_ms"}.

Only for the lab's own hosts or loopback: the URL's host must be 127.0.0.0/8 or in
the lab network (10.213.0.0/24), anything else is refused.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import os
import threading
import time
import urllib.parse
from collections import Counter

ALLOWED = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("10.213.0.0/24")]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    parser.add_argument("--max-requests", type=int, default=500_000)
    parser.add_argument("--stop-file", default="")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()

    url = urllib.parse.urlsplit(args.url)
    address = ipaddress.ip_address(url.hostname or "")
    if not any(address in net for net in ALLOWED):
        parser.error(f"{address} is neither loopback nor a lab address")
    port = url.port or 80
    path = url.path or "/"
    if url.query:
        path += "?" + url.query

    lock = threading.Lock()
    counts: Counter[str] = Counter()
    latencies: list[float] = []
    stop = threading.Event()
    budget = [args.max_requests]
    deadline = time.monotonic() + args.max_seconds

    def take() -> bool:
        with lock:
            if budget[0] <= 0:
                return False
            budget[0] -= 1
            return True

    def worker() -> None:
        conn: http.client.HTTPConnection | None = None
        while not stop.is_set() and time.monotonic() < deadline and take():
            started = time.monotonic()
            outcome = "ok"
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(str(address), port, timeout=args.timeout)
                headers = {"Host": url.netloc, "Accept": "application/json"}
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    outcome = f"http_{response.status}"
                if response.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                outcome = type(exc).__name__
                if conn is not None:
                    conn.close()
                conn = None
            elapsed = time.monotonic() - started
            with lock:
                counts[outcome] += 1
                latencies.append(elapsed)
        if conn is not None:
            conn.close()

    def watch_stop_file() -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            if args.stop_file and os.path.exists(args.stop_file):
                stop.set()
                return
            time.sleep(0.1)

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.threads)]
    watcher = threading.Thread(target=watch_stop_file, daemon=True)
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(args.max_seconds + args.timeout + 5)
    stop.set()
    seconds = time.monotonic() - t0

    latencies.sort()
    total = sum(counts.values())

    def pct(p: float) -> float:
        if not latencies:
            return 0.0
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1)

    result = {
        "requests": total,
        "ok": counts["ok"],
        "failed": total - counts["ok"],
        "errors": {k: v for k, v in counts.items() if k != "ok"},
        "seconds": round(seconds, 1),
        "rps": round(total / seconds, 1) if seconds else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
