"""The garbage collector's pauses, and the objects it need not walk.

A collection runs inside whichever greenlet allocated last and stops the worker's event
loop, every socket with it. A full one walks every tracked object: after start-up that is
the app, Flask, SQLAlchemy and the rest, about 170,000 objects and 60 ms or more here,
paid again at every full collection for objects that live as long as the worker.
`freeze_startup_objects` moves them out of the collector's sight (gc.freeze); `watch`
times every collection into talkrooms_gc_pause_seconds{generation}.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from talkrooms.telemetry import metrics

_started = 0.0


def freeze_startup_objects() -> int:
    """Call once the app is built: what exists now is never collected again. Returns
    the number of objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def _on_collection(phase: str, info: dict[str, Any]) -> None:
    global _started
    if phase == "start":
        _started = time.perf_counter()
    elif _started:
        pause = time.perf_counter() - _started
        metrics.GC_PAUSE.labels(generation=str(info["generation"])).observe(pause)


def watch() -> None:
    """Time every collection of this process (once; later calls do nothing)."""
    if _on_collection not in gc.callbacks:
        gc.callbacks.append(_on_collection)
