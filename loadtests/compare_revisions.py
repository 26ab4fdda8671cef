"""Before/after on one machine in one run: the same fan-out load against several git
revisions of TalkRooms, alternating, so that the figures are ratios measured together.

    .venv/bin/python loadtests/compare_revisions.py 7b84f9b HEAD --rounds 2
    .venv/bin/python loadtests/compare_revisions.py HEAD+AUTOMOD=false HEAD

A revision may carry settings for its workers after `+` (`HEAD+AUTOMOD=false+X=1`), to
compare one revision with a feature off and on.

Each revision is checked out as a git worktree under --trees (the current checkout for
`WORKTREE`) and run with this virtualenv, its own `services/` first on PYTHONPATH, through
its own loadtests/run_benchmarks.py: `talkrooms run` with --workers chat workers behind
nginx, 200 WebSocket clients in 20 rooms of 10. Per revision and round: the rate ladder
(--rates, the highest step held at p99 <= 250 ms with no loss) and one step at the fixed
--cost-rate, where the workers' CPU per delivery is read. Rounds go A B C, A B C, ... so a
slow minute of a shared machine falls on every revision alike. Run it alone on the box.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CURRENT = "WORKTREE"


def resolve(revision: str) -> str:
    """The full commit id of a revision (`WORKTREE`: the current checkout as it is)."""
    if revision == CURRENT:
        return CURRENT
    out = subprocess.run(
        ["git", "rev-parse", "--verify", f"{revision}^{{commit}}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def tree_of(commit: str, trees: Path) -> Path:
    """A worktree of `commit` (made once, reused), or the current checkout."""
    if commit == CURRENT:
        return REPO
    path = trees / commit[:12]
    if not (path / "loadtests" / "run_benchmarks.py").exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--force", str(path), commit],
            cwd=REPO,
            check=True,
        )
    return path


def variant(spec: str) -> tuple[str, dict[str, str]]:
    """'HEAD+AUTOMOD=false' -> ('HEAD', {'AUTOMOD': 'false'})."""
    revision, *settings = spec.split("+")
    return revision, dict(item.split("=", 1) for item in settings)


def run_ladder(
    tree: Path,
    rates: str,
    seconds: float,
    workers: int,
    out: Path,
    settings: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One `run_benchmarks.py throughput` of `tree`; its JSON result."""
    out.mkdir(parents=True, exist_ok=True)
    env = os.environ | (settings or {}) | {"PYTHONPATH": str(tree / "services")}
    subprocess.run(
        [
            sys.executable,
            str(tree / "loadtests" / "run_benchmarks.py"),
            "throughput",
            *("--workers", str(workers), "--classes", "gevent-websocket"),
            *("--rates", rates, "--step-seconds", str(seconds), "--out", str(out)),
        ],
        env=env,
        cwd=tree,
        check=True,
    )
    result: dict[str, Any] = json.loads(
        (out / f"throughput-gevent-websocket-{workers}w.json").read_text()
    )
    return result


def summary(ladder: dict[str, Any], fixed: dict[str, Any]) -> dict[str, Any]:
    """The figures of one revision in one round."""
    best = ladder.get("best") or {}
    step = fixed["steps"][0]
    return {
        "held_msg_s": best.get("target_msg_s", 0),
        "deliveries_s": best.get("deliveries_s", 0),
        "p99_ms": best.get("fanout_p99_ms"),
        "lost": best.get("lost"),
        "fixed_rate_msg_s": step["target_msg_s"],
        "fixed_rate_held": step["held"],
        "us_per_delivery": step["worker_us_per_delivery"],
        "us_per_message": step["worker_us_per_msg"],
        "worker_cpu_pct": step["server_cpu_pct"]["workers"],
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| revision | round | highest rate held | deliveries/s | p99 fan-out (ms) | lost "
        "| µs per delivery at fixed rate | µs per message | workers CPU % |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['revision']} | {row['round']} | {row['held_msg_s']:.0f} msg/s "
            f"| {row['deliveries_s']:.0f} | {row['p99_ms']} | {row['lost']} "
            f"| {row['us_per_delivery']} ({row['fixed_rate_msg_s']:.0f} msg/s) "
            f"| {row['us_per_message']} | {row['worker_cpu_pct']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("revisions", nargs="+", help=f"git revisions, or {CURRENT}")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rates", default="5000,6000,7000,8000")
    parser.add_argument("--step-seconds", type=float, default=15)
    parser.add_argument("--cost-rate", type=int, default=3000)
    parser.add_argument("--cost-seconds", type=float, default=30)
    parser.add_argument("--trees", type=Path, default=Path("/tmp/talkrooms-revisions"))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "revisions")
    args = parser.parse_args(argv)
    # Each revision's own run_benchmarks.py runs in its own tree: paths must be absolute.
    args.out = args.out.resolve()
    args.trees = args.trees.resolve()
    commits = {spec: resolve(variant(spec)[0]) for spec in args.revisions}
    rows = []
    for round_number in range(1, args.rounds + 1):
        for revision, commit in commits.items():
            tree = tree_of(commit, args.trees)
            settings = variant(revision)[1]
            label = "-".join([commit[:12], *(f"{k}-{v}" for k, v in settings.items())])
            out = args.out / f"{label}-round{round_number}"
            print(f"== {revision} ({commit[:12]}), round {round_number}", flush=True)
            ladder = run_ladder(
                tree, args.rates, args.step_seconds, args.workers, out / "ladder", settings
            )
            fixed = run_ladder(
                tree, str(args.cost_rate), args.cost_seconds, args.workers, out / "fixed", settings
            )
            row = {"revision": revision, "round": round_number, **summary(ladder, fixed)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(rows, indent=2))
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
