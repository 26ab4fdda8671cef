"""What a message costs as the stack grows, and a capacity model fitted to it.

    .venv/bin/python loadtests/cost_curves.py --out loadtests/results/curves
    .venv/bin/python loadtests/cost_curves.py --plot-only --out loadtests/results/curves

Three series, each point a fresh `talkrooms run` (behind nginx, fanout_bench.py's
clients) at a fixed load below saturation, where CPU time per unit of work is read:
- workers 1, 2, 4, 8: 200 clients in 20 rooms of 10 at --rate msg/s;
- room sizes 2, 10, 100, 1000 with 2 workers: 1,000 clients (one room of 1,000), the same
  deliveries per second (--deliveries) for every size;
- a single Redis against a local 6-node Redis Cluster (acks waiting for a replica), 2
  workers, the first series' load.

The model: the workers' CPU per message is a fixed part (receive, check, store, ack:
`per_message_us`) plus a part per member it reaches (`per_delivery_us`), fitted by least
squares to the room-size series. It predicts the highest rate a box holds as the cores
left for the workers (--cores minus what nginx, Redis and the generator used, measured)
divided by the cost of one message; `check` compares that with a measured ladder (the
same 2-worker, rooms-of-10 load as BENCHMARKS.md section 1). Run alone on the box.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from run_benchmarks import fanout, stack

HERE = Path(__file__).resolve().parent
WORKERS = (1, 2, 4, 8)
SIZES = (2, 10, 100, 1000)


def point(
    out: Path,
    name: str,
    workers: int,
    rooms: int,
    members: int,
    rate: str,
    seconds: float,
    cluster: bool = False,
) -> dict[str, Any]:
    """One fresh stack, one load; the step's figures (the last step for a ladder)."""
    print(f"== {name}", flush=True)
    with stack(workers, cluster=cluster) as url:
        run = fanout(url, rooms, members, rate, seconds, min(2, rooms), out / f"{name}.json")
    return run


def measure(args: argparse.Namespace) -> dict[str, Any]:
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    found: dict[str, Any] = {"workers": {}, "sizes": {}, "redis": {}}
    rate = str(args.rate)
    for workers in WORKERS:
        run = point(out, f"workers-{workers}", workers, 20, 10, rate, args.seconds)
        found["workers"][str(workers)] = run["steps"][0]
    for size in SIZES:
        rooms = max(1, 1000 // size)
        size_rate = str(max(1, round(args.deliveries / size)))
        run = point(out, f"size-{size}", 2, rooms, size, size_rate, args.seconds)
        found["sizes"][str(size)] = run["steps"][0]
    for kind in ("single", "cluster"):
        run = point(out, f"redis-{kind}", 2, 20, 10, rate, args.seconds, cluster=kind == "cluster")
        found["redis"][kind] = run["steps"][0]
    ladder = point(out, "check-ladder", 2, 20, 10, args.ladder, args.ladder_seconds)
    found["ladder"] = ladder
    return found


def fit(sizes: dict[int, dict[str, Any]]) -> dict[str, float]:
    """Workers' CPU per message = per_message_us + per_delivery_us x members, by least
    squares on the relative error (sizes span 2 to 1,000: a plain fit would ignore the
    small rooms). Solves the 2x2 normal equations of sum(((a + b m - y) / y)^2)."""
    rows = [(float(m), float(step["worker_us_per_msg"])) for m, step in sizes.items()]
    s_11 = sum(1 / y**2 for _, y in rows)
    s_1m = sum(m / y**2 for m, y in rows)
    s_mm = sum(m * m / y**2 for m, y in rows)
    s_1y = sum(1 / y for _, y in rows)
    s_my = sum(m / y for m, y in rows)
    determinant = s_11 * s_mm - s_1m * s_1m
    intercept = (s_1y * s_mm - s_my * s_1m) / determinant
    slope = (s_11 * s_my - s_1m * s_1y) / determinant
    return {"per_message_us": round(intercept, 1), "per_delivery_us": round(slope, 2)}


def predict(
    model: dict[str, float], members: int, cores: float, others_pct: float
) -> dict[str, float]:
    """The highest message rate the workers' share of the box allows, by the model."""
    cost_us = model["per_message_us"] + model["per_delivery_us"] * members
    worker_cores = cores - others_pct / 100
    return {
        "cost_per_message_us": round(cost_us, 1),
        "worker_cores": round(worker_cores, 2),
        "predicted_msg_s": round(worker_cores * 1e6 / cost_us),
    }


def model_and_check(found: dict[str, Any], cores: float) -> dict[str, Any]:
    sizes = {int(k): v for k, v in found["sizes"].items()}
    model = fit(sizes)
    best = found["ladder"].get("best") or {}
    # What the others (nginx, Redis, the generator) took at the highest step held, in %
    # of one core: the workers may only use the rest.
    if best:
        others = (
            best["server_cpu_pct"]["nginx"]
            + best["server_cpu_pct"]["redis"]
            + best["generator_cpu_pct"]
        )
    else:
        others = 0.0
    prediction = predict(model, 10, cores, others)
    measured = best.get("target_msg_s", 0)
    return {
        "model": model,
        "check": prediction
        | {
            "others_cpu_pct_at_highest_held": round(others, 1),
            "measured_highest_held_msg_s": measured,
            "measured_over_predicted": round(measured / prediction["predicted_msg_s"], 2)
            if measured
            else None,
        },
    }


def plot(found: dict[str, Any], summary: dict[str, Any], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(15, 4.5))
    workers = sorted(int(w) for w in found["workers"])
    steps = [found["workers"][str(w)] for w in workers]
    left.plot(workers, [s["worker_us_per_delivery"] for s in steps], marker="o")
    left.set_xlabel("chat workers")
    left.set_ylabel("workers' CPU µs per delivery")
    left.set_xticks(workers)
    left.set_title("Workers (20 rooms of 10, fixed rate)")
    left.grid(alpha=0.3)

    sizes = sorted(int(s) for s in found["sizes"])
    size_steps = [found["sizes"][str(s)] for s in sizes]
    model = summary["model"]
    middle.plot(sizes, [s["worker_us_per_msg"] for s in size_steps], marker="o", label="measured")
    middle.plot(
        sizes,
        [model["per_message_us"] + model["per_delivery_us"] * s for s in sizes],
        linestyle="--",
        label=f"model: {model['per_message_us']:.0f} + {model['per_delivery_us']:.1f} × members",
    )
    middle.set_xscale("log")
    middle.set_yscale("log")
    middle.set_xlabel("room size (members)")
    middle.set_ylabel("workers' CPU µs per message")
    middle.set_title("Room size (2 workers, same deliveries/s)")
    middle.grid(alpha=0.3)
    middle.legend(fontsize=8)

    kinds = ["single", "cluster"]
    redis_steps = [found["redis"][k] for k in kinds]
    x = range(len(kinds))
    right.bar(
        [i - 0.2 for i in x],
        [s["worker_us_per_delivery"] for s in redis_steps],
        0.4,
        label="workers µs/delivery",
    )
    right.set_ylabel("workers' CPU µs per delivery")
    twin = right.twinx()
    twin.bar(
        [i + 0.2 for i in x],
        [s["server_cpu_pct"]["redis"] for s in redis_steps],
        0.4,
        color="#E67E22",
        label="Redis CPU % of a core (all nodes)",
    )
    twin.set_ylabel("Redis CPU %")
    right.set_xticks(list(x), ["single Redis", "6-node cluster"])
    right.set_title("Single Redis against a cluster (2 workers)")
    right.grid(alpha=0.3, axis="y")
    handles, labels = right.get_legend_handles_labels()
    twin_handles, twin_labels = twin.get_legend_handles_labels()
    # Headroom above the bars for the legend.
    right.set_ylim(0, 1.4 * max(s["worker_us_per_delivery"] for s in redis_steps))
    twin.set_ylim(0, 1.4 * max(s["server_cpu_pct"]["redis"] for s in redis_steps))
    right.legend(handles + twin_handles, labels + twin_labels, fontsize=8, loc="upper center")
    figure.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=110)
    print(f"wrote {target}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=1000, help="msg/s of the fixed steps")
    parser.add_argument("--deliveries", type=int, default=10000, help="deliveries/s, sizes")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--ladder", default="1000,1500,2000,2500,3000")
    parser.add_argument("--ladder-seconds", type=float, default=15)
    parser.add_argument("--cores", type=float, default=2.0, help="the box's cores")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "curves")
    parser.add_argument("--plot", type=Path, default=HERE.parent / "docs" / "cost-curves.png")
    parser.add_argument("--plot-only", action="store_true", help="redraw from --out")
    args = parser.parse_args(argv)

    found_file = args.out / "curves.json"
    if args.plot_only:
        found = json.loads(found_file.read_text())
    else:
        found = measure(args)
        found_file.write_text(json.dumps(found, indent=2))
    summary = model_and_check(found, args.cores)
    (args.out / "model.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2), flush=True)
    plot(found, summary, args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
