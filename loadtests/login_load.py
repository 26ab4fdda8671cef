"""Logins at a fixed offered rate, for measuring what they cost the chat.

    .venv/bin/python loadtests/login_load.py --url http://127.0.0.1:5000 --rate 50 \
        --accounts 20 --json results/logins.json

Registers `--accounts` accounts (before the clock starts), then sends one
`POST /api/v1/auth/login` every 1/rate seconds, open-loop (a slow answer never delays the
next request), from a pool of threads, until SIGINT/SIGTERM or `--seconds`. On exit it
writes what was offered and what was answered: logins per second completed, latency
percentiles, and statuses. The server's login rate limits must be off (every request
comes from 127.0.0.1).
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

PASSWORD = "a benchmark password, long enough"


def register(url: str, count: int) -> list[str]:
    names = []
    for _ in range(count):
        name = f"bench{uuid.uuid4().hex[:10]}"
        answer = requests.post(
            f"{url}/api/v1/auth/register",
            json={"username": name, "password": PASSWORD},
            timeout=60,
        )
        answer.raise_for_status()
        names.append(name)
    return names


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: dict[str, int] = {}

    def add(self, status: str, seconds: float) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == "200":
                self.latencies.append(seconds)


def login_once(session: requests.Session, url: str, name: str, recorder: Recorder) -> None:
    started = time.perf_counter()
    try:
        answer = session.post(
            f"{url}/api/v1/auth/login",
            json={"username": name, "password": PASSWORD},
            timeout=60,
        )
        status = str(answer.status_code)
    except requests.RequestException as exc:
        status = type(exc).__name__
    recorder.add(status, time.perf_counter() - started)


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=600, help="upper bound")
    parser.add_argument("--threads", type=int, default=64)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)

    names = register(args.url, args.accounts)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    recorder = Recorder()
    local = threading.local()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return local.session

    offered = 0
    started = time.monotonic()
    print("logins started", flush=True)
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        while not stop.is_set() and time.monotonic() - started < args.seconds:
            name = names[offered % len(names)]
            pool.submit(lambda n=name: login_once(session(), args.url, n, recorder))
            offered += 1
            next_at = started + offered / args.rate
            stop.wait(max(0.0, next_at - time.monotonic()))
        elapsed = time.monotonic() - started
        pool.shutdown(wait=True, cancel_futures=True)
    latencies = recorder.latencies
    result: dict[str, Any] = {
        "offered_per_s": round(offered / elapsed, 1),
        "completed_per_s": round(len(latencies) / elapsed, 1),
        "seconds": round(elapsed, 1),
        "statuses": recorder.statuses,
        "latency_p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "latency_p99_ms": round((percentile(latencies, 0.99) or 0) * 1000, 1),
    }
    args.json.write_text(json.dumps(result, indent=2))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
