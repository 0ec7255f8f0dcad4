"""Browser tests: a live server on a temporary SQLite file, driven by Debian's Chromium via Playwright.

CSRF stays on, so every form and every htmx request sends a real token. Each test
gets a fresh browser context; console errors, page errors and failed responses are
collected, and a test fails if one happened that it did not declare with
`page_problems.expect(status, path)`. A failed test leaves a screenshot in
/tmp/browser-failures/.
"""

from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, expect, sync_playwright
from werkzeug.serving import make_server

from portal import create_app
from portal.extensions import db
from tests import factories
from tests.browser import sign_in_as

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NO_CHROMIUM = "Chromium not found at /usr/bin/chromium: browser tests skipped; install Debian's chromium"
TIMEOUT_MS = 10_000
CACHES = ("results_reports", "fragments", "standings")  # app.extensions keys of the per-worker caches
FAILURES_DIR = Path("/tmp/browser-failures")
# Chromium reports every 4xx/5xx response it loads as a console error with this text.
FAILED_LOAD = "Failed to load resource: the server responded with a status of "


def _chromium_path() -> str | None:
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")


@dataclass
class LiveServer:
    url: str
    app: Flask


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The portal on a file-based SQLite database that the server thread and the tests share."""
    database = tmp_path_factory.mktemp("browser-db") / "portal.db"
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "WTF_CSRF_ENABLED": True,
            "REDIS_URL": None,
            "LOGIN_MAX_FAILURES": 5,
        }
    )
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture(scope="session")
def live_server(live_app):
    """Serves live_app on 127.0.0.1 and a free port from a daemon thread."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-live-server", daemon=True)
    thread.start()
    yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=live_app)
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture(scope="session")
def seed(live_app):
    """`seed(build)`: empty the live database, run build() in an app context and return its result.

    build() should return plain values (ids, names): rows detach once the context ends.
    """

    def run(build):
        # A new database under a running app: its ids and audit positions start again from 1, so what the
        # app keeps per worker (results reports, rendered fragments, rankings) is forgotten, as a restarted
        # worker would (else a cached fragment of the last test's assessment 3 could answer for this one's).
        for kept in CACHES:
            live_app.extensions.pop(kept, None)
        with live_app.app_context():
            db.session.remove()
            db.drop_all()
            db.create_all()
            try:
                result = build()
                db.session.commit()
                return result
            finally:
                db.session.remove()

    return run


@pytest.fixture
def self_round_open(seed):
    """The small province with its cluster's table locked and the self round open; nobody has submitted yet."""

    def build():
        from portal.services.scoring import assessments

        world = factories.world()
        cset, items = factories.scoring_table(world)
        assessments.open_self_round(db.session, cset)
        return {"cluster": world.cluster.name, "items": {key: item.id for key, item in items.items()}}

    return seed(build)


@pytest.fixture(scope="session")
def live_db(live_app):
    """`with live_db() as session:` reads the live database from the test, to check what was saved."""

    @contextmanager
    def opened():
        with live_app.app_context():
            try:
                yield db.session
            finally:
                db.session.remove()

    return opened


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session; every test skips with a message when none is installed."""
    path = _chromium_path()
    if path is None:
        pytest.skip(NO_CHROMIUM)
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class PageProblems:
    """What went wrong on the page: console errors, uncaught errors, failed responses and requests."""

    expected: list[tuple[int, str]] = field(default_factory=list)
    responses: list[tuple[int, str]] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def expect(self, status: int, path: str) -> None:
        """Declare an answer the test provokes on purpose, e.g. expect(422, "/units/3/edit")."""
        self.expected.append((status, path))

    def attach(self, page) -> None:
        page.on("response", self._on_response)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("requestfailed", self._on_request_failed)

    def _on_response(self, response) -> None:
        if response.status >= 400:
            self.responses.append((response.status, response.url))

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.console.append((message.text, message.location.get("url", "")))

    def _on_request_failed(self, request) -> None:
        failure = request.failure or ""
        # A navigation cancels the page's pending loads; that is not a fault of the page.
        if "ERR_ABORTED" not in failure:
            self.errors.append(f"request failed: {request.method} {request.url} ({failure})")

    def _is_expected(self, status: int, url: str) -> bool:
        key = (status, urlsplit(url).path)
        return key in self.expected

    def unexpected(self) -> list[str]:
        found = [f"HTTP {s} {u}" for s, u in self.responses if not self._is_expected(s, u)]
        for text, url in self.console:
            if text.startswith(FAILED_LOAD):
                status = int(text[len(FAILED_LOAD) :].split()[0])
                if self._is_expected(status, url):
                    continue
            found.append(f"console error: {text} ({url})")
        return found + self.errors

    def assert_clean(self) -> None:
        problems = self.unexpected()
        assert not problems, "unexpected problems on the page:\n" + "\n".join(problems)


@pytest.fixture
def page_problems():
    return PageProblems()


# Locator actions that a page's own scripts answer: each waits first for the page to have loaded.
ACTIONS = (
    "check", "clear", "click", "dblclick", "dispatch_event", "fill", "press", "press_sequentially",
    "select_option", "set_checked", "set_input_files", "tap", "type", "uncheck",
)  # fmt: skip


@pytest.fixture(scope="session", autouse=True)
def act_once_loaded():
    """Every locator action first waits for its page's `load` event.

    A click on a link returns once the next page has started loading, before its deferred htmx,
    Bootstrap and portal.js have run: a field filled then changes without the autosave listening, a
    button fires a plain request, a menu does not open. A user cannot act that fast; the tests must
    not either. On a page already loaded the wait returns at once.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name in ACTIONS:
            patch.setattr(Locator, name, _after_load(getattr(Locator, name)))
        yield


def _after_load(action):
    def act(self, *args, **kwargs):
        self.page.wait_for_load_state("load")
        return action(self, *args, **kwargs)

    act.__name__ = action.__name__
    act.__doc__ = action.__doc__
    return act


@pytest.fixture
def page(browser, live_server, page_problems, request):
    """A fresh context and page per test, pointed at the live server, with problems recorded."""
    context = browser.new_context(base_url=live_server.url, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page_problems.attach(page)
    yield page
    if any(
        getattr(request.node, f"rep_{when}", None) and getattr(request.node, f"rep_{when}").failed
        for when in ("setup", "call")
    ):
        FAILURES_DIR.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=str(FAILURES_DIR / f"{request.node.name}.png"), full_page=True)
        except PlaywrightError as error:  # a screenshot is a debugging aid; never mask the real failure
            print(f"screenshot failed: {error}")
    context.close()


# Counts htmx's settled swaps; htmx wires the new content's hx-* attributes only once it has settled.
SETTLE_COUNTER = (
    "document.addEventListener('htmx:afterSettle', () => { window.htmxSettled = (window.htmxSettled || 0) + 1; });"
)


@pytest.fixture
def settled(page):
    """`with settled(): button.click()`: returns once htmx has swapped the answer in and settled it.

    htmx attaches the hx-* behaviour of swapped-in content ~20 ms after the swap; a test that
    acts on that content sooner would fire a plain (non-htmx) request.
    """
    page.add_init_script(SETTLE_COUNTER)

    @contextmanager
    def run():
        # a link just clicked may still be loading its page: its deferred htmx must be running before the
        # action, or the action fires a plain request that never settles
        page.wait_for_load_state("load")
        before = page.evaluate("window.htmxSettled || 0")
        yield
        page.wait_for_function("count => (window.htmxSettled || 0) > count", arg=before)

    return run


@pytest.fixture
def sign_in(page):
    """`sign_in(username)`: fill in the login page as a user would; returns once it has left /login."""

    def run(username: str, password: str = factories.PASSWORD) -> None:
        sign_in_as(page, username, password)

    return run


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After a passing browser test, fail it if the page logged anything it did not expect."""
    result = yield
    problems = item.funcargs.get("page_problems")
    if isinstance(problems, PageProblems):
        problems.assert_clean()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so the page fixture knows whether to take a screenshot."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
