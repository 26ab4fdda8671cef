"""Print BENCHMARKS.md's tables from the JSON files run_benchmarks.py wrote.

.venv/bin/python loadtests/report.py --results loadtests/results
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def cpu(step: dict[str, Any]) -> str:
    server = step["server_cpu_pct"]
    return f"{server['workers']:.0f} / {server['nginx']:.0f} / {server['redis']:.0f}"


def throughput(results: Path) -> None:
    print(
        "| worker class | workers | highest rate held | deliveries/s | p50 / p99 fan-out (ms) "
        "| ack p99 (ms) | lost | server CPU % workers / nginx / redis | generator CPU % "
        "| next step (failed) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for path in sorted(results.glob("throughput-*-*w.json")):
        match = re.match(r"throughput-(.+)-(\d+)w\.json", path.name)
        if not match:
            continue
        run = load(path)
        best = run.get("best")
        failed = next((s for s in run["steps"] if not s["held"]), None)
        nxt = f"{failed['target_msg_s']:.0f}: p99 {failed['fanout_p99_ms']} ms" if failed else "—"
        if not best:
            print(f"| {match.group(1)} | {match.group(2)} | none | | | | | | | {nxt} |")
            continue
        print(
            f"| {match.group(1)} | {match.group(2)} | {best['target_msg_s']:.0f} msg/s "
            f"| {best['deliveries_s']:.0f} | {best['fanout_p50_ms']} / {best['fanout_p99_ms']} "
            f"| {best['ack_p99_ms']} | {best['lost']} | {cpu(best)} "
            f"| {best['generator_cpu_pct']:.0f} | {nxt} |"
        )


def room_size(results: Path) -> None:
    print(
        "| room size | rooms | highest held | deliveries/s | p50 / p99 fan-out (ms) | lost "
        "| server CPU % workers / nginx / redis | generator CPU % | next step (failed) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    paths = sorted(results.glob("roomsize-*.json"), key=lambda p: int(p.stem.split("-")[1]))
    for path in paths:
        run = load(path)
        size = int(path.stem.split("-")[1])
        best = run.get("best")
        failed = next((s for s in run["steps"] if not s["held"]), None)
        nxt = (
            f"{failed['deliveries_s']:.0f}/s: p99 {failed['fanout_p99_ms']} ms"
            if failed
            else "ladder's top reached"
        )
        rooms = run["args"]["rooms"]
        if not best:
            print(f"| {size} | {rooms} | none | | | | | | {nxt} |")
            continue
        print(
            f"| {size} | {rooms} | {best['target_msg_s']:.0f} msg/s | "
            f"{best['deliveries_s']:.0f} | {best['fanout_p50_ms']} / {best['fanout_p99_ms']} "
            f"| {best['lost']} | {cpu(best)} | {best['generator_cpu_pct']:.0f} | {nxt} |"
        )


def cost(results: Path) -> None:
    print(
        "| workers | write batching | CPU µs per message (workers) | per delivery | nginx CPU % "
        "| p99 (ms) | Redis commands / EVALSHA / PUBLISH per message |"
    )
    print("|---|---|---|---|---|---|---|")
    for path in sorted(results.glob("cost-*.json")):
        run = load(path)
        step = run["steps"][0]
        match = re.match(r"cost-(\d+)w-(\d+)-batch-(\w+)\.json", path.name)
        if not match:
            continue
        redis = run.get("redis_per_message", {})
        print(
            f"| {match.group(1)} | {match.group(3)} | {step['worker_us_per_msg']} "
            f"| {step['worker_us_per_delivery']} | {step['server_cpu_pct']['nginx']:.0f} "
            f"| {step['fanout_p99_ms']} | {redis.get('commands')} / {redis.get('evalsha')} / "
            f"{redis.get('publish')} |"
        )


def connections(results: Path) -> None:
    print(
        "| connections | opened | join rate (/s) | held (s) | dropped | KB per connection "
        "workers + nginx | of which nginx | generator CPU % ramp / hold |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for path in sorted(results.glob("connections-*.json")):
        run = load(path)
        print(
            f"| {run['count']} | {run['opened']} | {run['join_rate_per_s']} "
            f"| {run['held_seconds']:.0f} | {run['dropped']} "
            f"| {run['kb_per_connection_workers_nginx']} | {run['kb_per_connection_nginx']} "
            f"| {run.get('generator_cpu_pct_ramp')} / {run.get('generator_cpu_pct_hold')} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    for title, table in (
        ("Throughput", throughput),
        ("Room size", room_size),
        ("Cost", cost),
        ("Connections", connections),
    ):
        print(f"\n### {title}\n")
        table(args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
