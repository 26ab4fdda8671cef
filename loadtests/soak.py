"""A soak: the fan-out load at a fixed rate for a long time, with people joining and
leaving beside it; memory, Redis keys and p99 sampled every minute.

    .venv/bin/python loadtests/soak.py --rate 750 --minutes 30 --churn 10

`talkrooms run` with 2 workers behind nginx (as in BENCHMARKS.md). The load is
fanout_bench.py's (200 WebSocket clients in 20 rooms of 10) at --rate, one 60-second step
after another, each drained and counted (p99, lost). Beside it, --churn visitors a second
each connect, join one of 50 rooms, send one message, leave and disconnect. Every minute:
the workers', nginx's and Redis's resident memory, Redis's used memory and key count.
At the end, once the churn stopped: the presence Redis holds must match the connections
still open (no ghost in any room, no stale connection in any worker's set).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import statistics
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import redis
import requests
from fanout_bench import server_pids
from idle_connections import rss_kb
from run_benchmarks import BIN, stack
from wsclient import connect

HERE = Path(__file__).resolve().parent
CHURN_ROOMS = 50


def churn_main(url: str, per_second: float, seconds: float, pipe: Any, first: int = 0) -> None:
    """Visitors: connect, join, send one message (acknowledged), leave, disconnect; each a
    new name, numbered from `first`."""

    async def visit(index: int, counts: dict[str, int]) -> None:
        try:
            client = await connect(url, timeout=10)
            try:
                room = f"churn-{index % CHURN_ROOMS}"
                joined = await client.call("join_room", {"username": f"v{index}", "room": room})
                sent = await client.call("send_message", {"message": f"hello {index}"})
                left = await client.call("leave_room", {"room": room})
                ok = joined.get("ok") and sent.get("ok") and left.get("ok")
                counts["ok" if ok else "refused"] += 1
            finally:
                client.close()
        except Exception:
            counts["failed"] += 1

    async def main() -> dict[str, int]:
        counts = {"ok": 0, "refused": 0, "failed": 0}
        tasks = set()
        started = time.monotonic()
        index = first
        while time.monotonic() - started < seconds:
            task = asyncio.create_task(visit(index, counts))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            index += 1
            await asyncio.sleep(1 / per_second)
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        return counts

    pipe.send(asyncio.run(main()))


def redis_sample(client: redis.Redis) -> dict[str, int]:
    return {
        "redis_used_memory_kb": int(client.info("memory")["used_memory"]) // 1024,
        "redis_keys": int(client.dbsize()),
    }


def sampler(port: int, every: float, stop: threading.Event, samples: list[dict[str, Any]]):
    """Memory and keys every `every` seconds until `stop`."""
    client = redis.Redis(port=port)
    started = time.monotonic()
    while not stop.is_set():
        groups = server_pids()
        samples.append(
            {
                "t_s": round(time.monotonic() - started),
                "workers_rss_kb": rss_kb(groups["workers"]),
                "nginx_rss_kb": rss_kb(groups["nginx"]),
                "redis_rss_kb": rss_kb(groups["redis"]),
            }
            | redis_sample(client)
        )
        stop.wait(every)


def presence_check(port: int, within: float = 30.0) -> dict[str, float]:
    """Once every client has gone: connections left in the workers' sets and people left
    in the rooms' online lists (both must reach 0), and how long they took to."""
    client = redis.Redis(port=port)
    started = time.monotonic()
    while True:
        in_worker_sets = sum(client.scard(k) for k in client.scan_iter("*:worker:*:conns"))
        in_rooms = sum(client.hlen(k) for k in client.scan_iter("*:room:*:users"))
        waited = time.monotonic() - started
        if (in_worker_sets == 0 and in_rooms == 0) or waited > within:
            return {
                "connections_in_worker_sets": in_worker_sets,
                "people_in_rooms": in_rooms,
                "seconds_to_empty": round(waited, 1),
            }
        time.sleep(0.5)


def gc_pauses(worker_ports: list[int]) -> dict[str, Any]:
    """The workers' garbage collections over the run (talkrooms_gc_pause_seconds): how
    many, and how many stopped a worker's event loop for more than 50 ms."""
    from prometheus_client.parser import text_string_to_metric_families

    totals: dict[str, dict[str, float]] = {}
    for port in worker_ports:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        for family in text_string_to_metric_families(text):
            if family.name != "talkrooms_gc_pause_seconds":
                continue
            for sample in family.samples:
                generation = sample.labels.get("generation", "")
                into = totals.setdefault(generation, {"count": 0.0, "le_50ms": 0.0, "sum": 0.0})
                if sample.name.endswith("_count"):
                    into["count"] += sample.value
                elif sample.name.endswith("_sum"):
                    into["sum"] += sample.value
                elif sample.name.endswith("_bucket") and sample.labels.get("le") == "0.05":
                    into["le_50ms"] += sample.value
    return {
        generation: {
            "collections": int(t["count"]),
            "over_50ms": int(t["count"] - t["le_50ms"]),
            "mean_ms": round(t["sum"] / t["count"] * 1000, 2) if t["count"] else None,
        }
        for generation, t in sorted(totals.items())
    }


def trend(points: list[tuple[float, float]]) -> float:
    """Change per 10 minutes by least squares over (minute, value) points."""
    if len(points) < 2:
        return 0.0
    slope = statistics.linear_regression([m for m, _ in points], [v for _, v in points]).slope
    return round(slope * 10, 1)


def settled(samples: list[dict[str, Any]], key: str, warmup_s: float) -> list[tuple[float, float]]:
    """(minute, value) of one sampled figure after the warm-up (caches and pools filling)."""
    return [(s["t_s"] / 60, s[key]) for s in samples if s["t_s"] >= warmup_s]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=750, help="messages/s of the fan-out load")
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--churn", type=float, default=10, help="visitors a second")
    parser.add_argument("--processes", type=int, default=2, help="generator processes")
    parser.add_argument("--warmup-minutes", type=float, default=5, help="left out of trends")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "soak.json")
    args = parser.parse_args(argv)

    steps_file = args.json.with_suffix(".steps.json")
    samples: list[dict[str, Any]] = []
    with stack(2) as url:
        port = stack.redis_port  # type: ignore[attr-defined]
        stop = threading.Event()
        watcher = threading.Thread(target=sampler, args=(port, 60, stop, samples), daemon=True)
        watcher.start()
        parent_end, child_end = mp.Pipe()
        churn = mp.Process(
            target=churn_main, args=(url, args.churn, args.minutes * 60, child_end), daemon=True
        )
        churn.start()
        rates = ",".join([str(args.rate)] * args.minutes)
        subprocess.run(
            [
                *(str(BIN / "python"), str(HERE / "fanout_bench.py"), "--url", url),
                *("--rates", rates, "--step-seconds", "60", "--keep-going"),
                *("--processes", str(args.processes), "--json", str(steps_file)),
            ],
            check=True,
        )
        visits = parent_end.recv() if parent_end.poll(120) else {"missing": 1}
        churn.join(timeout=10)
        stop.set()
        watcher.join(timeout=10)
        # The fan-out clients are closed too now: every set and list should be empty.
        presence = presence_check(port)
        collections = gc_pauses(stack.worker_ports)  # type: ignore[attr-defined]

    steps = json.loads(steps_file.read_text())["steps"]
    p99s = [s["fanout_p99_ms"] for s in steps]
    warmup_s = args.warmup_minutes * 60
    after_warmup = [(m, p) for m, p in enumerate(p99s, 1) if m > args.warmup_minutes]
    result = {
        "args": vars(args) | {"json": str(args.json)},
        "minutes": len(steps),
        "lost": sum(s["lost"] for s in steps),
        "held_minutes": sum(1 for s in steps if s["held"]),
        "p99_ms": {
            "first": p99s[0],
            "max_after_warmup": max((p for _, p in after_warmup), default=None),
            "per_10_min_after_warmup": trend(after_warmup),
        },
        **{
            f"{key}_per_10_min_after_warmup": trend(settled(samples, key, warmup_s))
            for key in ("workers_rss_kb", "nginx_rss_kb", "redis_used_memory_kb", "redis_keys")
        },
        "visits": visits,
        "presence_after": presence,
        "gc_pauses_by_generation": collections,
        "samples": samples,
        "p99_per_minute": p99s,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
