"""HTTP work beside the chat, for measuring what it costs the chat and how fast it goes:
logins, or uploads of a photo or a document.

    .venv/bin/python loadtests/side_load.py --kind login --rate 50 --json out.json
    .venv/bin/python loadtests/side_load.py --kind image --rate 5 --json out.json
    .venv/bin/python loadtests/side_load.py --kind document --concurrency 8 --seconds 20 \
        --json out.json

With `--rate`, one request every 1/rate seconds, open-loop (a slow answer never delays the
next), from a pool of threads; with `--concurrency N`, N requests always in flight
(closed loop: the highest throughput). It runs until SIGINT/SIGTERM or `--seconds`, then
writes what was offered and answered: requests per second completed, MB/s uploaded,
latency percentiles, statuses. Logins register `--accounts` accounts first; uploads are a
new guest each time (the per-person limit), a 1600x1200 JPEG photo with EXIF (re-encoded
by the server) or a 1 MB PDF (kept as sent). The server's login and upload rate limits
per address must be off: every request comes from 127.0.0.1.
"""

from __future__ import annotations

import argparse
import io
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
ROOM = "bench-uploads"


def photo() -> bytes:
    """A 1600x1200 JPEG with EXIF, like a phone's picture (smaller, to keep rates high)."""
    from PIL import Image

    image = Image.new("RGB", (1600, 1200), (90, 140, 200))
    for x in range(0, 1600, 40):
        image.paste((x % 255, 80, 160), (x, 0, x + 20, 1200))
    exif = Image.Exif()
    exif[0x010F] = "BenchCam"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


def document() -> bytes:
    return b"%PDF-1.4\n" + bytes(range(256)) * 4096  # 1 MB


class Uploads:
    """One upload per call, as a new guest (the per-person limit) of one of 100 rooms (one
    room's quota, 1 GB by default, would end a run of documents)."""

    def __init__(self, url: str, body: bytes, name: str) -> None:
        self.url, self.body, self.name = url, body, name

    def __call__(self, session: requests.Session) -> str:
        guest = uuid.uuid4().hex
        form = {
            "room": f"{ROOM}-{int(guest[:4], 16) % 100}",
            "username": f"b{guest[:8]}",
            "client_key": guest,
        }
        answer = session.post(
            f"{self.url}/api/v1/uploads",
            data=form,
            files={"file": (self.name, self.body)},
            timeout=60,
        )
        if answer.status_code >= 400 and answer.headers.get("Content-Type", "").startswith(
            "application/json"
        ):
            return f"{answer.status_code} {answer.json().get('code')}"
        return str(answer.status_code)


class Logins:
    """One login per call, round-robin over accounts registered beforehand."""

    def __init__(self, url: str, accounts: int) -> None:
        self.url = url
        self.names = register(url, accounts)
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, session: requests.Session) -> str:
        with self.lock:
            name = self.names[self.count % len(self.names)]
            self.count += 1
        answer = session.post(
            f"{self.url}/api/v1/auth/login",
            json={"username": name, "password": PASSWORD},
            timeout=60,
        )
        return str(answer.status_code)


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
            if status in ("200", "201"):
                self.latencies.append(seconds)


def timed(work: object, session: requests.Session, recorder: Recorder) -> None:
    started = time.perf_counter()
    try:
        status = work(session)  # type: ignore[operator]
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
    parser.add_argument("--kind", choices=["login", "image", "document"], default="login")
    parser.add_argument("--rate", type=float, default=0, help="requests/s offered (open loop)")
    parser.add_argument("--concurrency", type=int, default=0, help="requests in flight")
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=600, help="upper bound")
    parser.add_argument("--threads", type=int, default=64)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)
    if bool(args.rate) == bool(args.concurrency):
        parser.error("give one of --rate and --concurrency")

    work: object
    body_bytes = 0
    if args.kind == "login":
        work = Logins(args.url, args.accounts)
    else:
        body = photo() if args.kind == "image" else document()
        body_bytes = len(body)
        work = Uploads(args.url, body, "p.jpg" if args.kind == "image" else "d.pdf")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    recorder = Recorder()
    local = threading.local()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return local.session

    def one() -> None:
        timed(work, session(), recorder)

    offered = 0
    started = time.monotonic()
    print("load started", flush=True)
    if args.concurrency:

        def loop() -> None:
            while not stop.is_set() and time.monotonic() - started < args.seconds:
                one()

        threads = [threading.Thread(target=loop) for _ in range(args.concurrency)]
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads):
            stop.wait(0.2)
        for thread in threads:
            thread.join()
        offered = sum(recorder.statuses.values())
        elapsed = time.monotonic() - started
    else:
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            while not stop.is_set() and time.monotonic() - started < args.seconds:
                pool.submit(one)
                offered += 1
                next_at = started + offered / args.rate
                stop.wait(max(0.0, next_at - time.monotonic()))
            elapsed = time.monotonic() - started
            pool.shutdown(wait=True, cancel_futures=True)
    latencies = recorder.latencies
    ok = {"login": "200"}.get(args.kind, "201")
    done = recorder.statuses.get(ok, 0)
    result: dict[str, Any] = {
        "kind": args.kind,
        "offered_per_s": round(offered / elapsed, 2),
        "completed_per_s": round(done / elapsed, 2),
        "mb_per_s": round(done * body_bytes / elapsed / 1e6, 2),
        "body_bytes": body_bytes,
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
