"""What a worker spends on rooms it has no member in: fan-out by room against the shared
channel (BENCHMARKS.md section 12).

    .venv/bin/python loadtests/rooms_apart.py --workers 8 --rate 1000 --seconds 20 --rounds 2

The real stack (`talkrooms run`, N workers behind nginx) is started once per variant and
round, alternating FANOUT_BY_ROOM=true and false. fanout_bench.py drives 10 rooms of 10
members, all connected straight to the first worker, at a fixed rate; each other worker
holds one quiet room of two members. The figure is the CPU each of those other workers
used during the run, per message stored: the work they do for rooms they have nobody in.
Run it alone on the machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

import socketio
from fanout_bench import cpu_seconds
from run_benchmarks import HERE, fanout, stack


def worker_pids(url: str) -> dict[int, int]:
    """port -> pid of every live worker, from /api/stats."""
    with urllib.request.urlopen(f"{url}/api/stats", timeout=5) as response:
        body = json.load(response)
    return {int(w["port"]): int(w["pid"]) for w in body["workers"]["list"]}


def quiet_members(ports: list[int]) -> list[socketio.Client]:
    """Two idle members in a room of their own on each of these workers."""
    clients = []
    for port in ports:
        room = f"quiet{port}"
        for index in range(2):
            client = socketio.Client(reconnection=False)
            client.connect(f"http://127.0.0.1:{port}", transports=["websocket"])
            ack = client.call("join_room", {"username": f"q{index}", "room": room}, timeout=10)
            if not ack.get("ok"):
                raise RuntimeError(f"quiet join refused: {ack}")
            clients.append(client)
    return clients


def one_run(args: argparse.Namespace, by_room: bool, round_no: int) -> dict[str, Any]:
    name = f"rooms-apart-{args.workers}w-{'room' if by_room else 'shared'}-{round_no}"
    print(f"== {name}", flush=True)
    extra = {"FANOUT_BY_ROOM": "true" if by_room else "false"}
    with stack(args.workers, extra=extra) as url:
        pids = worker_pids(url)
        ports = sorted(pids)
        hot, others = ports[0], ports[1:]
        clients = quiet_members(others)
        try:
            before = {port: cpu_seconds([pids[port]]) for port in ports}
            run = fanout(
                f"http://127.0.0.1:{hot}",
                10,
                10,
                str(args.rate),
                args.seconds,
                1,
                args.out / f"{name}.json",
            )
            after = {port: cpu_seconds([pids[port]]) for port in ports}
        finally:
            for client in clients:
                client.disconnect()
    step = run["steps"][0]
    stored = max(1, step["acked"])
    used = {port: after[port] - before[port] for port in ports}
    figures = {
        "variant": "by room" if by_room else "shared channel",
        "messages": step["acked"],
        "hot_worker_us_per_message": round(used[hot] / stored * 1e6, 1),
        "other_workers_us_per_message": [round(used[p] / stored * 1e6, 2) for p in others],
        "other_workers_cpu_s": round(sum(used[p] for p in others), 3),
        "p99_ms": step.get("fanout_p99_ms"),
        "loss_pct": step.get("lost_pct"),
    }
    run["rooms_apart"] = figures
    (args.out / f"{name}.json").write_text(json.dumps(run, indent=2))
    print(json.dumps(figures), flush=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--rate", type=int, default=1000, help="messages/s into the hot rooms")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for round_no in range(1, args.rounds + 1):
        for by_room in (True, False):
            results.append(one_run(args, by_room, round_no))
    print("| variant | messages | hot worker µs/msg | each other worker µs/msg (mean) |")
    print("|---|---|---|---|")
    for row in results:
        others = row["other_workers_us_per_message"]
        mean = sum(others) / max(1, len(others))
        print(
            f"| {row['variant']} | {row['messages']} | {row['hot_worker_us_per_message']} "
            f"| {mean:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
