"""Fixtures in the flaskr style: app, client, auth, hx; one clean database per test.

TEST_DATABASE_URL picks the database (SQLite in memory by default; .ci/run also
runs the suite on PostgreSQL). The schema is created once per run and emptied
between tests.

Tests run in a random order (pytest-randomly; the seed is printed, `--randomly-seed=N`
replays it). TEST_CLOCK_SHIFT_DAYS=N moves this process's clock N days forward for the
whole run (time-machine, ticking), so that no test leans on today's date; servers
started in another process (browser and load tests) do not see the shift.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask.globals import _cv_app
from flask.testing import FlaskClient
from hypothesis import settings
from sqlalchemy import text

from config import BASE_DIR, normalise_database_url
from portal import create_app
from portal.extensions import db
from tests import factories, speedups

_schema_ready = False
_CLOCK_SHIFT = "TEST_CLOCK_SHIFT_DAYS"
_clock_travel: time_machine.travel | None = None


def _clock_shift_days() -> int:
    raw = os.environ.get(_CLOCK_SHIFT, "").strip()
    try:
        return int(raw or 0)
    except ValueError:
        raise pytest.UsageError(f"{_CLOCK_SHIFT} must be a whole number of days, not {raw!r}") from None


def pytest_configure(config):
    """Start the shifted clock before collection, so module-level dates are computed in it too."""
    global _clock_travel
    speedups.install()
    # Property tests without hypothesis's 200 ms deadline per example: on 2 cores shared by two xdist workers,
    # Chromium and PostgreSQL an example can take longer; slow there is not wrong, and the run must not fail at random.
    settings.register_profile("suite", deadline=None)
    settings.load_profile("suite")
    days = _clock_shift_days()
    if days and _clock_travel is None:
        _clock_travel = time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True)
        _clock_travel.start()


def pytest_collection_modifyitems(config, items):
    """Servers in another process (browser and load tests) keep the real clock: not part of a shifted run."""
    if _clock_travel is None:
        return
    skip = pytest.mark.skip(reason=f"{_CLOCK_SHIFT}: a server in another process does not see the shifted clock")
    for item in items:
        if item.get_closest_marker("browser") or item.get_closest_marker("load"):
            item.add_marker(skip)


def pytest_unconfigure(config):
    global _clock_travel
    if _clock_travel is not None:
        _clock_travel.stop()
        _clock_travel = None


def _run_notes(config) -> list[str]:
    notes = []
    seed = getattr(config.option, "randomly_seed", None)
    if seed is not None and config.pluginmanager.has_plugin("randomly"):
        notes.append(f"random test order: --randomly-seed={seed} replays it (-p no:randomly: file order)")
    if _clock_travel is not None:
        now = datetime.now(UTC)
        notes.append(f"clock shifted by {_clock_shift_days()} days ({_CLOCK_SHIFT}): now {now:%d/%m/%Y %H:%M} UTC")
    return notes


def pytest_report_header(config):
    return [note for note in _run_notes(config) if not note.startswith("random")]  # pytest-randomly prints its own


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Also under -q, where there is no header: the seed and the clock, to replay a failure."""
    for note in _run_notes(config):
        terminalreporter.write_line(note)


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """Compile each catalogue (.po → .mo, never committed) when the .mo is missing or older, as `make` does."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in (BASE_DIR / "portal" / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        partial = mo_path.with_suffix(".mo.partial")
        with partial.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        partial.replace(mo_path)  # atomic: a server started meanwhile never reads half a file


def _database_url() -> str:
    url = normalise_database_url(os.environ.get("TEST_DATABASE_URL", "sqlite://"))
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # pytest -n N: each worker its own PostgreSQL database
    if worker and url.startswith("postgresql"):
        url = _worker_database(url, worker)
    return url


_worker_databases: dict[str, str] = {}


def _worker_database(url: str, worker: str) -> str:
    """`test` → `test_gw0`, created on the server the first time (and kept: the next run empties it)."""
    if url not in _worker_databases:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        base = make_url(url)
        name = f"{base.database}_{worker}"
        admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        _worker_databases[url] = base.set(database=name).render_as_string(hide_password=False)
    return _worker_databases[url]


@pytest.fixture
def whole_minute():
    """The test runs from the first second of the next minute, on a running clock: a live page's ETag names
    the minute (`portal.live.etag`), so two requests of one test that expect the same tag must not fall on
    either side of a minute's end (one did in CI, at random). For the tests of polls (304) only: a clock
    moved by time-machine makes every reading of the time about six times slower (a tenth of a test)."""
    now = datetime.now(UTC)
    with time_machine.travel(now.replace(second=1, microsecond=0) + timedelta(minutes=1), tick=True):
        yield


@pytest.fixture
def app(tmp_path):
    global _schema_ready
    app = create_app(
        {
            "TESTING": True,
            "EVIDENCE_FOLDER": str(tmp_path / "evidence"),  # each test its own: files never leak between tests
            "SQLALCHEMY_DATABASE_URI": _database_url(),
            "WTF_CSRF_ENABLED": False,
            "LOGIN_MAX_FAILURES": 5,
            "REDIS_URL": None,
        }
    )
    with app.app_context():
        in_memory = _database_url() == "sqlite://"
        if in_memory:
            _copy_schema(db)
        elif not _schema_ready:
            db.drop_all()
            db.create_all()
            _schema_ready = True
        yield app
        _check_tallies(db)
        db.session.remove()
        if not in_memory:
            _empty(db)
        db.engine.dispose()  # each test's app has its own pool: close its connections now, not at garbage collection


_schema_template: sqlite3.Connection | None = None


def _copy_schema(database) -> None:
    """An in-memory SQLite database per test, its schema copied from one built once per process.

    `create_all` of the portal's tables takes about 60 ms; SQLite's backup API copies the empty
    schema in well under a millisecond (the engine's single in-memory connection is the target)."""
    global _schema_template
    target = database.engine.raw_connection()
    try:
        if _schema_template is None:
            database.create_all()
            _schema_template = sqlite3.connect(":memory:", check_same_thread=False)
            target.driver_connection.backup(_schema_template)
        else:
            _schema_template.backup(target.driver_connection)
    finally:
        target.close()


def _check_tallies(database) -> None:
    """Every test ends with its score tallies equal to its scores, as its session sees them (what it
    flushed, committed or not): the triggers that keep them (models/tallies.py) are checked by every
    test that writes a score or an assessment. A session left unusable by the test is rolled back and
    the committed data checked."""
    from sqlalchemy.exc import SQLAlchemyError

    from portal.services.results import tallies

    try:
        with database.session.no_autoflush:
            drifted = tallies.drift(database.session)
    except SQLAlchemyError:
        database.session.rollback()
        drifted = tallies.drift(database.session)
    if drifted:
        pytest.fail(f"score tallies differ from the scores: {drifted[:5]}", pytrace=False)


def _empty(database) -> None:
    tables = list(reversed(database.metadata.sorted_tables))
    with database.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # DELETE, not TRUNCATE: on a few dozen small tables TRUNCATE's new files cost ~0.3 s a test.
            conn.exec_driver_sql("SET LOCAL portal.audit_rewrite = 'on'")  # the audit log's own escape hatch
            # every table is emptied: no trigger need keep the score tallies meanwhile (nor foreign keys be checked)
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.exec_driver_sql("; ".join(f'DELETE FROM "{t.name}"' for t in tables))
        else:
            for table in tables:
                conn.execute(table.delete())


class IsolatedClient(FlaskClient):
    """Each request gets its own app context, hence its own `g` and database session, as
    in production (Flask would otherwise reuse the test's context and share its session
    and Flask-Login's cached user). Afterwards the test's session forgets what it had
    loaded, so the test reads what the request committed, and nothing it merely flushed."""

    def open(self, *args, **kwargs):
        token = _cv_app.set(None)
        try:
            response = super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)
        db.session.expire_all()
        return response


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username: str, password: str = factories.PASSWORD):
        return self._client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


class HtmxClient:
    """Sends what htmx sends: HX-Request, and optionally boosted or history-restore."""

    def __init__(self, client):
        self._client = client

    def _headers(self, kw, **extra):
        headers = {"HX-Request": "true", **extra, **kw.pop("headers", {})}
        return headers

    def get(self, url, **kw):
        return self._client.get(url, headers=self._headers(kw), **kw)

    def post(self, url, **kw):
        return self._client.post(url, headers=self._headers(kw), **kw)

    def history_restore(self, url, **kw):
        return self._client.get(url, headers=self._headers(kw, **{"HX-History-Restore-Request": "true"}), **kw)

    def boosted(self, url, **kw):
        return self._client.get(url, headers=self._headers(kw, **{"HX-Boosted": "true"}), **kw)


@pytest.fixture
def hx(client):
    return HtmxClient(client)


@pytest.fixture
def world(app):
    return factories.world()


@pytest.fixture
def count_queries(app):
    """Context manager counting SQL statements: `with count_queries() as n: ...; n()`."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def counter():
        statements = []

        def before(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield lambda: len(statements)
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counter
