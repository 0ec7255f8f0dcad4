"""Two app servers behind nginx, sharing PostgreSQL and Redis: the scale-out of docs/reference/deployment.md.

    .venv/bin/python -m deploy.two_servers                     # prints the URL and the logins; Ctrl-C stops all
    .venv/bin/python -m deploy.two_servers --workers 2 --threads 8 --port 8080
    .venv/bin/python -m deploy.two_servers --write-example     # (re)writes deploy/nginx.conf.example

Creates a throw-away PostgreSQL database (--database-url, or <server of TEST_DATABASE_URL/DATABASE_URL>/
two_servers_<pid>), runs `flask db upgrade`, seeds a small year (bench/seed_load.py: one cluster of a few
units with their drafts filled in, and a council member), then starts two gunicorn instances on two free
ports — FLASK_CONFIG=production, the same SECRET_KEY, DATABASE_URL, REDIS_URL and EVIDENCE_FOLDER (one
folder both see, as a shared mount would be), TRUSTED_PROXIES=1, each with its own access log — and
nginx (Debian's package) in front of them, round-robin, with its configuration, pid file, logs and
temporary folders in a temporary folder of its own (never the system's nginx service). On Ctrl-C, SIGTERM
or any error everything stops: nginx, both gunicorns, and the database is dropped (unless --keep).

FLASK_CONFIG=production sets Secure cookies: browsers keep them on http://127.0.0.1 (a secure context),
so the printed URL works in a browser; a real deployment serves HTTPS (deploy/nginx.conf.example).
The test of this set-up is tests/load/test_two_servers.py.
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import harness

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "deploy" / "nginx.conf.example"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
# nginx as Debian installs it; /usr/sbin is not on every PATH
NGINX_CANDIDATES = ("nginx", "/usr/sbin/nginx")


# ---------------------------------------------------------------- nginx's configuration


def portal_block(upstreams: list[str], listen: str, *, tls: bool) -> str:
    """The upstream of app servers and the server that proxies to them: the part of nginx's configuration a
    deployment takes as it is (in its `http { }`), here and in deploy/nginx.conf.example."""
    servers = "\n".join(f"    server {address} max_fails=3 fail_timeout=10s;" for address in upstreams)
    if tls:
        front = f"""server {{
    listen 80;
    server_name thidua.example.gov.vn;
    return 301 https://$host$request_uri;
}}

server {{
    listen {listen} ssl http2;
    server_name thidua.example.gov.vn;
    ssl_certificate     /etc/ssl/certs/thidua.example.gov.vn.pem;
    ssl_certificate_key /etc/ssl/private/thidua.example.gov.vn.key;
"""
    else:
        front = f"""server {{
    listen {listen};
    server_name _;
"""
    return f"""# The portal's app servers: stateless, any of them may answer any request (round-robin).
upstream portal {{
{servers}
    keepalive 16;
}}

{front}
    # evidence uploads: EVIDENCE_MAX_BYTES (20 MB) plus the form around the file
    client_max_body_size 21m;
    # query strings up to 8 KB reach the portal, which answers those over 4 KB itself (414)
    large_client_header_buffers 4 8k;

    location / {{
        proxy_pass http://portal;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        # read by the portal with TRUSTED_PROXIES=1: the client's address (sign-in throttling) and scheme
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        # the dashboard's event stream says X-Accel-Buffering: no and lasts LIVE_STREAM_SECONDS (30 s)
        proxy_read_timeout 120s;
        # an app server down or stuck: the next one takes the request (never a POST it may have received)
        proxy_next_upstream error timeout;
    }}
}}
"""


def nginx_conf(prefix: Path, upstreams: list[str], port: int) -> str:
    """A whole nginx.conf for a run in the foreground whose pid, logs and temporary folders are under `prefix`."""
    lines = portal_block(upstreams, str(port), tls=False).splitlines()
    block = "\n".join(f"    {line}" if line else "" for line in lines)
    return f"""# Written by deploy/two_servers.py for one run; deploy/nginx.conf.example is the production form.
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;

events {{
    worker_connections 256;
}}

http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;

{block}
}}
"""


def example_conf() -> str:
    """deploy/nginx.conf.example: the block for a deployment's `http { }`, two app hosts, TLS in front."""
    header = (
        '# nginx in front of the portal\'s app servers (docs/reference/deployment.md, "Scale out").\n'
        "# Put this in the http { } block (Debian: /etc/nginx/sites-available/portal), one `server` line per app\n"
        "# host, each running gunicorn with the same SECRET_KEY, DATABASE_URL, REDIS_URL, EVIDENCE_FOLDER and\n"
        "# TRUSTED_PROXIES=1. Generated by `python -m deploy.two_servers --write-example`: edit the generator.\n\n"
    )
    return header + portal_block(["10.0.0.11:8000", "10.0.0.12:8000"], "443", tls=True)


def nginx_path() -> str | None:
    for candidate in NGINX_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


class Nginx:
    """nginx in the foreground with its own configuration under a temporary folder; stopped on exit."""

    def __init__(self, upstreams: list[str], port: int | None = None):
        self.executable = nginx_path()
        if self.executable is None:
            raise RuntimeError("nginx is not installed (Debian: apt-get install -y nginx)")
        self.upstreams, self.port = upstreams, port or harness.free_port()
        self.folder = tempfile.TemporaryDirectory(prefix="two-servers-nginx-")
        self.prefix = Path(self.folder.name)
        self.prefix.chmod(0o755)
        self.proc: subprocess.Popen | None = None

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", self.port

    @property
    def conf_path(self) -> Path:
        return self.prefix / "nginx.conf"

    def __enter__(self) -> Nginx:
        self.conf_path.write_text(nginx_conf(self.prefix, self.upstreams, self.port), encoding="utf-8")
        command = [self.executable, "-p", str(self.prefix), "-e", str(self.prefix / "error.log"), "-c"]
        checked = subprocess.run([*command, str(self.conf_path), "-t"], capture_output=True, text=True, check=False)
        if checked.returncode:
            raise RuntimeError(f"nginx refused its configuration:\n{checked.stderr}")
        self._out = (self.prefix / "nginx.out").open("wb")
        self.proc = subprocess.Popen([*command, str(self.conf_path)], stdout=self._out, stderr=subprocess.STDOUT)
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}:\n{self.error_log()}")
            try:
                if harness.Client(self.address, timeout=5).request("GET", "/login", "ready").status == 200:
                    return
            except harness.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"nginx did not answer within {timeout:.0f} s:\n{self.error_log()}")

    def error_log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.prefix / "error.log").read_text(errors="replace")
        return ""

    def __exit__(self, *_exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: requests in flight finish
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if getattr(self, "_out", None):
            self._out.close()
        self.folder.cleanup()


# ---------------------------------------------------------------- the whole set-up


@dataclass
class Options:
    workers: int = 2  # per app server
    threads: int = 4  # gthread: a held event stream takes a thread, not a worker
    port: int | None = None  # nginx's; a free one by default
    units: int = 4
    criteria: int = 3
    database_url: str | None = None
    redis_url: str = DEFAULT_REDIS
    keep: bool = False
    live_stream_seconds: int = 30


@dataclass
class TwoServers:
    """The running set-up: the database, both app servers, nginx, what the seed made."""

    options: Options
    url: str = ""
    manifest: dict = field(default_factory=dict)
    servers: list[harness.Gunicorn] = field(default_factory=list)
    nginx: Nginx | None = None
    access_logs: list[Path] = field(default_factory=list)
    folder: Path | None = None

    @property
    def public_url(self) -> str:
        return f"http://{self.nginx.address[0]}:{self.nginx.address[1]}"


@contextlib.contextmanager
def running(options: Options, out=print):
    """Everything up (database, seed, two gunicorns, nginx) for the block's duration; all stopped afterwards."""
    import redis

    if nginx_path() is None:
        raise RuntimeError("nginx is not installed (Debian: apt-get install -y nginx)")
    redis.Redis.from_url(options.redis_url, socket_connect_timeout=3).ping()  # fails early, saying why
    url = options.database_url or harness.derived_url("two_servers")
    setup = TwoServers(options, url=url)
    with (
        harness.ThrowawayDatabase(url, keep=options.keep),
        tempfile.TemporaryDirectory(prefix="two-servers-") as folder,
        contextlib.ExitStack() as stack,
    ):
        began = time.perf_counter()
        harness.migrate(url)
        sizes = ("--clusters", "1", "--units", str(options.units), "--criteria", str(options.criteria))
        setup.manifest = harness.seed(url, *sizes, "--scored", "--council")
        out(f"database {harness.database_name(url)} migrated and seeded in {time.perf_counter() - began:.0f} s")
        setup.folder = Path(folder)
        shared = {
            "REDIS_URL": options.redis_url,
            "EVIDENCE_FOLDER": str(setup.folder / "evidence"),  # one folder for both: what NFS would give
            "TRUSTED_PROXIES": "1",
            "LIVE_STREAM_SECONDS": str(options.live_stream_seconds),
        }
        secret_key = secrets.token_hex(32)
        setup.access_logs = [setup.folder / f"access-{name}.log" for name in ("a", "b")]
        servers = [
            harness.Gunicorn(
                url,
                options.workers,
                log_path=setup.folder / f"gunicorn-{name}.log",
                threads=options.threads,
                secret_key=secret_key,
                env=shared,
                access_log=log,
            )
            for name, log in zip(("a", "b"), setup.access_logs, strict=True)
        ]
        _start_together(servers, stack)  # both at once: each imports the app in its workers
        setup.servers = servers
        setup.nginx = stack.enter_context(Nginx([f"127.0.0.1:{s.port}" for s in servers], options.port))
        yield setup


def _start_together(servers: list[harness.Gunicorn], stack: contextlib.ExitStack) -> None:
    """Start every gunicorn, then wait for each (their imports overlap); each is stopped by `stack`."""
    import threading

    errors: list[BaseException] = []

    def start(server: harness.Gunicorn) -> None:
        try:
            server.__enter__()
        except BaseException as error:  # reported below, in the caller's thread
            errors.append(error)

    threads = [threading.Thread(target=start, args=(server,)) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for server in servers:
        stack.push(server.__exit__)
    if errors:
        raise errors[0]


def describe(setup: TwoServers) -> str:
    manifest = setup.manifest
    units = manifest["units"]
    lines = [
        f"Portal behind nginx: {setup.public_url}",
        f"  app server A: http://127.0.0.1:{setup.servers[0].port}   (access log {setup.access_logs[0]})",
        f"  app server B: http://127.0.0.1:{setup.servers[1].port}   (access log {setup.access_logs[1]})",
        f"  nginx configuration: {setup.nginx.conf_path}",
        f"  PostgreSQL {harness.database_name(setup.url)}, Redis {setup.options.redis_url}",
        f"Logins (password {manifest['password']}):",
        f"  {units[0]['username']}  head of the cluster;  {units[-1]['username']}  a member unit;  "
        f"{manifest['council']}  council member (dashboard)",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = Options()
    parser.add_argument("--database-url", help="a database to create (and drop); default <server>/two_servers_<pid>")
    parser.add_argument("--redis-url", default=defaults.redis_url)
    parser.add_argument("--workers", type=int, default=defaults.workers, help="gunicorn workers per app server")
    parser.add_argument("--threads", type=int, default=defaults.threads, help="threads per worker (gthread)")
    parser.add_argument("--port", type=int, help="nginx's port (default: a free one)")
    parser.add_argument("--units", type=int, default=defaults.units, help="member units of the seeded cluster")
    parser.add_argument("--criteria", type=int, default=defaults.criteria, help="leaf criteria of its table")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--write-example", action="store_true", help="write deploy/nginx.conf.example and stop")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.write_example:
        EXAMPLE.write_text(example_conf(), encoding="utf-8")
        print(f"wrote {EXAMPLE.relative_to(ROOT)}")
        return 0
    if min(args.workers, args.threads, args.units - 2, args.criteria) < 1:
        parser.error("at least 1 worker, 1 thread, 3 units and 1 criterion")
    options = Options(**{k: v for k, v in vars(args).items() if k != "write_example"})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # SIGTERM unwinds like Ctrl-C: everything stops
    try:
        with running(options) as setup:
            print(describe(setup), flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopping: nginx, both app servers, the database")
    return 0


if __name__ == "__main__":
    sys.exit(main())
