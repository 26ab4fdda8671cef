"""scripts/install-system-deps.sh, run with its paths and commands pointed at a temp dir.

The real /usr/sbin/policy-rc.d and apt-get are never touched: POLICY_RC_D, APT_GET,
DPKG_QUERY and INSTALL_AS_UID point the script at stand-ins that record what they saw.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "install-system-deps.sh"
OUR_POLICY = "#!/bin/sh\nexit 101\n"
THEIR_POLICY = "#!/bin/sh\n# shipped by the image\nexit 101\n"


def _stand_in(path: Path, body: str) -> Path:
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(0o755)
    return path


@pytest.fixture
def sandbox(tmp_path: Path) -> dict[str, Path]:
    """Stand-ins: dpkg-query says nothing is installed; apt-get logs each call and
    whether a policy-rc.d refusing service starts was in place while it ran."""
    log = tmp_path / "apt.log"
    policy = tmp_path / "policy-rc.d"
    apt = _stand_in(
        tmp_path / "apt-get",
        f'echo "$* policy=$(test -x {policy} && {policy}; echo $?)" >> {log}\n',
    )
    dpkg = _stand_in(tmp_path / "dpkg-query", "exit 1\n")
    return {"log": log, "policy": policy, "apt": apt, "dpkg": dpkg}


def _run(sandbox: dict[str, Path], *packages: str, uid: int = 0) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        POLICY_RC_D=str(sandbox["policy"]),
        APT_GET=str(sandbox["apt"]),
        DPKG_QUERY=str(sandbox["dpkg"]),
        INSTALL_AS_UID=str(uid),
    )
    return subprocess.run(
        ["bash", str(SCRIPT), *packages],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_first_install_without_a_policy_file_exits_0_and_removes_its_own(sandbox):
    result = _run(sandbox, "redis-server", "nginx")
    assert result.returncode == 0, result.stderr
    calls = sandbox["log"].read_text().splitlines()
    assert calls[0].startswith("update")
    assert "install -y -qq --no-install-recommends redis-server nginx" in calls[1]
    # Services were refused their automatic start (exit 101) during the install...
    assert all(call.endswith("policy=101") for call in calls)
    # ...and the file we created is gone afterwards.
    assert not sandbox["policy"].exists()


def test_first_install_with_a_shipped_policy_file_exits_0_and_keeps_it(sandbox):
    sandbox["policy"].write_text(THEIR_POLICY)
    sandbox["policy"].chmod(0o755)
    result = _run(sandbox, "redis-server", "nginx")
    assert result.returncode == 0, result.stderr
    assert "install" in sandbox["log"].read_text()
    assert sandbox["policy"].read_text() == THEIR_POLICY


def test_a_failed_install_still_fails_and_still_cleans_up(sandbox):
    _stand_in(sandbox["apt"], 'if [ "$1" = install ]; then exit 100; fi\n')
    result = _run(sandbox, "nginx")
    assert result.returncode == 100
    assert not sandbox["policy"].exists()


def test_nothing_missing_installs_nothing(sandbox):
    _stand_in(sandbox["dpkg"], 'echo "install ok installed"\n')
    result = _run(sandbox, "nginx")
    assert result.returncode == 0
    assert not sandbox["log"].exists()
    assert not sandbox["policy"].exists()


def test_missing_packages_without_root_are_named(sandbox):
    result = _run(sandbox, "nginx", uid=1000)
    assert result.returncode == 1
    assert "Missing Debian packages: nginx" in result.stderr
    assert not sandbox["log"].exists()


def test_no_script_ends_a_function_or_trap_on_a_bare_and_list():
    """Under `set -e`, `[ cond ] && cmd` as a function's last command returns 1 when
    cond is false, and an EXIT trap's status becomes the script's (issue 15)."""
    scripts = [p for p in SCRIPT.parent.iterdir() if p.suffix == ".sh"]
    scripts += [Path(SCRIPT.parents[1], ".ci", "run")]
    for script in scripts:
        for number, line in enumerate(script.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            one_line_function = "() {" in code and "&&" in code.split("() {", 1)[1]
            trap_with_and = code.lstrip().startswith("trap ") and "&&" in code
            assert not (one_line_function or trap_with_and), f"{script.name}:{number}: {line}"


def test_make_test_installs_postgresql_for_the_database_suite():
    """The database tests run on a throw-away PostgreSQL 15 cluster (Debian's package)."""
    makefile = (SCRIPT.parents[1] / "Makefile").read_text().splitlines()
    test_deps = next(line for line in makefile if line.startswith("TEST_DEPS :="))
    assert "postgresql" in test_deps.split(":=", 1)[1].split()
