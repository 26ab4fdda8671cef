"""Render TalkRooms' nginx config (nginx/talkrooms.conf.j2) for a list of chat workers.

One template serves `make run` (loopback workers, paths under run/), docker-compose
(service names, the committed nginx/compose.conf) and hosts configured by hand. Kept
outside the Python package on purpose: it is deployment config, and it must run with any
Python 3.11 that has Jinja2 (`python nginx/render.py compose > nginx/compose.conf`).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jinja2

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "talkrooms.conf.j2"
COMPOSE_CONF = HERE / "compose.conf"

# The per-process hard limit on these machines; nginx fails above it (shared/NOTES.md).
MAX_RLIMIT_NOFILE = 20_000
# docker-compose's chat workers: services worker-1..N, worker-i on port 5000+i. The ports
# differ because $upstream_addr shows IPs, not service names: the port tells them apart.
COMPOSE_WORKER_PORT_BASE = 5000
COMPOSE_LISTEN = "0.0.0.0:8080"
# The workers' upload folder (their app-data volume), mounted read-only into nginx.
COMPOSE_UPLOAD_ROOT = "/srv/talkrooms/run/uploads"
# Per client address limits (0 turns one off). Generous on purpose: one address may be a
# whole office behind NAT, and after a worker restart its people all reconnect within
# the client's 0.5-5 s back-off (200 people: ~40 handshakes/s for 5 s, within the burst).
CONNECTIONS_PER_ADDRESS = 1000
NEW_SESSIONS_PER_SECOND = 20
NEW_SESSION_BURST = 100
# Never limited: loopback is make run's own checks and benchmarks, or a proxy on the same
# host (every client would then share one address and one budget).
LIMIT_EXEMPT = ("127.0.0.1", "::1")
# The headers the workers put on their pages, in the package so both read one file: nginx
# adds them to everything it answers on the public port (error pages, static files too).
SECURITY_HEADERS_FILE = HERE.parent / "services" / "talkrooms" / "web" / "security_headers.json"
# nginx's own error responses (never the workers', which pass through untouched): status
# -> (title, one-line reason). JSON {"error": reason} under /api/ and /socket.io/, a
# plain HTML page elsewhere; nginx's default pages name nginx.
ERROR_PATH = "/_talkrooms/errors"
ERROR_PAGES = {
    400: ("Bad Request", "The request could not be understood."),
    403: ("Forbidden", "This address is not served."),
    404: ("Not Found", "There is nothing at this address."),
    405: ("Method Not Allowed", "This address does not accept that method."),
    413: ("Content Too Large", "The request body is larger than this server accepts."),
    414: ("URI Too Long", "The address is longer than this server accepts."),
    429: ("Too Many Requests", "Too many requests from your address: try again in a moment."),
    500: ("Internal Server Error", "Something went wrong on our side."),
    502: ("Bad Gateway", "The chat service is not reachable: try again in a moment."),
    503: ("Service Unavailable", "The chat service is unavailable: try again in a moment."),
    504: ("Gateway Timeout", "The chat service took too long to answer."),
}
# nginx's internal codes that go out as another status: 494 (request header or cookie too
# large) is sent as 400.
ERROR_ALIASES = {494: 400}


@dataclass(frozen=True)
class Upstream:
    """One chat worker as nginx reaches it. `id` is its sticky cookie's value and the
    route its session ids start with: run that worker with WORKER_ROUTE=<id>."""

    id: str
    host: str
    port: int

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def is_ip(self) -> bool:
        try:
            ipaddress.ip_address(self.host.strip("[]"))
        except ValueError:
            return False
        return True

    @property
    def pattern(self) -> str:
        """A regex for `$upstream_addr`, which holds the resolved IP, never a host name.

        IP upstreams match on the whole address; named ones (compose services) on their
        port alone, so their ports must differ (checked by `validate`).
        """
        port = re.escape(f":{self.port}") + "$"
        if self.is_ip:
            return r"(^|\s)" + re.escape(self.host) + port
        return port


# 10 MB files (the workers' default UPLOAD_MAX_BYTES) and 1 MB for the multipart framing.
UPLOAD_MAX_BYTES = 11 * 1024 * 1024
# The internal location of shared files; the workers' FILES_ACCEL_PREFIX.
FILES_LOCATION = "/_talkrooms/files"
# A file is data, never a page (the same policy the workers send: files/routes.py).
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


@dataclass(frozen=True)
class NginxOptions:
    """Everything the template needs; paths are absolute (nginx runs with any cwd)."""

    listen: str
    workers: tuple[Upstream, ...]
    static_root: str
    run_dir: str
    error_log: str
    access_log: str
    worker_processes: int = 2
    rlimit_nofile: int = MAX_RLIMIT_NOFILE
    max_body_bytes: int = 64 * 1024
    # POST /api/v1/uploads only: the workers' UPLOAD_MAX_BYTES plus the multipart framing.
    upload_max_bytes: int = UPLOAD_MAX_BYTES
    # The workers' UPLOAD_DIR when files live on this machine's disk: nginx sends their
    # bytes itself (X-Accel-Redirect to FILES_LOCATION) once a worker checked the right.
    upload_root: str = ""
    # 0: a worker is never marked down by nginx. A dead loopback worker refuses at once
    # and nginx moves on; counting failures would let one client that gets its uploads
    # cut (or a restart) take a worker — or all of them — out for everyone.
    max_fails: int = 0
    connect_timeout: str = "2s"
    # Worker processes' user when nginx starts as root (nginx's default is nobody).
    user: str | None = None
    read_timeout: str = "75s"
    # limit_conn: requests in progress per client address (open WebSockets, pending polls).
    connections_per_address: int = CONNECTIONS_PER_ADDRESS
    # limit_req on new sessions (handshakes without a sid) and on POST /join, per address.
    new_sessions_per_second: int = NEW_SESSIONS_PER_SECOND
    new_session_burst: int = NEW_SESSION_BURST
    limit_exempt: tuple[str, ...] = LIMIT_EXEMPT

    @property
    def worker_connections(self) -> int:
        # Leave room below the open-file limit for logs, listeners and temp files.
        return max(1024, self.rlimit_nofile - 1000)


def upstreams(addresses: list[tuple[str, int]]) -> tuple[Upstream, ...]:
    """Upstreams w1..wN in the given order."""
    return tuple(Upstream(f"w{i}", host, port) for i, (host, port) in enumerate(addresses, 1))


def validate(options: NginxOptions) -> None:
    """Refuse configs nginx would accept but that would not work."""
    if not options.workers:
        raise ValueError("at least one chat worker is needed")
    if options.rlimit_nofile > MAX_RLIMIT_NOFILE:
        raise ValueError(f"worker_rlimit_nofile above {MAX_RLIMIT_NOFILE} fails on these hosts")
    if options.worker_processes < 2:
        raise ValueError("run 2+ nginx worker processes: one cannot hold 10,000 WebSockets")
    named_ports = [w.port for w in options.workers if not w.is_ip]
    if len(named_ports) != len(set(named_ports)):
        raise ValueError("workers given by host name need distinct ports (the sticky cookie)")
    addresses = [w.address for w in options.workers]
    if len(addresses) != len(set(addresses)):
        raise ValueError("a worker is listed twice")
    limits = (options.connections_per_address, options.new_sessions_per_second)
    if min(*limits, options.new_session_burst) < 0:
        raise ValueError("limits are counts: 0 turns one off, negatives mean nothing")
    for address in options.limit_exempt:
        ipaddress.ip_network(address, strict=False)  # nginx's geo takes addresses and CIDRs


def file_headers() -> dict[str, str]:
    """The pages' security headers with the files' own CSP in place of the pages'."""
    return {**security_headers(), "Content-Security-Policy": FILE_CSP}


def security_headers() -> dict[str, str]:
    """Header name -> value, as services/talkrooms/web/pages.py adds them to the pages."""
    with SECURITY_HEADERS_FILE.open(encoding="utf-8") as file:
        headers: dict[str, str] = json.load(file)
    for name in headers:
        if not re.fullmatch(r"[A-Za-z0-9-]+", name):
            raise ValueError(f"not a header name: {name!r}")
    return headers


def nginx_quote(text: str) -> str:
    """`text` as one quoted nginx string; `$` would be read as a variable, so it is refused."""
    if "$" in text:
        raise ValueError(f"cannot quote {text!r} for nginx: $ starts a variable")
    quote = "'" if '"' in text else '"'
    escaped = text.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return quote + escaped.replace("\n", "\\n").replace("\r", "\\r") + quote


def error_pages() -> list[dict[str, Any]]:
    """Each status nginx answers itself: the codes that lead to it, its JSON and HTML bodies."""
    pages = []
    for status, (title, reason) in ERROR_PAGES.items():
        heading = f"{status} {title}"
        html = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{heading} - TalkRooms</title></head>"
            f"<body><h1>{heading}</h1><p>{reason}</p></body></html>\n"
        )
        aliases = [code for code, sent in ERROR_ALIASES.items() if sent == status]
        pages.append(
            {
                "status": status,
                "codes": [status, *aliases],
                "json": json.dumps({"error": reason}) + "\n",
                "html": html,
            }
        )
    return pages


def render(options: NginxOptions) -> str:
    """The complete nginx.conf text."""
    validate(options)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["nginx_quote"] = nginx_quote
    template = env.get_template(TEMPLATE.name)
    fields = {name: getattr(options, name) for name in options.__dataclass_fields__}
    return template.render(
        **fields,
        worker_connections=options.worker_connections,
        security_headers=security_headers(),
        file_headers=file_headers(),
        files_location=FILES_LOCATION,
        error_path=ERROR_PATH,
        error_pages=error_pages(),
    )


def compose_options(workers: int = 2) -> NginxOptions:
    """The config docker-compose.yml mounts: services worker-1..N on ports 5001..500N."""
    return NginxOptions(
        listen=COMPOSE_LISTEN,
        workers=upstreams(
            [(f"worker-{i}", COMPOSE_WORKER_PORT_BASE + i) for i in range(1, workers + 1)]
        ),
        static_root="/srv/talkrooms/static",
        upload_root=COMPOSE_UPLOAD_ROOT,
        run_dir="/tmp",
        error_log="stderr",
        access_log="/dev/stdout",
    )


def _parse_worker(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    """Print a rendered config: `compose [--workers N]` or `custom --worker HOST:PORT ...`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    targets = parser.add_subparsers(dest="target", required=True)
    compose = targets.add_parser("compose", help="the config docker-compose.yml mounts")
    compose.add_argument("--workers", type=int, default=2)
    custom = targets.add_parser("custom", help="any list of workers (several hosts)")
    custom.add_argument("--worker", action="append", type=_parse_worker, required=True)
    custom.add_argument("--listen", default="0.0.0.0:80")
    custom.add_argument("--static-root", default="/srv/talkrooms/static")
    custom.add_argument("--run-dir", default="/run/talkrooms-nginx")
    custom.add_argument("--error-log", default="stderr")
    custom.add_argument("--access-log", default="/var/log/nginx/talkrooms.access.log")
    custom.add_argument("--worker-processes", type=int, default=2)
    custom.add_argument("--max-fails", type=int, default=0)
    for target in (compose, custom):
        limits = target.add_argument_group("per client address limits (0 turns one off)")
        limits.add_argument("--connections-per-address", type=int, default=CONNECTIONS_PER_ADDRESS)
        limits.add_argument("--new-sessions-per-second", type=int, default=NEW_SESSIONS_PER_SECOND)
        limits.add_argument("--new-session-burst", type=int, default=NEW_SESSION_BURST)
        limits.add_argument(
            "--limit-exempt",
            action="append",
            help=f"an address or CIDR never limited (repeat; default {' '.join(LIMIT_EXEMPT)})",
        )
    args = parser.parse_args(argv)
    if args.target == "compose":
        options = compose_options(args.workers)
    else:
        options = NginxOptions(
            listen=args.listen,
            workers=upstreams(args.worker),
            static_root=args.static_root,
            run_dir=args.run_dir,
            error_log=args.error_log,
            access_log=args.access_log,
            worker_processes=args.worker_processes,
            max_fails=args.max_fails,
        )
    options = replace(
        options,
        connections_per_address=args.connections_per_address,
        new_sessions_per_second=args.new_sessions_per_second,
        new_session_burst=args.new_session_burst,
        limit_exempt=tuple(args.limit_exempt or LIMIT_EXEMPT),
    )
    sys.stdout.write(render(options))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
