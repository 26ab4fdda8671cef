"""The client core (client/, @talkrooms/client) with the real socket.io-client against a
real stack: Redis, 2 gunicorn workers and nginx. The scenarios live in the core's Jest
suite `stack` (client/test/stack/): join, send with an ack, two clients, a dropped
connection with its gap fill, the outbox re-sent after a reconnection and de-duplicated
by client_id, typing. This test starts the stack and runs that suite against it.

A second test runs client/test/stack/restart-client.mjs (the built core, client/dist)
and restarts the worker holding its socket in the middle, like test_conformance_js.py:
what it typed meanwhile and what others sent arrive once, in order, with no hole.

`make client-deps` installs the core's node_modules (npm ci) and `make client` builds
dist/; `make test` runs both first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from tests.support.client import ChatClient
from tests.support.node import NodeScript
from tests.support.processes import REPO_ROOT
from tests.support.stack import Cluster, restartable_cluster

pytestmark = pytest.mark.integration

CLIENT = REPO_ROOT / "client"
JEST = CLIENT / "node_modules" / "jest" / "bin" / "jest.js"
RESTART_CLIENT = CLIENT / "test" / "stack" / "restart-client.mjs"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with restartable_cluster(tmp_path_factory.mktemp("client-core-js"), 2) as stack:
        yield stack


def run_stack_suite(url: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not JEST.exists():
        pytest.fail("client/node_modules is missing: run `make client-deps`")
    return subprocess.run(
        [node, str(JEST), "--selectProjects", "stack", "--runInBand", "--ci", "--colors=false"],
        cwd=CLIENT,
        env={**os.environ, "TALKROOMS_URL": url},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_client_core_chats_reconnects_and_fills_gaps_against_a_real_stack(
    cluster: Cluster,
) -> None:
    result = run_stack_suite(cluster.url)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # The suite ran against the server (it skips itself without TALKROOMS_URL).
    assert "skipped" not in output.split("Tests:", 1)[-1].splitlines()[0], output
    assert " passed" in output, output
    print(output)


def core_client(url: str, room: str) -> NodeScript:
    """restart-client.mjs (the built core, client/dist) as a child process."""
    if not (CLIENT / "dist" / "index.js").exists():
        pytest.fail("client/dist is missing: run `make client`")
    return NodeScript(RESTART_CLIENT, [url, room], cwd=CLIENT, failures=("timeout", "stray output"))


def test_the_client_core_loses_and_repeats_nothing_across_a_worker_restart(
    cluster: Cluster, room_name: str
) -> None:
    core = core_client(cluster.url, room_name)
    bob = ChatClient(cluster.url).connect()
    try:
        bob.join("bob", room_name)
        ready = core.wait_for("ready")
        index = next(
            i for i, worker in enumerate(cluster.workers) if ready["sid"] in cluster.sids_on(worker)
        )
        assert cluster.restart_worker(index).healthy()
        others = [f"from bob {n}" for n in range(3)]
        for text in others:
            assert bob.send(text)["ok"]
        core.tell(str(len(others)))
        done = core.wait_for("done", timeout=60)
        code = core.process.wait(timeout=20)
    finally:
        bob.close()
        core.stop()
    assert code == 0, core.seen
    assert "reconnecting" in done["states"], done
    texts = done["texts"]
    assert sorted(texts) == sorted(
        ["before the restart", "typed while away", "after the restart", *others]
    ), done
    assert texts.index("before the restart") == 0
    assert texts.index("typed while away") < texts.index("after the restart")
    ids = done["ids"]
    assert ids == list(range(ids[0], ids[0] + len(ids))), done
    assert done["pending"] == 0
