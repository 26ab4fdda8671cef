"""What a parked greenlet keeps resident, by the depth of Python frames under its wait.

    .venv/bin/python loadtests/greenlet_pages.py --depths 1,20,30,40,60,120

Python 3.11 keeps a greenlet's frames in a data stack of its own (16 KB chunks, touched
page by page), and greenlet saves the C stack below the switch on the heap. Each depth
parks `--count` greenlets under that many small frames and reports the resident memory
gained per greenlet, each depth in a fresh process (memory freed by one depth would be
reused by the next): it steps by a 4 KB page as the frames cross one, which is why every
frame under a WebSocket's read counts (BENCHMARKS.md section 22).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import gevent
from gevent.event import Event

sys.path.insert(0, str(Path(__file__).resolve().parent))

from idle_connections import rss_kb

gevent.config.track_greenlet_tree = False  # as talkrooms.wsgi sets it


def park(depth: int, release: Event) -> None:
    """Wait for `release` under `depth` frames of this function."""
    if depth <= 1:
        release.wait()
        return
    park(depth - 1, release)


def kb_per_greenlet(depth: int, count: int) -> dict[str, float]:
    release = Event()
    gevent.sleep(0)
    before = rss_kb([os.getpid()])
    greenlets = [gevent.spawn(park, depth, release) for _ in range(count)]
    gevent.sleep(0.2)  # every greenlet has run up to its wait
    gained = rss_kb([os.getpid()]) - before
    saved = greenlets[0]._stack_saved
    release.set()
    gevent.joinall(greenlets)
    return {"depth": depth, "kb_per_greenlet": round(gained / count, 2), "saved_c_stack": saved}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--depths", default="1,20,30,40,60,120")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child: this depth
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(kb_per_greenlet(args.one, args.count)), flush=True)
        return 0
    for depth in args.depths.split(","):
        child = [sys.executable, __file__, "--one", depth, "--count", str(args.count)]
        subprocess.run(child, check=True, timeout=120)
    return 0


if __name__ == "__main__":
    sys.exit(main())
