"""Draw BENCHMARKS.md's figure from the JSON run_benchmarks.py wrote.

    .venv/bin/python loadtests/plot.py --results loadtests/results --out docs/benchmarks.png

Left: the highest message rate held (p99 fan-out <= 250 ms, no loss) by worker count, one
line per worker class, with the p99 at that rate. Right: deliveries per second held and
their p99 by room size.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def best(run: dict[str, Any]) -> dict[str, Any] | None:
    return run.get("best")


def throughput_series(results: Path) -> dict[str, list[tuple[int, float, float]]]:
    series: dict[str, list[tuple[int, float, float]]] = {}
    for path in sorted(results.glob("throughput-*-*w.json")):
        match = re.match(r"throughput-(.+)-(\d+)w\.json", path.name)
        if not match:
            continue
        top = best(load(path))
        if top:
            series.setdefault(match.group(1), []).append(
                (int(match.group(2)), top["target_msg_s"], top["fanout_p99_ms"])
            )
    return {name: sorted(points) for name, points in series.items()}


def room_size_series(results: Path) -> list[tuple[int, float, float]]:
    points = []
    for path in results.glob("roomsize-*.json"):
        top = best(load(path))
        if top:
            size = int(path.stem.split("-")[1])
            points.append((size, top["deliveries_s"], top["fanout_p99_ms"]))
    return sorted(points)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.png"))
    args = parser.parse_args(argv)

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name, points in throughput_series(args.results).items():
        workers = [p[0] for p in points]
        left.plot(workers, [p[1] for p in points], marker="o", label=f"{name}: msg/s held")
        for w, rate, p99 in points:
            left.annotate(
                f"p99 {p99:.0f} ms",
                (w, rate),
                textcoords="offset points",
                xytext=(4, -12),
                fontsize=8,
            )
    left.set_xlabel("chat workers (gunicorn processes)")
    left.set_ylabel("messages/s held (x10 deliveries)")
    left.set_title("200 clients, 20 rooms of 10, through nginx")
    left.set_xticks([1, 2, 4])
    left.grid(alpha=0.3)
    left.legend(fontsize=8)

    sizes = room_size_series(args.results)
    if sizes:
        right.plot(
            [p[0] for p in sizes],
            [p[1] for p in sizes],
            marker="o",
            color="#2C3E50",
            label="deliveries/s held",
        )
        right.set_xscale("log")
        right.set_xlabel("room size (members)")
        right.set_ylabel("deliveries/s")
        twin = right.twinx()
        twin.plot(
            [p[0] for p in sizes],
            [p[2] for p in sizes],
            marker="s",
            color="#4ECDC4",
            label="p99 fan-out (ms)",
        )
        twin.set_ylabel("p99 fan-out latency (ms)")
        right.set_title("Room size (2 workers)")
        right.grid(alpha=0.3)
        handles, labels = right.get_legend_handles_labels()
        twin_handles, twin_labels = twin.get_legend_handles_labels()
        right.legend(handles + twin_handles, labels + twin_labels, fontsize=8, loc="lower right")
    figure.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
