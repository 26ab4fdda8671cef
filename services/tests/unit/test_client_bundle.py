"""The web UI's copy of the client core (static/vendor/talkrooms-client/talkrooms-client.js)
is committed, because nginx serves static files directly and `make run` needs no Node.
This test rebuilds it from client/src into a temporary folder and fails when the
committed file differs: run `make client` and commit the result.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.processes import REPO_ROOT

CLIENT = REPO_ROOT / "client"
BUNDLE = REPO_ROOT / "services/talkrooms/web/static/vendor/talkrooms-client/talkrooms-client.js"


def test_the_committed_web_bundle_of_the_client_core_is_up_to_date(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not (CLIENT / "node_modules" / "esbuild").exists():
        pytest.skip("client/node_modules is missing (node or `make client-deps`): cannot rebuild")
    result = subprocess.run(
        [node, "scripts/build.mjs", "--web-only", str(tmp_path)],
        cwd=CLIENT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rebuilt = (tmp_path / "talkrooms-client.js").read_text(encoding="utf-8")
    assert BUNDLE.exists(), "the web bundle is missing: run `make client`"
    assert BUNDLE.read_text(encoding="utf-8") == rebuilt, (
        f"{BUNDLE.relative_to(REPO_ROOT)} is stale: run `make client` and commit it"
    )


def test_the_web_bundle_leaves_socket_io_to_the_page() -> None:
    source = BUNDLE.read_text(encoding="utf-8")
    assert "socket.io-client" not in source.split("\n", 1)[1]
    assert "engine.io" not in source
