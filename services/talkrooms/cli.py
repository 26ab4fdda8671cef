"""The `talkrooms` command line: a thin layer over functions the tests call too.

Each subcommand is added by one `add_*_command` function that sets its `handler`; a new
subcommand is one more such function and one more line in `build_parser`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from talkrooms.accounts.service import AccountError
from talkrooms.jobs.commands import add_ops_commands
from talkrooms.moderation.service import ModerationService
from talkrooms.ops import redis_cluster, stack
from talkrooms.settings import DEFAULT_DATABASE_URL, Settings
from talkrooms.storage import database


def _env_int(name: str, default: int | None) -> int | None:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def add_run_command(commands: Any) -> None:
    """`talkrooms run`: Redis, N workers, nginx (and the RQ programs) under supervisord."""
    run = commands.add_parser("run", help="start the local stack in the foreground")
    run.add_argument("--port", type=int, default=_env_int("PORT", 5000), help="nginx's port")
    run.add_argument(
        "--workers",
        type=int,
        default=_env_int("WORKERS", None),
        help="chat worker processes (default: CPU cores, at least 2)",
    )
    run.add_argument("--redis-port", type=int, default=_env_int("REDIS_PORT", 6379))
    run.add_argument(
        "--worker-base-port",
        type=int,
        default=_env_int("WORKER_BASE_PORT", None),
        help="workers listen on BASE+1..BASE+N (default: the public port)",
    )
    run.add_argument(
        "--listen-host",
        default=os.environ.get("LISTEN_HOST") or stack.LOOPBACK,
        help="nginx's address; 0.0.0.0 opens it to the LAN (phones)",
    )
    run.add_argument(
        "--run-dir", type=Path, default=stack.RUN_DIR, help="configs, logs and Redis data"
    )
    run.add_argument(
        "--cluster",
        action="store_true",
        help="the chat on a local 6-node Redis Cluster (make run CLUSTER=1)",
    )
    run.add_argument(
        "--cluster-base-port",
        type=int,
        default=_env_int("CLUSTER_BASE_PORT", None),
        help="cluster nodes on BASE+1..BASE+6, their bus on BASE+7..BASE+12 (default: Redis')",
    )
    run.set_defaults(handler=_run)


def add_cluster_form_command(commands: Any) -> None:
    """`talkrooms redis-cluster-form --ports ...`: make run's one-shot that forms the cluster."""
    form = commands.add_parser(
        "redis-cluster-form", help="form a Redis Cluster of running nodes (or reuse it)"
    )
    form.add_argument("--ports", required=True, help="the nodes' ports, comma-separated")
    form.add_argument("--replicas", type=int, default=1, help="replicas per primary")
    form.add_argument("--timeout", type=float, default=60, help="seconds to wait at most")
    form.add_argument("--redis-cli", default="redis-cli", help="the redis-cli binary")
    form.set_defaults(handler=_cluster_form)


def _cluster_form(args: argparse.Namespace) -> int:
    ports = [int(port) for port in args.ports.split(",") if port.strip()]
    try:
        created = redis_cluster.form_or_reuse(ports, args.replicas, args.timeout, args.redis_cli)
    except redis_cluster.ClusterError as exc:
        print(f"Redis Cluster on {ports}: {exc}", file=sys.stderr)
        return 1
    print(f"Redis Cluster on {ports} {'formed' if created else 'already formed, healthy'}")
    return 0


def add_db_command(commands: Any) -> None:
    """`talkrooms db upgrade|downgrade|current`: the Alembic migrations of DATABASE_URL."""
    db = commands.add_parser("db", help="migrate the database (DATABASE_URL)")
    actions = db.add_subparsers(dest="db_command", required=True)
    upgrade = actions.add_parser("upgrade", help="migrate to a revision (default: head)")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(handler=_db_upgrade)
    downgrade = actions.add_parser("downgrade", help="migrate down to a revision (base: empty)")
    downgrade.add_argument("revision")
    downgrade.set_defaults(handler=_db_downgrade)
    current = actions.add_parser("current", help="print the database's revision")
    current.set_defaults(handler=_db_current)


def _db_upgrade(args: argparse.Namespace) -> int:
    url = Settings().database_url
    database.upgrade(url, args.revision)
    print(f"database at {database.current_revision(url) or 'base'}")
    return 0


def _db_downgrade(args: argparse.Namespace) -> int:
    url = Settings().database_url
    database.downgrade(url, args.revision)
    print(f"database at {database.current_revision(url) or 'base'}")
    return 0


def _db_current(_args: argparse.Namespace) -> int:
    print(database.current_revision(Settings().database_url) or "base")
    return 0


def _run(args: argparse.Namespace) -> int:
    settings = Settings()
    plan = stack.plan(
        public_port=args.port,
        workers=args.workers,
        redis_port=args.redis_port,
        worker_base_port=args.worker_base_port,
        public_host=args.listen_host,
        run_dir=args.run_dir.resolve(),
        # DATABASE_URL when set; else the default SQLite file, in this run folder.
        database_url=None
        if settings.database_url == DEFAULT_DATABASE_URL
        else settings.database_url,
        cluster=args.cluster,
        cluster_base_port=args.cluster_base_port,
    )
    return stack.run(plan)


def add_admin_command(commands: Any) -> None:
    """`talkrooms admin grant|revoke USERNAME`, `talkrooms admin list`: the instance's
    administrators (besides ADMIN_USERNAMES), who may moderate and hand over any room."""
    admin = commands.add_parser("admin", help="instance administrators (DATABASE_URL)")
    actions = admin.add_subparsers(dest="admin_command", required=True)
    for name, text in (("grant", "make an account an administrator"), ("revoke", "undo it")):
        action = actions.add_parser(name, help=text)
        action.add_argument("username")
        action.set_defaults(handler=_admin_set, grant=name == "grant")
    actions.add_parser("list", help="print the administrators").set_defaults(handler=_admin_list)


def _moderation(settings: Settings) -> ModerationService:
    return ModerationService(settings, database.Database(settings.database_url))


def _admin_set(args: argparse.Namespace) -> int:
    settings = Settings()
    try:
        name = _moderation(settings).set_admin(args.username, args.grant)
    except AccountError as exc:
        print(exc.message)
        return 1
    print(f"{name} is {'now' if args.grant else 'no longer'} an administrator")
    return 0


def _admin_list(_args: argparse.Namespace) -> int:
    for name in _moderation(Settings()).admins():
        print(name)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="talkrooms", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add_run_command(commands)
    add_cluster_form_command(commands)
    add_db_command(commands)
    add_admin_command(commands)
    add_ops_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
