"""The runs behind BENCHMARKS.md: each starts the real stack (`talkrooms run`: Redis with
AOF, N gunicorn workers, nginx under supervisord) on free ports, measures, stops it.

    .venv/bin/python loadtests/run_benchmarks.py throughput --workers 1,2,4 \
        --classes gevent-websocket,gevent
    .venv/bin/python loadtests/run_benchmarks.py room-size --sizes 2,10,100,1000
    .venv/bin/python loadtests/run_benchmarks.py connections --count 10000 --hold 300
    .venv/bin/python loadtests/run_benchmarks.py cost --rate 2000
    .venv/bin/python loadtests/run_benchmarks.py locust --users 200 --locust-processes 2
    .venv/bin/python loadtests/run_benchmarks.py actions --rate 2000 --rounds 2
    .venv/bin/python loadtests/run_benchmarks.py logins --rate 500 --login-rate 50
    .venv/bin/python loadtests/run_benchmarks.py uploads --rate 500 --upload-rate 5
    .venv/bin/python loadtests/run_benchmarks.py all        # everything, about 40 minutes

Results go to loadtests/results/*.json (one file per run); plot.py draws them. Run alone
on the machine: every figure is a ratio of CPU time and wall time on a shared 2-core box.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fanout_bench import cpu_seconds, server_pids

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent
DEFAULT_RATES = "1000,2000,3000,4000,5000,6000,7000,8000,9000,10000,12000"

# The stack as operators run it, minus the limits meant for real people: one address
# (127.0.0.1) opens every connection here, and the generator sends as fast as asked.
BENCH_ENV = {
    "LOG_LEVEL": "WARNING",
    "MESSAGE_RATE_LIMIT": "0",
    "JOIN_RATE_LIMIT": "0",
    # One generated client sends several messages a second: like the rate limit above,
    # automatic moderation's burst counter would mute it (its checks still all run).
    "AUTOMOD_FLOOD_RATE_LIMIT": "0",
    "MAX_CONNECTIONS_PER_ADDRESS": "0",
    "APP_ENV": "development",
    # A fixed port would outlive one stack into the next run's start-up checks.
    "RQ_METRICS_PORT": "0",
}


def free_port(span: int = 1) -> int:
    """A port below the ephemeral range (so no client socket of a previous run holds it)
    with `span` free ports from it on."""
    while True:
        base = random.randrange(20_000, 32_000 - span)
        try:
            for port in range(base, base + span):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def redis_server(port: int, folder: Path, log: Any = subprocess.DEVNULL) -> subprocess.Popen:
    """A throw-away redis-server on loopback: no snapshot, no append-only file."""
    return subprocess.Popen(
        [
            *("redis-server", "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(folder)),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_healthy(url: str, processes: list[subprocess.Popen], seconds: float, logs: str) -> None:
    """Until `url`'s /api/health answers 200; fails when one of `processes` exits or
    after `seconds`, pointing at `logs`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            raise RuntimeError(f"stack did not start; see {logs}")
        time.sleep(0.2)


@contextmanager
def stack(
    workers: int,
    worker_class: str = "gevent-websocket",
    extra: dict[str, str] | None = None,
    cluster: bool = False,
):
    """`talkrooms run` on free ports in a temporary run dir; yields nginx's URL. `cluster`:
    the chat on a local 6-node Redis Cluster (`talkrooms run --cluster`, acks waiting for a
    replica as make run CLUSTER=1 sets them), Redis keeping RQ's queues only."""
    raise_fd_limit()
    port, redis_port, base = free_port(), free_port(), free_port(span=workers + 1)
    cluster_args = ["--cluster", "--cluster-base-port", str(free_port(span=13))] if cluster else []
    run_dir = Path(tempfile.mkdtemp(prefix="talkrooms-bench-"))
    env = os.environ | BENCH_ENV | {"WORKER_CLASS": worker_class} | (extra or {})
    process = subprocess.Popen(
        [
            str(BIN / "talkrooms"),
            "run",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--redis-port",
            str(redis_port),
            "--worker-base-port",
            str(base),
            "--run-dir",
            str(run_dir),
            *cluster_args,
        ],
        env=env,
        stdout=(run_dir / "talkrooms-run.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    finished = False
    try:
        wait_healthy(url, [process], 60, f"{run_dir}/talkrooms-run.log")
        time.sleep(2)  # every worker's first heartbeat and listener subscription
        stack.redis_port = redis_port  # type: ignore[attr-defined]
        # Each worker's own /metrics (the plan puts workers right after the base port).
        stack.worker_ports = [base + i for i in range(1, workers + 1)]  # type: ignore[attr-defined]
        yield url
        finished = True
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
    if finished:
        # Uploads and Redis data of a run fill the disk over a few runs; logs of a failed
        # run stay for reading.
        shutil.rmtree(run_dir, ignore_errors=True)


def fanout(
    url: str,
    rooms: int,
    members: int,
    rates: str,
    seconds: float,
    processes: int,
    out: Path,
    action: str = "message",
    cpus: set[int] | None = None,
) -> dict[str, Any]:
    """One fanout_bench.py run (a separate process: its CPU is its own), on `cpus` only
    when given (its generator processes inherit them)."""
    subprocess.run(
        [
            sys.executable,
            str(HERE / "fanout_bench.py"),
            "--url",
            url,
            "--rooms",
            str(rooms),
            "--members",
            str(members),
            "--rates",
            rates,
            "--step-seconds",
            str(seconds),
            "--processes",
            str(processes),
            "--json",
            str(out),
            "--action",
            action,
        ],
        check=True,
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
    )
    return json.loads(out.read_text())


def actions(args: argparse.Namespace) -> None:
    """Benchmark 7: what an edit and a reaction cost next to a message, same load.

    One stack (2 workers), 200 protocol 2 clients in rooms of 10, the same fixed rate for
    each action, alternating message / edit / react for --rounds rounds so that a slow
    minute of a shared machine falls on every action alike.
    """
    rows = []
    with stack(2) as url:
        for round_number in range(1, args.rounds + 1):
            for action in ("message", "edit", "react"):
                name = f"actions-{action}-round{round_number}"
                print(f"== {name}", flush=True)
                result = fanout(
                    url,
                    20,
                    10,
                    str(args.rate),
                    args.step_seconds,
                    args.processes,
                    args.out / f"{name}.json",
                    action=action,
                )
                step = result["steps"][0]
                rows.append(
                    {
                        "action": action,
                        "round": round_number,
                        "rate": step["target_msg_s"],
                        "held": step["held"],
                        "deliveries_s": step["deliveries_s"],
                        "lost": step["lost"],
                        "fanout_p99_ms": step["fanout_p99_ms"],
                        "ack_p99_ms": step["ack_p99_ms"],
                        "us_per_delivery": step["worker_us_per_delivery"],
                        "us_per_action": step["worker_us_per_msg"],
                        "redis_cpu_pct": step["server_cpu_pct"].get("redis"),
                    }
                )
                print(json.dumps(rows[-1]), flush=True)
    (args.out / "actions.json").write_text(json.dumps(rows, indent=2))


def side_load(
    url: str, kind: str, out: Path, rate: float = 0, concurrency: int = 0, seconds: float = 600
) -> subprocess.Popen[str]:
    """loadtests/side_load.py in its own process, once its set-up is done."""
    mode = ["--rate", str(rate)] if rate else ["--concurrency", str(concurrency)]
    process = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "side_load.py"),
            "--url",
            url,
            "--kind",
            kind,
            *mode,
            "--seconds",
            str(seconds),
            "--json",
            str(out),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.readline()  # "load started": accounts registered, bodies made
    return process


def chat_beside(args: argparse.Namespace, name: str, kind: str, rate: float) -> None:
    """Benchmarks 8 and 9: the chat's latency with and without `kind` requests at `rate`/s
    beside it. One stack (2 workers, the per-address limits of logins and uploads off),
    200 protocol 2 clients in rooms of 10 at a fixed message rate; each round measures a
    step without, then the same step with the side load."""
    rows = []
    extra = {
        "AUTH_ADDRESS_RATE_LIMIT": "0",
        "AUTH_ACCOUNT_RATE_LIMIT": "0",
        "UPLOAD_ADDRESS_RATE_LIMIT": "0",
    }
    with stack(2, extra=extra) as url:
        for round_number in range(1, args.rounds + 1):
            for beside in (False, True):
                step_name = f"{name}-{'on' if beside else 'off'}-round{round_number}"
                print(f"== {step_name}", flush=True)
                side_out = args.out / f"{step_name}-side.json"
                generator = side_load(url, kind, side_out, rate=rate) if beside else None
                try:
                    result = fanout(
                        url,
                        20,
                        10,
                        str(args.rate),
                        args.step_seconds,
                        args.processes,
                        args.out / f"{step_name}.json",
                    )
                finally:
                    if generator is not None:
                        generator.send_signal(signal.SIGINT)
                        generator.wait(timeout=120)
                step = result["steps"][0]
                row: dict[str, Any] = {
                    kind: beside,
                    "round": round_number,
                    "rate": step["target_msg_s"],
                    "held": step["held"],
                    "lost": step["lost"],
                    "fanout_p50_ms": step.get("fanout_p50_ms"),
                    "fanout_p99_ms": step["fanout_p99_ms"],
                    "ack_p99_ms": step["ack_p99_ms"],
                }
                if beside:
                    row["side"] = json.loads(side_out.read_text())
                rows.append(row)
                print(json.dumps(rows[-1]), flush=True)
        if kind != "login":
            for body in ("image", "document"):
                out = args.out / f"{name}-throughput-{body}.json"
                print(f"== {name}-throughput-{body}", flush=True)
                side_load(url, body, out, concurrency=4, seconds=args.step_seconds).wait(
                    timeout=args.step_seconds + 120
                )
                rows.append({"throughput": body, **json.loads(out.read_text())})
                print(json.dumps(rows[-1]), flush=True)
    (args.out / f"{name}.json").write_text(json.dumps(rows, indent=2))


def logins(args: argparse.Namespace) -> None:
    chat_beside(args, "logins", "login", args.login_rate)


def uploads(args: argparse.Namespace) -> None:
    chat_beside(args, "uploads", "image", args.upload_rate)


def throughput(args: argparse.Namespace) -> None:
    """Benchmark 1: 200 clients in 20 rooms of 10, by worker count and worker class."""
    for worker_class in args.classes.split(","):
        for workers in (int(w) for w in args.workers.split(",")):
            name = f"throughput-{worker_class}-{workers}w"
            print(f"== {name}", flush=True)
            with stack(workers, worker_class) as url:
                fanout(
                    url,
                    20,
                    10,
                    args.rates,
                    args.step_seconds,
                    args.processes,
                    args.out / f"{name}.json",
                )


def room_size(args: argparse.Namespace) -> None:
    """Benchmark 2: deliveries/s and p99 by room size (2 workers)."""
    for size in (int(s) for s in args.sizes.split(",")):
        rooms = max(1, args.clients // size)
        # The same ladder of deliveries per second for every size.
        rates = ",".join(
            str(max(1, round(d / size)))
            for d in (5000, 10000, 20000, 40000, 60000, 80000, 100000, 120000, 140000)
        )
        name = f"roomsize-{size}"
        print(f"== {name}: {rooms} room(s) of {size}", flush=True)
        with stack(args.workers_for_rooms) as url:
            fanout(
                url,
                rooms,
                size,
                rates,
                args.step_seconds,
                min(args.processes, rooms),
                args.out / f"{name}.json",
            )


def connections(args: argparse.Namespace) -> None:
    """Benchmark 3: idle WebSockets held through nginx, memory per connection."""
    name = f"connections-{args.count}"
    print(f"== {name}", flush=True)
    with stack(args.workers_for_connections) as url:
        subprocess.run(
            [
                sys.executable,
                str(HERE / "idle_connections.py"),
                "--url",
                url,
                "--count",
                str(args.count),
                "--hold",
                str(args.hold),
                "--processes",
                str(args.processes),
                "--json",
                str(args.out / f"{name}.json"),
            ],
            check=True,
        )


def redis_counters(port: int) -> dict[str, int]:
    """Commands Redis processed (scripts' inner calls included) and EVALSHA calls."""
    import redis

    client = redis.Redis(port=port)
    stats = client.info("stats")
    commands = client.info("commandstats")
    return {
        "commands": int(stats["total_commands_processed"]),
        "evalsha": int(commands.get("cmdstat_evalsha", {}).get("calls", 0)),
        "publish": int(commands.get("cmdstat_publish", {}).get("calls", 0)),
    }


def cost(args: argparse.Namespace) -> None:
    """Benchmark 4: CPU per message and per delivery at a fixed rate, Redis ops per message."""
    for workers in (int(w) for w in args.workers.split(",")):
        for batch in ("true", "false"):
            name = f"cost-{workers}w-{args.rate}-batch-{batch}"
            print(f"== {name}", flush=True)
            with stack(workers, extra={"BATCH_WRITES": batch}) as url:
                port = stack.redis_port  # type: ignore[attr-defined]
                before = redis_counters(port)
                run = fanout(
                    url, 20, 10, str(args.rate), 30, args.processes, args.out / f"{name}.json"
                )
                after = redis_counters(port)
            step = run["steps"][0]
            acked = max(1, step["acked"])
            run["redis_per_message"] = {
                key: round((after[key] - before[key]) / acked, 2) for key in after
            }
            (args.out / f"{name}.json").write_text(json.dumps(run, indent=2))
            print(json.dumps(run["redis_per_message"]), flush=True)


def locust_rows(csv_path: Path) -> dict[str, dict[str, str]]:
    """Locust's *_stats.csv rows by "type name" ("ack send_message"; " Aggregated")."""
    with csv_path.open() as handle:
        return {f"{row['Type']} {row['Name']}": row for row in csv.DictReader(handle)}


def locust(args: argparse.Namespace) -> None:
    """Locust's own generator against the stack: what it drives, and what it costs itself.

    The users chat with no think time, so the figure is Locust's ceiling on this box (the
    reason the throughput runs use fanout_bench.py)."""
    name = f"locust-{args.users}u-{args.locust_processes}p"
    print(f"== {name}", flush=True)
    prefix = args.out / name
    env = os.environ | {
        "LOCUST_THINK_MIN": "0",
        "LOCUST_THINK_MAX": "0.01",
        "LOCUST_ROOM_PREFIX": f"bench{random.randrange(10**6)}",
    }
    with stack(args.workers_for_rooms) as url:
        pids = server_pids()
        server_before = {group: cpu_seconds(p) for group, p in pids.items()}
        usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        subprocess.run(
            [
                str(BIN / "locust"),
                "-f",
                str(HERE / "locustfile.py"),
                "--host",
                url,
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.users),
                "--run-time",
                f"{args.locust_seconds:.0f}s",
                "--processes",
                str(args.locust_processes),
                "--stop-timeout",
                "10",
                "--csv",
                str(prefix),
                "--only-summary",
            ],
            env=env,
            check=False,
        )
        wall = time.monotonic() - started
        usage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        server = {
            group: round(100 * (cpu_seconds(p) - server_before[group]) / wall, 1)
            for group, p in pids.items()
        }
    generator_cpu = (usage_after.ru_utime - usage_before.ru_utime) + (
        usage_after.ru_stime - usage_before.ru_stime
    )
    rows = locust_rows(Path(f"{prefix}_stats.csv"))
    acks, fanout_row = rows["ack send_message"], rows["fanout new_message"]
    lost = rows.get("delivery lost", {}).get("Failure Count", "0")
    total = rows[" Aggregated"]
    result = {
        "users": args.users,
        "locust_processes": args.locust_processes,
        "seconds": round(wall, 1),
        "acked_msg_s": round(float(acks["Requests/s"]), 1),
        "ack_p99_ms": float(acks["99%"]),
        "deliveries_s": round(float(fanout_row["Requests/s"]), 1),
        "fanout_p50_ms": float(fanout_row["50%"]),
        "fanout_p99_ms": float(fanout_row["99%"]),
        "failures": int(total["Failure Count"]),
        "lost": int(lost),
        # Over the whole run (ramp and stop included), % of one core.
        "generator_cpu_pct": round(100 * generator_cpu / wall, 1),
        "server_cpu_pct": server,
    }
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "what",
        choices=[
            "throughput",
            "room-size",
            "connections",
            "cost",
            "locust",
            "actions",
            "logins",
            "uploads",
            "all",
        ],
    )
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--classes", default="gevent-websocket,gevent")
    parser.add_argument("--rates", default=DEFAULT_RATES)
    parser.add_argument("--step-seconds", type=float, default=15)
    parser.add_argument("--processes", type=int, default=2, help="generator processes")
    parser.add_argument("--sizes", default="2,10,100,1000")
    parser.add_argument("--clients", type=int, default=1000, help="clients in room-size runs")
    parser.add_argument("--workers-for-rooms", type=int, default=2)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--hold", type=float, default=300)
    parser.add_argument("--workers-for-connections", type=int, default=2)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--users", type=int, default=200, help="Locust users")
    parser.add_argument("--locust-processes", type=int, default=2)
    parser.add_argument("--locust-seconds", type=float, default=60)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the actions run")
    parser.add_argument("--login-rate", type=float, default=50, help="logins/s offered")
    parser.add_argument("--upload-rate", type=float, default=5, help="photo uploads/s offered")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    runs = {
        "throughput": [throughput],
        "room-size": [room_size],
        "connections": [connections],
        "cost": [cost],
        "locust": [locust],
        "actions": [actions],
        "logins": [logins],
        "uploads": [uploads],
        "all": [throughput, room_size, cost, connections, locust],
    }[args.what]
    for run in runs:
        run(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
