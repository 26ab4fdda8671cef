"""The database foundation on SQLite and on a real PostgreSQL: Alembic from empty to head
and back, the models in step with the migrations, SQLite's pragmas, `talkrooms db`, and
`make run` migrating before its workers start."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from talkrooms.accounts import models
from talkrooms.files import models as file_models  # noqa: F401 (its table joins the metadata)
from talkrooms.moderation import models as moderation_models  # noqa: F401 (the same)
from talkrooms.notify import models as notify_models  # noqa: F401 (the same)
from talkrooms.ops import stack
from talkrooms.storage import database

pytestmark = pytest.mark.integration

HEAD = "0010_review_client_id"
PROFILE_COLUMNS = {"display_name", "bio", "avatar_color"}
TABLES = {
    "accounts",
    "refresh_tokens",
    "conversations",
    "conversation_members",
    "blocks",
    "files",
    "rooms",
    "room_moderators",
    "administrators",
    "audit_log",
    "sanctions",
    "room_members",
}


def tables(url: str) -> set[str]:
    engine = database.make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_to_head_and_downgrade_to_base(database_url):
    assert database.current_revision(database_url) is None
    database.upgrade(database_url)
    assert database.current_revision(database_url) == HEAD
    assert tables(database_url) >= TABLES
    database.upgrade(database_url)  # a second run changes nothing
    database.downgrade(database_url, "base")
    assert database.current_revision(database_url) is None
    assert not TABLES & tables(database_url)
    database.upgrade(database_url)
    assert database.current_revision(database_url) == HEAD


def columns(url: str, table: str) -> set[str]:
    engine = database.make_engine(url)
    try:
        return {column["name"] for column in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def test_the_profiles_migration_keeps_existing_accounts_both_ways(database_url):
    """0002 adds the profile columns to accounts made before it (their profile is the
    default one) and takes them away again without losing the accounts."""
    database.upgrade(database_url, "0001_accounts")
    assert not PROFILE_COLUMNS & columns(database_url, "accounts")
    engine = database.make_engine(database_url)
    now = datetime.now(UTC)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO accounts (username, username_identity, password_hash,"
                    " created_at, password_changed_at) VALUES ('Old', 'old', 'x', :now, :now)"
                ),
                {"now": now},
            )
    finally:
        engine.dispose()
    database.upgrade(database_url)
    assert database.current_revision(database_url) == HEAD
    assert columns(database_url, "accounts") >= PROFILE_COLUMNS
    db = database.Database(database_url)
    old = db.run(lambda session: session.query(models.Account).one())
    assert (old.display_name, old.bio, old.avatar_color) == (None, "", None)
    db.dispose()
    database.downgrade(database_url, "0001_accounts")
    assert database.current_revision(database_url) == "0001_accounts"
    assert not PROFILE_COLUMNS & columns(database_url, "accounts")
    engine = database.make_engine(database_url)
    try:
        with engine.connect() as connection:
            names = connection.execute(text("SELECT username FROM accounts")).scalars().all()
    finally:
        engine.dispose()
    assert names == ["Old"]


def test_the_models_match_the_migrations(database_url):
    database.upgrade(database_url)
    engine = database.make_engine(database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(
                MigrationContext.configure(connection), database.Base.metadata
            )
    finally:
        engine.dispose()
    assert differences == []


def test_foreign_keys_and_unique_names_are_enforced(database_url):
    database.upgrade(database_url)
    db = database.Database(database_url)
    now = datetime.now(UTC)

    def orphan_token(session):
        session.add(
            models.RefreshToken(
                account_id=12345,
                family_id="f",
                token_hash="0" * 64,
                created_at=now,
                expires_at=now,
            )
        )

    with pytest.raises(IntegrityError):
        db.run(orphan_token)

    def account(session):
        session.add(
            models.Account(
                username="Alice",
                username_identity="alice",
                password_hash="x",
                created_at=now,
                password_changed_at=now,
            )
        )

    db.run(account)
    with pytest.raises(IntegrityError):
        db.run(account)
    stored = db.run(lambda session: session.query(models.Account).one().created_at)
    assert stored == now and stored.tzinfo is not None
    db.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    url = f"sqlite:///{tmp_path / 'nested' / 'talkrooms.db'}"
    engine = database.make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()
    assert (tmp_path / "nested" / "talkrooms.db").exists()


def talkrooms(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [str(Path(sys.executable).with_name("talkrooms")), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_the_db_command_upgrades_reports_and_downgrades(database_url):
    assert talkrooms("db", "current", url=database_url).stdout.strip() == "base"
    upgraded = talkrooms("db", "upgrade", url=database_url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert HEAD in upgraded.stdout
    assert talkrooms("db", "current", url=database_url).stdout.strip() == HEAD
    downgraded = talkrooms("db", "downgrade", "base", url=database_url)
    assert downgraded.returncode == 0, downgraded.stderr
    assert talkrooms("db", "current", url=database_url).stdout.strip() == "base"


def test_make_run_gives_its_workers_one_migrated_database_in_run(tmp_path):
    plan = stack.plan(run_dir=tmp_path, workers=2, optional_programs=())
    url = f"sqlite:///{tmp_path / 'talkrooms.db'}"
    assert plan.effective_database_url == url
    workers = [p for p in stack.programs(plan) if p.name.startswith("worker-")]
    assert workers and all(p.environment["DATABASE_URL"] == url for p in workers)
    stack.migrate(plan)
    assert database.current_revision(url) == HEAD
    other = stack.plan(run_dir=tmp_path, database_url="postgresql+psycopg://db/talkrooms")
    assert other.effective_database_url == "postgresql+psycopg://db/talkrooms"


LOOP_PROBE = """
import gevent.monkey
gevent.monkey.patch_all()
import json, sys, time
import gevent
from talkrooms.accounts import passwords
from talkrooms.storage.database import Database, offload, upgrade

url, mode = sys.argv[1], sys.argv[2]
upgrade(url)
db = Database(url)
gaps = []

def ticker():
    last = time.perf_counter()
    while True:
        gevent.sleep(0.005)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now

def work():
    for _ in range(3):
        if mode == "offload":
            offload(passwords.hash_password, "correct horse battery")
            db.run(lambda session: session.execute(__import__("sqlalchemy").text("SELECT 1")))
        else:
            passwords.hash_password("correct horse battery")

tick = gevent.spawn(ticker)
gevent.sleep(0.05)
gaps.clear()
gevent.spawn(work).join()
gevent.sleep(0.05)  # the ticker wakes up once more: a stall ending now is counted
tick.kill()
print(json.dumps(max(gaps)))
"""


def longest_loop_stall(url: str, mode: str) -> float:
    result = subprocess.run(
        [sys.executable, "-c", LOOP_PROBE, url, mode],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return float(result.stdout.strip().splitlines()[-1])


def test_hashing_and_queries_run_off_the_gevent_loop(tmp_path):
    """Inline, an argon2 hash stalls every other greenlet for its whole duration; through
    `offload` (gevent's thread pool) the loop keeps turning."""
    url = f"sqlite:///{tmp_path / 'probe.db'}"
    inline = longest_loop_stall(url, "inline")
    offloaded = longest_loop_stall(url, "offload")
    assert inline > 0.05, inline
    assert offloaded < inline / 2, (offloaded, inline)
