"""A Node.js script as a child process that reports in JSON lines, for tests that drive
JavaScript clients (the official socket.io-client, the client core) from pytest."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class NodeScript:
    """`node script args…`: stdout read line by line (JSON) by a thread, stdin writable.

    `wait_for` fails as soon as the script reports one of `failures` (a line that is not
    JSON reports "stray output"), so a broken client fails the test at once with what it
    saw.
    """

    def __init__(
        self,
        script: Path,
        args: list[str],
        cwd: Path,
        env: Mapping[str, str] | None = None,
        failures: tuple[str, ...] = ("error", "timeout"),
    ) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not installed (Node 20)")
        self.failures = failures
        self.process = subprocess.Popen(
            [node, str(script), *args],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                self.lines.put(json.loads(line))
            except json.JSONDecodeError:
                self.lines.put({"event": "stray output", "text": line.rstrip()})

    def wait_for(self, event: str, timeout: float = 20) -> dict[str, Any]:
        """The next line reporting `event`; AssertionError on a failure line or timeout."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {event!r} from {self.process.args}; saw {self.seen}")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(line)
            if line["event"] in self.failures:
                raise AssertionError(f"the script failed: {line}; saw {self.seen}")
            if line["event"] == event:
                return line

    def events(self, name: str) -> list[dict[str, Any]]:
        """Every line seen so far that reported `name`."""
        return [line for line in self.seen if line["event"] == name]

    def tell(self, text: str) -> None:
        """One line on the script's stdin."""
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def stop(self) -> int:
        """Its exit code, after SIGTERM (then SIGKILL) if it is still running."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)
