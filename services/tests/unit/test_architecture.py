"""The shape of services/talkrooms holds: the import-linter contracts in pyproject.toml
(layers between the subpackages, a pure protocol) are kept, and the top level holds only
the app factory, the settings and the entry points (docs/architecture.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PACKAGE = REPO / "services" / "talkrooms"
TOP_LEVEL_MODULES = {"__init__.py", "app.py", "cli.py", "settings.py", "wsgi.py"}
SUBPACKAGES = {
    "accounts",
    "chat",
    "files",
    "moderation",
    "notify",
    "jobs",
    "ops",
    "protocol",
    "realtime",
    "storage",
    "telemetry",
    "web",
}


def test_the_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), str(REPO / "pyproject.toml")],
        cwd=REPO / "services",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_the_top_level_holds_only_entry_points_and_settings():
    modules = {p.name for p in PACKAGE.glob("*.py")}
    assert modules == TOP_LEVEL_MODULES
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert packages == SUBPACKAGES


def test_every_subpackage_says_what_it_owns_and_may_import():
    for name in SUBPACKAGES:
        doc = (PACKAGE / name / "__init__.py").read_text()
        assert doc.startswith('"""'), name
        if name != "protocol":
            assert "May import:" in doc, name
