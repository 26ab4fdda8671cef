"""Many idle WebSocket connections through nginx: held, heartbeats answered, none dropped.

    .venv/bin/python loadtests/idle_connections.py --url http://127.0.0.1:5000 \
        --count 10000 --hold 300

Each connection joins a room of 10 (so presence is real), then idles, answering
Engine.IO pings (every 25 s). Reported: connect+join rate during the ramp, connections
dropped while held, and the memory the server processes gained per connection (RSS of
the chat workers and nginx, read from /proc before and after).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import resource
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fanout_bench import server_pids
from wsclient import connect

ROOM_SIZE = 10
RAMP_CONCURRENCY = 100


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def describe_drop(index: int, client: Any, hold_started: float) -> dict[str, Any]:
    """When and how one connection was dropped: which worker (its sid starts with the
    worker's route), seconds into the hold, the cause seen, seconds since its last PING."""
    return {
        "index": index,
        "worker": client.sid.split(".", 1)[0] if "." in client.sid else "",
        "at_s": round(client.closed_at - hold_started, 1),
        "cause": client.close_cause,
        "since_last_ping_s": round(client.closed_at - client.last_ping, 1)
        if client.last_ping
        else None,
    }


def drop_summary(drops: list[dict[str, Any]]) -> dict[str, Any]:
    """Drops grouped the ways that tell causes apart: by worker, by cause, by moment."""
    by: dict[str, dict[str, int]] = {"worker": {}, "cause": {}, "at_s": {}}
    for drop in drops:
        for key in ("worker", "cause"):
            by[key][drop[key]] = by[key].get(drop[key], 0) + 1
        moment = str(int(drop["at_s"] // 5 * 5))  # 5-second bins
        by["at_s"][moment] = by["at_s"].get(moment, 0) + 1
    indexes = sorted(d["index"] for d in drops)
    return by | {"indexes": indexes[:50]}


def shard_main(url: str, first: int, count: int, hold: float, run: str, pipe: Any) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    async def main() -> None:
        clients = []
        failures = 0
        semaphore = asyncio.Semaphore(RAMP_CONCURRENCY)

        async def open_one(index: int) -> None:
            nonlocal failures
            async with semaphore:
                try:
                    client = await connect(url, timeout=30)
                    ack = await client.call(
                        "join_room",
                        {"username": f"idle{index}", "room": f"idle-{run}-{index // ROOM_SIZE}"},
                        timeout=30,
                    )
                    if not ack.get("ok"):
                        failures += 1
                    clients.append((index, client))
                except Exception:
                    failures += 1

        started = time.monotonic()
        await asyncio.gather(*(open_one(i) for i in range(first, first + count)))
        ramp = time.monotonic() - started
        ramp_cpu = time.process_time()
        pipe.send(
            {"opened": len(clients), "failed": failures, "ramp_seconds": ramp, "cpu": ramp_cpu}
        )
        pipe.recv()  # the parent measured memory: start holding
        hold_started = time.time()
        await asyncio.sleep(hold)
        drops = [describe_drop(index, c, hold_started) for index, c in clients if c.closed.done()]
        pipe.send({"dropped": len(drops), "drops": drops, "cpu": time.process_time() - ramp_cpu})
        for _index, client in clients:
            client.close()

    asyncio.run(main())


def sample_during_hold(
    pipes: list[Any], before: dict[str, int], opened: int, every: float
) -> list[dict[str, float]]:
    """Memory per connection (workers, nginx) every `every` seconds until the holders
    report back: a long hold shows whether it stays flat."""
    samples: list[dict[str, float]] = []
    started = time.monotonic()
    next_at = 0.0
    while not all(pipe.poll(0) for pipe in pipes):
        elapsed = time.monotonic() - started
        if elapsed >= next_at:
            now = {name: rss_kb(pids) for name, pids in server_pids().items()}
            sample = {"at_s": round(elapsed)}
            for name in ("workers", "nginx"):
                sample[name] = round((now[name] - before[name]) / max(opened, 1), 1)
            samples.append(sample)
            next_at += every
        time.sleep(0.5)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--hold", type=float, default=300)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--sample-seconds", type=float, default=60, help="memory read this often while held"
    )
    args = parser.parse_args(argv)

    groups = server_pids()
    before = {name: rss_kb(pids) for name, pids in groups.items()}
    run = uuid.uuid4().hex[:6]
    share = args.count // args.processes
    pipes, children = [], []
    for index in range(args.processes):
        parent_end, child_end = mp.Pipe()
        count = share if index < args.processes - 1 else args.count - share * index
        child = mp.Process(
            target=shard_main, args=(args.url, index * share, count, args.hold, run, child_end)
        )
        child.start()
        pipes.append(parent_end)
        children.append(child)
    ramps = [pipe.recv() for pipe in pipes]
    opened = sum(r["opened"] for r in ramps)
    ramp_seconds = max(r["ramp_seconds"] for r in ramps)
    time.sleep(5)  # let the joins' broadcasts settle before reading memory
    after = {name: rss_kb(pids) for name, pids in server_pids().items()}
    print(
        f"opened {opened}/{args.count} in {ramp_seconds:.1f} s; holding {args.hold:.0f} s",
        flush=True,
    )
    for pipe in pipes:
        pipe.send("hold")
    during = sample_during_hold(pipes, before, opened, args.sample_seconds)
    holds = [pipe.recv() for pipe in pipes]
    dropped = sum(h["dropped"] for h in holds)
    drops = [d for h in holds for d in h["drops"]]
    for child in children:
        child.join(timeout=60)

    gained = {name: after[name] - before[name] for name in after}
    server_kb = gained["workers"] + gained["nginx"]
    result = {
        "count": args.count,
        "opened": opened,
        "failed": sum(r["failed"] for r in ramps),
        "join_rate_per_s": round(opened / ramp_seconds, 1) if ramp_seconds else None,
        "held_seconds": args.hold,
        "dropped": dropped,
        "drops": drop_summary(drops),
        "rss_gained_kb": gained,
        "kb_per_connection_during_hold": during,
        "kb_per_connection_workers_nginx": round(server_kb / opened, 1) if opened else None,
        "kb_per_connection_nginx": round(gained["nginx"] / opened, 1) if opened else None,
        "kb_per_connection_redis": round(gained["redis"] / opened, 2) if opened else None,
        # Generator CPU as % of one core, summed over its processes, per phase.
        "generator_cpu_pct_ramp": round(100 * sum(r["cpu"] for r in ramps) / ramp_seconds, 1)
        if ramp_seconds
        else None,
        "generator_cpu_pct_hold": round(100 * sum(h["cpu"] for h in holds) / args.hold, 1)
        if args.hold
        else None,
    }
    print(json.dumps(result), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
