"""Every pinned dependency sits at or above the release that fixed its published advisories.

The table is the result of the advisory check written down in docs/reliability.md
("Dependencies"); re-run that check and raise a floor here when a new advisory appears.
The lock file is what `make run` and the Dockerfile install, and the virtualenv running
these tests must match it.
"""

from __future__ import annotations

import json
import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.version import Version

REPO = Path(__file__).resolve().parents[3]
LOCK = REPO / "requirements.lock"

# package -> (lowest version without a known advisory, what that version fixed)
FLOORS: dict[str, tuple[str, str]] = {
    "python-socketio": (
        "5.16.2",
        "CVE-2026-48804 (binary attachments DoS); 5.14.0: CVE-2025-61765",
    ),
    "python-engineio": ("4.13.2", "CVE-2026-48802 (unbounded allocation), CVE-2026-48809"),
    "flask": ("3.1.3", "GHSA-68rp-wp8r-4726; 3.1.1: CVE-2025-47278"),
    "werkzeug": ("3.1.6", "CVE-2026-27199; 3.1.5: CVE-2026-21860; 3.1.4: CVE-2025-66221"),
    "jinja2": ("3.1.6", "CVE-2025-27516; 3.1.5: CVE-2024-56201, CVE-2024-56326"),
    "gunicorn": ("27.0.0", "CVE-2026-134820; 22.0.0: CVE-2024-1135, CVE-2024-6827"),
    "gevent": ("25.4.1", "pywsgi 100-continue (gevent#2075); 23.9.0: CVE-2023-41419"),
    "redis": ("4.5.4", "CVE-2023-28858, CVE-2023-28859"),
    "requests": ("2.33.0", "CVE-2026-25645; 2.32.4: CVE-2024-47081"),
    "urllib3": ("2.7.0", "CVE-2026-44432, CVE-2026-44431; 2.6.3: CVE-2026-21441"),
    "h11": ("0.16.0", "CVE-2025-43859"),
    "pyjwt": (
        "2.13.0",
        "CVE-2026-48522..48526 (forged JWT); 2.12.0: CVE-2026-32597; 2.10.1: CVE-2024-53861",
    ),
}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"not an exact pin in requirements.lock: {line!r}"
            pins[normalise(name)] = version
    return pins


@pytest.mark.parametrize("package", sorted(FLOORS))
def test_the_lock_pins_a_version_above_the_advisories(package: str) -> None:
    floor, fixed = FLOORS[package]
    pins = locked()
    assert package in pins, f"{package} is not in requirements.lock"
    assert Version(pins[package]) >= Version(floor), f"{package} {pins[package]} < {floor}: {fixed}"


@pytest.mark.parametrize("package", sorted(FLOORS))
def test_the_running_virtualenv_is_the_locked_one(package: str) -> None:
    assert metadata.version(package) == locked()[package]


def test_pyproject_floors_keep_the_socket_libraries_above_their_advisories() -> None:
    """A fresh resolve (`make lock`) cannot go below the fixed Socket.IO releases."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    floors = {}
    for requirement in project["dependencies"]:
        match = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^]]*\])?>=([0-9.]+)", requirement)
        if match:
            floors[normalise(match.group(1))] = Version(match.group(2))
    assert floors["python-socketio"] >= Version("5.16.2")
    assert floors["python-engineio"] >= Version("4.13.2")
    assert floors["flask"] >= Version("3.1.1")


def test_the_conformance_client_is_pinned_exactly() -> None:
    """The JavaScript client of test_conformance_js.py: one exact version, locked."""
    package = REPO / "services" / "tests" / "conformance"
    declared = json.loads((package / "package.json").read_text())["dependencies"]
    assert declared == {"socket.io-client": "4.8.4"}
    lock = json.loads((package / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/socket.io-client"]["version"] == "4.8.4"
