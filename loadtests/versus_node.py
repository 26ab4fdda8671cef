"""TalkRooms against Node's socket.io with its Redis adapter, in one run on one machine.

    .venv/bin/python loadtests/versus_node.py --rounds 2 --rates 1000,1500,2000,2500,3000

Both stacks run with 2 processes behind the same nginx config, and are measured by the
same generator (loadtests/fanout_bench.py: 200 WebSocket clients in 20 rooms of 10) with
the same criteria (a step is held at p99 fan-out <= 250 ms and <= 0.1 % lost). TalkRooms
runs as `talkrooms run` starts it, every feature on (acks, de-duplication, history,
presence, the event log, moderation checks, metrics); Node runs
loadtests/node_baseline/server.mjs, which only broadcasts and acknowledges. Rounds go
TalkRooms, Node, TalkRooms, Node, ... so a slow minute of a shared machine falls on both.
Per stack and round: the rate ladder, then one step at --cost-rate where the CPU per
delivery is read. Run it alone on the box; `make bench-node-deps` first.

With --generator-cpus (e.g. `1` on a 2-core box) the generator runs on those CPUs and
both stacks (workers, nginx, Redis) on the others, so neither stack's limit is where the
generator took the CPU it needed; the limits are then those of fewer cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path
from typing import Any

from compare_revisions import summary, table
from node_stack import node_stack
from run_benchmarks import fanout, free_port, stack

HERE = Path(__file__).resolve().parent
STACKS = ("talkrooms", "node")
# --with-queued-writes adds TalkRooms with every packet through the socket's queue and
# writer greenlet (DIRECT_WRITES=false), to see what realtime/direct_writes.py changes.
QUEUED = "talkrooms-queued"


def measure(
    name: str, args: argparse.Namespace, out: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ladder and the fixed-rate step of one stack, on a fresh start of it."""
    if name == "talkrooms":
        started = stack(args.workers)
    elif name == QUEUED:
        started = stack(args.workers, extra={"DIRECT_WRITES": "false"})
    else:
        ports = [free_port() for _ in range(args.workers)]
        started = node_stack(args.workers, ports, free_port(), free_port())
    with started as url:

        def rooms_of_10(rates: str, seconds: float, json_name: str) -> dict[str, Any]:
            return fanout(
                url,
                20,
                10,
                rates,
                seconds,
                args.processes,
                out / json_name,
                cpus=args.generator_cpus,
            )

        ladder = rooms_of_10(args.rates, args.step_seconds, "ladder.json")
        fixed = rooms_of_10(str(args.cost_rate), args.cost_seconds, "fixed.json")
    return ladder, fixed


def cpu_set(text: str) -> set[int]:
    """`1` or `2,3`: CPU numbers for os.sched_setaffinity."""
    return {int(part) for part in text.split(",") if part.strip()}


def ratios(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """TalkRooms over Node, per round and over the rounds: deliveries/s held, CPU per delivery."""
    by_round: dict[int, dict[str, dict[str, Any]]] = {}
    for row in rows:
        by_round.setdefault(row["round"], {})[row["revision"]] = row
    per_round = []
    for number, pair in sorted(by_round.items()):
        ours, theirs = pair.get("talkrooms"), pair.get("node")
        if not ours or not theirs or not theirs["deliveries_s"]:
            continue
        per_round.append(
            {
                "round": number,
                "deliveries_ratio": round(ours["deliveries_s"] / theirs["deliveries_s"], 2),
                "cpu_per_delivery_ratio": round(
                    theirs["us_per_delivery"] / ours["us_per_delivery"], 2
                )
                if ours["us_per_delivery"] and theirs["us_per_delivery"]
                else None,
            }
        )
    held = [r["deliveries_ratio"] for r in per_round]
    return {
        "per_round": per_round,
        "deliveries_ratio_mean": round(statistics.fmean(held), 2) if held else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="processes of each stack")
    parser.add_argument("--rates", default="1000,1500,2000,2500,3000,3500,4000")
    parser.add_argument("--step-seconds", type=float, default=15)
    parser.add_argument("--cost-rate", type=int, default=1000)
    parser.add_argument("--cost-seconds", type=float, default=20)
    parser.add_argument("--processes", type=int, default=2, help="generator processes")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "versus-node")
    parser.add_argument("--with-queued-writes", action="store_true", help=f"also {QUEUED}")
    parser.add_argument(
        "--generator-cpus",
        type=cpu_set,
        help="CPUs of the generator (e.g. 1); the stacks get all the others",
    )
    args = parser.parse_args(argv)
    stacks = (QUEUED, *STACKS) if args.with_queued_writes else STACKS
    if args.generator_cpus:
        servers = os.sched_getaffinity(0) - args.generator_cpus
        if not servers or not args.generator_cpus <= os.sched_getaffinity(0):
            parser.error("--generator-cpus must name some of this machine's CPUs, not all")
        os.sched_setaffinity(0, servers)  # the stacks started from here inherit it

    rows = []
    for round_number in range(1, args.rounds + 1):
        for name in stacks:
            print(f"== {name}, round {round_number}", flush=True)
            out = args.out / f"{name}-round{round_number}"
            out.mkdir(parents=True, exist_ok=True)
            ladder, fixed = measure(name, args, out)
            row = {"revision": name, "round": round_number} | summary(ladder, fixed)
            rows.append(row)
            print(json.dumps(row), flush=True)
    cpus = sorted(args.generator_cpus) if args.generator_cpus else None
    run = vars(args) | {"out": str(args.out), "generator_cpus": cpus}
    result = {"args": run, "rows": rows} | ratios(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(result, indent=2))
    print(table(rows).replace("| revision |", "| stack |"))
    print(json.dumps(ratios(rows), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
