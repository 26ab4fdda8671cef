"""Where an idle connection's memory goes in a chat worker, by allocating line.

    .venv/bin/python loadtests/connection_memory.py --count 2000

One chat worker runs in this process (gevent's WSGI server with the gunicorn worker's
WebSocket handler, the app as `talkrooms.wsgi` builds it) on its own redis-server, with
tracemalloc on. idle_connections.py's clients connect and join rooms of 10 from a child
process; once all are in, a snapshot is compared with one taken before they came.
Reported: RSS and traced memory gained per connection, the top allocating lines (per
connection), and the object types that grew. Greenlets' saved stacks are allocated by
greenlet's C code outside tracemalloc: the RSS gain minus the traced gain bounds them.
Also reported: what the greenlets blocked reading a WebSocket keep (Python frames under
the read, bytes of C stack greenlet saved for them; section 22 of BENCHMARKS.md).

With --no-trace only the resident memory is compared: tracemalloc's tables (tens of
bytes per traced block) are resident too and inflate the RSS gain.
"""

import gevent
from gevent import monkey

monkey.patch_all()
gevent.config.track_greenlet_tree = False  # as talkrooms.wsgi sets it

import argparse  # noqa: E402
import contextlib  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from idle_connections import rss_kb  # noqa: E402
from run_benchmarks import BENCH_ENV, free_port, redis_server  # noqa: E402

FRAMES = 12


def start_redis(port: int, folder: Path) -> subprocess.Popen[bytes]:
    """run_benchmarks.redis_server, once it answers PING."""
    import redis

    process = redis_server(port, folder)
    for _ in range(100):
        try:
            redis.Redis(port=port).ping()
            return process
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def measure(no_trace: bool) -> tuple[Any, int, Counter[str]]:
    """A tracemalloc snapshot, the traced total and the objects by type (none untraced)."""
    if no_trace:
        return None, 0, Counter()
    return tracemalloc.take_snapshot(), tracemalloc.get_traced_memory()[0], type_counts()


def reading_stacks() -> dict[str, Any]:
    """The greenlets blocked reading a WebSocket: how many Python frames they hold (Python
    3.11 keeps them in a data stack of the greenlet's own, whose touched pages stay
    resident) and how much of the C stack greenlet saved for them."""
    import greenlet

    frames, saved = [], []
    for obj in gc.get_objects():
        if not isinstance(obj, greenlet.greenlet) or obj.gr_frame is None:
            continue
        names = []
        frame = obj.gr_frame
        while frame is not None:
            names.append(frame.f_code.co_name)
            frame = frame.f_back
        if "websocket_handler" in names:
            frames.append(len(names))
            saved.append(obj._stack_saved)
    if not frames:
        return {"greenlets": 0}
    return {
        "greenlets": len(frames),
        "python_frames": max(set(frames), key=frames.count),
        "saved_c_stack_bytes": max(set(saved), key=saved.count),
    }


def type_counts() -> Counter[str]:
    gc.collect()
    return Counter(type(o).__name__ for o in gc.get_objects())


@contextlib.contextmanager
def worker_in_process() -> Iterator[tuple[int, Any]]:
    """One chat worker in this process on its own redis-server: (its port, its Engine.IO
    server). Stopped, with its Redis, on exit."""
    folder = Path(tempfile.mkdtemp(prefix="talkrooms-memory-"))
    redis_port, port = free_port(), free_port()
    redis_process = start_redis(redis_port, folder)
    os.environ.update(BENCH_ENV)
    os.environ.update(
        {
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "DATABASE_URL": f"sqlite:///{folder}/talkrooms.db",
            "UPLOAD_DIR": str(folder / "uploads"),
            "WORKER_ROUTE": "m1",
        }
    )
    from gevent.pywsgi import WSGIServer

    from talkrooms.app import create_app
    from talkrooms.realtime.gunicorn_worker import LeanWebSocketHandler
    from talkrooms.settings import Settings
    from talkrooms.storage.database import upgrade

    upgrade(os.environ["DATABASE_URL"])
    app, socketio = create_app(Settings())
    server = WSGIServer(("127.0.0.1", port), app, handler_class=LeanWebSocketHandler, log=None)
    server.start()
    try:
        gevent.sleep(3)  # start-up chores
        yield port, socketio.server.eio
    finally:
        server.stop(timeout=1)
        redis_process.terminate()
        redis_process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def top_lines(after: Any, before: Any, per: int, top: int) -> list[dict[str, Any]]:
    """The allocating lines that grew most between two snapshots, per unit of `per`."""
    lines = []
    for stat in after.compare_to(before, "traceback")[:top]:
        frames = [f"{f.filename.split('site-packages/')[-1]}:{f.lineno}" for f in stat.traceback]
        lines.append(
            {
                "bytes_per_unit": round(stat.size_diff / per, 1),
                "blocks_per_unit": round(stat.count_diff / per, 2),
                "where": frames[-1],
                "via": frames[-4:-1][::-1],
            }
        )
    return lines


def grown_types(after: Counter[str], before: Counter[str], per: int) -> dict[str, float]:
    """Object types that grew by at least half an object per unit."""
    grown = {
        name: round((after[name] - before.get(name, 0)) / per, 2)
        for name in after
        if after[name] - before.get(name, 0) >= per // 2
    }
    return dict(sorted(grown.items(), key=lambda kv: -kv[1]))


def emit(report: dict[str, Any], path: Path | None) -> None:
    """Print the report, and write it to `path` if given."""
    text = json.dumps(report, indent=1)
    print(text)
    if path:
        path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--no-trace", action="store_true", help="RSS only, without tracemalloc's tables"
    )
    args = parser.parse_args(argv)

    with worker_in_process() as (port, eio):
        if not args.no_trace:
            tracemalloc.start(FRAMES)
        gc.collect()
        before, traced_before, types_before = measure(args.no_trace)
        rss_before = rss_kb([os.getpid()])
        clients = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "idle_connections.py"),
                "--url",
                f"http://127.0.0.1:{port}",
                "--count",
                str(args.count),
                "--hold",
                "20",
                "--processes",
                "1",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 600
        while len(eio.sockets) < args.count and time.monotonic() < deadline:
            gevent.sleep(0.5)
        gevent.sleep(5)  # the last joins' work settles
        gc.collect()
        after, traced_after, types_after = measure(args.no_trace)
        rss_after = rss_kb([os.getpid()])
        stacks = reading_stacks()
        connected = len(eio.sockets)
        writers = [getattr(s, "direct_writer", None) for s in eio.sockets.values()]
        writers_running = sum(1 for w in writers if w is not None and w.greenlet is not None)
        clients.wait(timeout=300)

    per = max(connected, 1)
    report: dict[str, Any] = {
        "connections": connected,
        "writer_greenlets_running": writers_running,
        "rss_kb_per_connection": round((rss_after - rss_before) / per, 2),
        "reading_greenlets": stacks,
    }
    if not args.no_trace:
        report["traced_kb_per_connection"] = round((traced_after - traced_before) / 1024 / per, 2)
        report["top_lines"] = top_lines(after, before, per, args.top)
        report["objects_per_connection"] = grown_types(types_after, types_before, per)
    emit(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
