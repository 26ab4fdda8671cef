"""The `talkrooms` command line: a thin layer over functions the tests call too."""

from __future__ import annotations

import argparse
import os

from . import stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="talkrooms", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="start the local stack in the foreground")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    run.add_argument(
        "--workers", type=int, default=int(os.environ.get("WORKERS") or stack.default_workers())
    )
    run.add_argument("--redis-port", type=int, default=int(os.environ.get("REDIS_PORT", "6379")))

    args = parser.parse_args(argv)
    if args.command == "run":
        return stack.run(args.port, args.workers, args.redis_port)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
