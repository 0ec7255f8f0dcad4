"""What the load and kill scenarios share: a throw-away PostgreSQL database, gunicorn, a small HTTP client.

Everything here talks to the portal the way production does: `flask db upgrade` builds the schema,
gunicorn serves `portal:create_app()` with FLASK_CONFIG=production, and the client signs in through
the login form and sends the CSRF token it read from the page. Only the standard library and
psycopg are used, so the scripts run from the project's virtualenv as they are.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
PROTECTED = {"postgres", "template0", "template1", "test"}  # never created nor dropped here
CSRF = re.compile(r'name="csrf_token"[^>]*\svalue="([^"]+)"')


def tool(name: str) -> str:
    """A console script of the virtualenv this Python runs in (gunicorn, flask)."""
    path = Path(sys.executable).parent / name
    return str(path) if path.exists() else name


# ---------------------------------------------------------------- database


def plain_url(url: str) -> str:
    """psycopg wants postgresql://, SQLAlchemy's postgresql+psycopg:// also reaches the portal."""
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def is_postgres(url: str | None) -> bool:
    return bool(url) and plain_url(url).startswith("postgresql://")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(plain_url(url))
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


def database_name(url: str) -> str:
    return urlsplit(plain_url(url)).path.lstrip("/")


def derived_url(prefix: str) -> str:
    """A new database's URL on the server of TEST_DATABASE_URL (or DATABASE_URL), named <prefix>_<pid>."""
    for variable in ("TEST_DATABASE_URL", "DATABASE_URL"):
        if is_postgres(os.environ.get(variable)):
            return with_database(os.environ[variable], f"{prefix}_{os.getpid()}")
    return with_database(DEFAULT_SERVER, f"{prefix}_{os.getpid()}")


class ThrowawayDatabase:
    """CREATE DATABASE on entry (refusing one that exists), DROP on exit unless kept."""

    def __init__(self, url: str, keep: bool = False):
        self.url, self.keep, self.name = plain_url(url), keep, database_name(url)
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", self.name) or self.name in PROTECTED:
            raise SystemExit(f"refusing to use database {self.name!r}: give a new name (lower case, digits, _)")
        self.maintenance = with_database(url, "postgres")

    def __enter__(self) -> ThrowawayDatabase:
        with psycopg.connect(self.maintenance, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        return self

    def __exit__(self, *_exc) -> None:
        if self.keep:
            print(f"kept database {self.url}")
            return
        self.drop()

    def drop(self) -> None:
        with psycopg.connect(self.maintenance, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))


def flask_env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "REDIS_", "FLASK_", "PYTEST_"))}
    env.update(FLASK_APP="portal", DATABASE_URL=url, PYTHONUNBUFFERED="1", **extra)
    return env


def migrate(url: str) -> None:
    """The schema as production builds it: flask db upgrade."""
    done = subprocess.run(
        [tool("flask"), "db", "upgrade"], cwd=ROOT, env=flask_env(url), capture_output=True, text=True, timeout=300
    )
    if done.returncode:
        raise RuntimeError(f"flask db upgrade failed:\n{done.stdout}\n{done.stderr}")


def seed(url: str, *args: str) -> dict:
    """Run bench.seed_load in its own process (its own app and session); returns its manifest."""
    with tempfile.TemporaryDirectory() as folder:
        manifest = Path(folder) / "manifest.json"
        done = subprocess.run(
            [sys.executable, "-m", "bench.seed_load", "--database-url", url, "--manifest", str(manifest), *args],
            cwd=ROOT,
            env=flask_env(url),
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode:
            raise RuntimeError(f"seeding failed:\n{done.stdout}\n{done.stderr}")
        return json.loads(manifest.read_text(encoding="utf-8"))


def audit_verify(url: str) -> tuple[bool, str]:
    """`flask audit verify` against the database: (passed, its output)."""
    done = subprocess.run(
        [tool("flask"), "audit", "verify"], cwd=ROOT, env=flask_env(url), capture_output=True, text=True, timeout=300
    )
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def tallies_verify(url: str) -> tuple[bool, str]:
    """`flask results tallies` against the database (the score tallies equal the scores): (passed, output)."""
    done = subprocess.run(
        [tool("flask"), "results", "tallies"], cwd=ROOT, env=flask_env(url), capture_output=True, text=True, timeout=300
    )
    return done.returncode == 0, (done.stdout + done.stderr).strip()


# ---------------------------------------------------------------- gunicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (gunicorn's workers are the master's children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state, ppid, …
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


class Gunicorn:
    """`gunicorn -w N 'portal:create_app()'` on a free local port, as in docs/reference/deployment.md.

    FLASK_CONFIG=production, so session cookies carry the Secure flag; the client below keeps
    cookies itself (the server does not look at the scheme), so production config stays as it is.

    Alone, each instance has its own random SECRET_KEY and evidence folder and no Redis. Several app
    servers of one deployment (deploy/two_servers.py) share them: `secret_key` and `env` (REDIS_URL,
    EVIDENCE_FOLDER, TRUSTED_PROXIES …) say so; `threads` > 1 runs gthread workers (what the dashboard's
    event stream wants, docs/reference/dashboard.md) and `access_log` writes gunicorn's access log there.
    """

    def __init__(
        self,
        url: str,
        workers: int = 4,
        log_path: Path | None = None,
        app: str = "portal:create_app()",
        *,
        threads: int = 1,
        secret_key: str | None = None,
        env: dict[str, str] | None = None,
        access_log: Path | None = None,
        port: int | None = None,
    ):
        self.url, self.workers, self.app, self.threads = url, workers, app, threads
        self.secret_key, self.env, self.access_log = secret_key or secrets.token_hex(32), dict(env or {}), access_log
        self.folder = tempfile.TemporaryDirectory(prefix="bench-gunicorn-")
        self.log_path = log_path or Path(self.folder.name) / "gunicorn.log"
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", self.port

    def __enter__(self) -> Gunicorn:
        settings = {
            "FLASK_CONFIG": "production",
            "SECRET_KEY": self.secret_key,
            "EVIDENCE_FOLDER": str(Path(self.folder.name) / "evidence"),
        }
        env = flask_env(self.url, **{**settings, **self.env})
        command = [
            tool("gunicorn"),
            "-w",
            str(self.workers),
            "-b",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "120",
            "--graceful-timeout",
            "5",
        ]
        if self.threads > 1:
            command += ["--worker-class", "gthread", "--threads", str(self.threads)]
        if self.access_log is not None:
            command += ["--access-logfile", str(self.access_log)]
        command.append(self.app)
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
            if len(self.worker_pids()) == self.workers and self._answers():
                self._warm_up()
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def _answers(self) -> bool:
        try:
            return Client(self.address, timeout=5).request("GET", "/login", "ready").status == 200
        except TransportError:
            return False

    def _warm_up(self) -> None:
        """Every worker imports the app after the fork: one page each before measuring."""
        threads = [threading.Thread(target=self._answers) for _ in range(self.workers * 3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def worker_pids(self) -> list[int]:
        return children_of(self.proc.pid) if self.proc else []

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def __exit__(self, *_exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            workers = self.worker_pids()
            self.proc.send_signal(signal.SIGTERM)  # graceful: workers finish their request
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                for pid in [self.proc.pid, *workers]:
                    with contextlib.suppress(ProcessLookupError):  # already gone
                        os.kill(pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if getattr(self, "_log", None):
            self._log.close()
        self.folder.cleanup()


# ---------------------------------------------------------------- HTTP client


class TransportError(Exception):
    """No HTTP answer: connection refused, reset, or closed mid-response."""


@dataclass
class Sample:
    kind: str  # login, page, save, submit, …
    status: int  # 0 when no answer came (TransportError)
    ms: float


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    text: str


class Client:
    """One browser: its own cookies (kept by hand, Secure or not) and a record of every request's latency."""

    def __init__(self, address: tuple[str, int], timeout: float = 120):
        self.address, self.timeout = address, timeout
        self.cookies: dict[str, str] = {}
        self.samples: list[Sample] = []
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        kind: str,
        form: dict | None = None,
        headers: dict | None = None,
        body: bytes | None = None,  # sent as it is (its Content-Type in `headers`), when there is no `form`
    ) -> Response:
        send = dict(headers or {})
        if form is not None:
            body = urlencode(form).encode()
            send["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            send["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(*self.address, timeout=self.timeout)
            self.conn.request(method, path, body=body, headers=send)
            answer = self.conn.getresponse()
            data = answer.read()
        except (OSError, http.client.HTTPException) as error:
            self.samples.append(Sample(kind, 0, (time.perf_counter() - started) * 1000))
            self.close()
            raise TransportError(f"{method} {path}: {type(error).__name__}: {error}") from error
        self.samples.append(Sample(kind, answer.status, (time.perf_counter() - started) * 1000))
        if answer.will_close:
            self.close()
        self._keep_cookies(answer.headers.get_all("Set-Cookie") or [])
        return Response(answer.status, answer.headers, data.decode("utf-8", errors="replace"))

    def _keep_cookies(self, lines: list[str]) -> None:
        for line in lines:
            name, _, rest = line.partition("=")
            value, _, attributes = rest.partition(";")
            expired = "max-age=0" in attributes.lower() or "1970" in attributes
            if expired or not value:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def login(self, username: str, password: str) -> None:
        page = self.request("GET", "/login", "login_page")
        token = csrf_token(page.text)
        answer = self.request(
            "POST", "/login", "login", form={"csrf_token": token, "username": username, "password": password}
        )
        if answer.status != 303 or "session" not in self.cookies:
            raise RuntimeError(f"sign-in of {username} failed: HTTP {answer.status}")


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    if not found:
        raise RuntimeError("no csrf_token in the page")
    return found.group(1)


# ---------------------------------------------------------------- figures


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def figures(samples: list[Sample], elapsed: float) -> dict:
    """Throughput, p50/p95/p99 latency (ms) overall and per kind, and counts by status."""

    def stats(chosen: list[Sample]) -> dict:
        values = sorted(s.ms for s in chosen)
        return {
            "requests": len(chosen),
            "p50": percentile(values, 50),
            "p95": percentile(values, 95),
            "p99": percentile(values, 99),
            "max": values[-1] if values else float("nan"),
        }

    kinds = sorted({s.kind for s in samples})
    return {
        "elapsed_s": elapsed,
        "throughput": len(samples) / elapsed if elapsed else float("nan"),
        "all": stats(samples),
        "by_kind": {kind: stats([s for s in samples if s.kind == kind]) for kind in kinds},
        "status": dict(sorted(Counter(s.status for s in samples).items())),
    }


def format_figures(result: dict) -> str:
    lines = [
        f"requests: {result['all']['requests']} in {result['elapsed_s']:.1f} s "
        f"→ throughput {result['throughput']:.1f} req/s",
        "latency (ms)        count     p50     p95     p99     max",
    ]
    rows = [("all", result["all"]), *result["by_kind"].items()]
    for name, row in rows:
        figures_ms = " ".join(f"{row[key]:>7.1f}" for key in ("p50", "p95", "p99", "max"))
        lines.append(f"  {name:<14} {row['requests']:>8} {figures_ms}")
    status = ", ".join(f"{'no answer' if code == 0 else code}: {n}" for code, n in result["status"].items())
    lines.append(f"status: {status}")
    return "\n".join(lines)
