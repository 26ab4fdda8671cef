"""What a worker keeps after each visit: the soak's creep, by allocating line.

    .venv/bin/python loadtests/visit_memory.py --visits 4000

The 30-minute soak (soak.py) saw the workers' memory grow by a few MB every 10 minutes
while visitors came and went. Here one chat worker runs in this process (as in
connection_memory.py) with tracemalloc on; a child process sends the soak's visitors
(connect, join one of 50 rooms, send one message, leave, disconnect), first --warmup of
them, then --visits more. Snapshots after each are compared: what is still held once every
visitor has gone, per visit, by allocating line and by object type. A per-visit figure
that does not shrink with more visits is a leak; one that does is a cache filling up.
With --no-trace only the resident memory is compared (tracemalloc's own tables grow with
what it traces), at a rate nearer the soak's.
"""

import gevent
from gevent import monkey

monkey.patch_all()
gevent.config.track_greenlet_tree = False  # as talkrooms.wsgi sets it

import argparse  # noqa: E402
import gc  # noqa: E402
import multiprocessing as mp  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from connection_memory import (  # noqa: E402
    FRAMES,
    emit,
    grown_types,
    measure,
    top_lines,
    worker_in_process,
)
from idle_connections import rss_kb  # noqa: E402


def visitors(url: str, count: int, first: int, rate: float) -> dict[str, int]:
    """soak.py's visitors, `count` of them from number `first`, in a child process (its
    asyncio loop must not share this process's patched one)."""
    parent_end, child_end = mp.Pipe()
    context = mp.get_context("spawn")
    child = context.Process(target=_visit_main, args=(url, count, first, rate, child_end))
    child.start()
    deadline = time.monotonic() + 60 + count / rate * 2
    while not parent_end.poll() and time.monotonic() < deadline:
        gevent.sleep(0.2)  # the worker in this process keeps serving meanwhile
    counts: dict[str, int] = parent_end.recv() if parent_end.poll() else {"timed_out": count}
    child.join(timeout=10)
    return counts


def _visit_main(url: str, count: int, first: int, rate: float, pipe: Any) -> None:
    from soak import churn_main

    churn_main(url, rate, count / rate, pipe, first)


def settled(eio: Any) -> None:
    """Every visitor's socket is gone and its work done: Engine.IO's ping task of a closed
    socket holds it (its WebSocket, handler and queue) until its sleep ends, up to a ping
    interval later."""
    deadline = time.monotonic() + 60
    while eio.sockets and time.monotonic() < deadline:
        gevent.sleep(0.2)
    gevent.sleep(eio.ping_interval + 5)
    # Twice: finalizers the first collection runs (a closed WebSocket's __del__) make
    # new garbage of their own.
    gc.collect()
    gc.collect()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--visits", type=int, default=4000)
    # The soak's churn; tracemalloc slows the worker several times over.
    parser.add_argument("--rate", type=float, default=10.0, help="visits a second")
    parser.add_argument(
        "--no-trace",
        action="store_true",
        help="RSS only: tracemalloc's own tables grow with every new allocation site",
    )
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    with worker_in_process() as (port, eio):
        url = f"http://127.0.0.1:{port}"
        if not args.no_trace:
            tracemalloc.start(FRAMES)
        warm = visitors(url, args.warmup, 0, args.rate)
        settled(eio)
        before, traced_before, types_before = measure(args.no_trace)
        rss_before = rss_kb([os.getpid()])
        counts = visitors(url, args.visits, args.warmup, args.rate)
        settled(eio)
        after, traced_after, types_after = measure(args.no_trace)
        rss_after = rss_kb([os.getpid()])
        left_open = len(eio.sockets)

    per = max(args.visits, 1)
    report: dict[str, Any] = {
        "warmup": warm,
        "visits": counts,
        "sockets_left_open": left_open,
        "rss_bytes_per_visit": round((rss_after - rss_before) * 1024 / per, 1),
    }
    if not args.no_trace:
        report["traced_bytes_per_visit"] = round((traced_after - traced_before) / per, 1)
        report["top_lines"] = top_lines(after, before, per, args.top)
        report["objects_per_visit"] = grown_types(types_after, types_before, per)
    emit(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
