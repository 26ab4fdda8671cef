"""A 20-second Locust run through nginx against a real two-worker stack: zero failures.

The same locustfile `make loadtest` runs: chat users (join, send with acks, typing,
history, leave and come back, lost-delivery audit) and API readers.
"""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import pytest

from tests.support.processes import REPO_ROOT, VENV_BIN
from tests.support.stack import Cluster

pytestmark = pytest.mark.integration


@pytest.fixture
def cluster(work_dir):
    stack = Cluster(
        work_dir / "locust", workers=2, env={"LOG_LEVEL": "WARNING", "MESSAGE_RATE_LIMIT": "0"}
    ).start()
    yield stack
    stack.stop()


def test_locust_smoke_run_has_no_failures(cluster, tmp_path):
    prefix = tmp_path / "smoke"
    result = subprocess.run(
        [
            str(VENV_BIN / "locust"),
            "-f",
            str(REPO_ROOT / "loadtests" / "locustfile.py"),
            "--host",
            cluster.url,
            "--headless",
            "--users",
            "30",
            "--spawn-rate",
            "15",
            "--run-time",
            "20s",
            "--stop-timeout",
            "10",
            "--csv",
            str(prefix),
            "--only-summary",
        ],
        capture_output=True,
        text=True,
        timeout=90,
        env={
            "LOCUST_ROOM_MIX": "5:4,10:2",
            "LOCUST_THINK_MIN": "0.2",
            "LOCUST_THINK_MAX": "0.6",
            "PATH": "/usr/bin:/bin",
        },
    )
    with open(f"{prefix}_stats.csv") as handle:
        rows = {(r["Type"], r["Name"]): r for r in csv.DictReader(handle)}
    total = rows[("", "Aggregated")]
    failures = Path(f"{prefix}_failures.csv").read_text()
    assert int(total["Failure Count"]) == 0, failures
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(rows[("ack", "send_message")]["Request Count"]) > 50
    assert int(rows[("fanout", "new_message")]["Request Count"]) > 200
    assert ("delivery", "lost") not in rows
