"""Fault tests report what they measured: printed, and kept under artifacts/reliability/."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "reliability"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, figures: dict[str, Any]) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(figures, indent=2, default=str))
    print(f"\n[{name}] " + json.dumps(figures, default=str))
