"""The Node yardstick of BENCHMARKS.md (loadtests/node_stack.py, node_baseline/server.mjs)
speaks what the fan-out generator measures: joined clients get every acknowledged
message of their room, and its processes' CPU is counted as the workers'. Without this, a
comparison could measure a yardstick that drops messages or reads no CPU at all.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.processes import REPO_ROOT, free_port

pytestmark = pytest.mark.integration

LOADTESTS = REPO_ROOT / "loadtests"
sys.path.insert(0, str(LOADTESTS))

from node_stack import node_stack  # noqa: E402


def test_the_node_yardstick_delivers_every_acknowledged_message(tmp_path):
    result_file = tmp_path / "node.json"
    with node_stack(2, [free_port(), free_port()], free_port(), free_port()) as url:
        subprocess.run(
            [
                *(sys.executable, str(LOADTESTS / "fanout_bench.py"), "--url", url),
                *("--rooms", "4", "--members", "5", "--rates", "100", "--step-seconds", "3"),
                *("--processes", "1", "--json", str(result_file)),
            ],
            check=True,
            timeout=90,
            capture_output=True,
        )
    step = json.loads(result_file.read_text())["steps"][0]
    assert step["held"], step
    assert step["acked"] >= 250 and step["lost"] == 0 and step["refused"] == 0, step
    assert step["server_cpu_pct"]["workers"] > 0, step
