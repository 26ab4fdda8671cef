#!/usr/bin/env python3
"""How nginx spreads clients over the chat workers: connect N clients, count per worker.

    .venv/bin/python scripts/measure-spread.py --url http://127.0.0.1:5000 --clients 200

Every client connects from this machine (one address, many source ports) — the case
ip_hash gets wrong. The counts come from /api/stats (each worker's heartbeat reports its
open connections), so the script waits until they add up to what it opened. Not a load
test: the clients connect, stay idle, and leave.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

import requests
import socketio

TRANSPORTS = {
    "websocket": ["websocket"],
    "polling": ["polling"],
    "upgrade": ["polling", "websocket"],  # what a browser does
}


def worker_counts(url: str) -> dict[str, int]:
    """Open connections per worker port, from the workers' own heartbeats."""
    body = requests.get(f"{url}/api/stats", timeout=5).json()
    return {str(w["port"]): int(w.get("connections", 0)) for w in body["workers"]["list"]}


def measure(url: str, clients: int, transport: str, settle: float) -> dict[str, int]:
    baseline = sum(worker_counts(url).values())
    opened: list[socketio.Client] = []
    cookies: Counter[str] = Counter()
    try:
        for _ in range(clients):
            client = socketio.Client(reconnection=False, request_timeout=10)
            client.connect(url, transports=TRANSPORTS[transport], wait_timeout=10)
            opened.append(client)
            http = getattr(client.eio, "http", None)
            if http is not None:
                cookies[http.cookies.get("talkrooms_worker", "-")] += 1
        deadline = time.monotonic() + settle
        counts = worker_counts(url)
        while sum(counts.values()) - baseline < clients and time.monotonic() < deadline:
            time.sleep(0.5)
            counts = worker_counts(url)
        if cookies:
            print(f"worker cookies: {dict(sorted(cookies.items()))}", file=sys.stderr)
        return counts
    finally:
        for client in opened:
            client.disconnect()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--transport", choices=sorted(TRANSPORTS), default="websocket")
    parser.add_argument(
        "--settle", type=float, default=20.0, help="seconds to wait for the heartbeats"
    )
    args = parser.parse_args()
    counts = measure(args.url, args.clients, args.transport, args.settle)
    total = sum(counts.values())
    for port, count in sorted(counts.items()):
        share = 100 * count / total if total else 0
        print(f"worker :{port}  {count:5d} connections  {share:5.1f} %")
    print(f"{args.clients} {args.transport} clients, {total} counted")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
