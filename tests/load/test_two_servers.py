"""Two app servers behind nginx sharing PostgreSQL and Redis (deploy/two_servers.py): whichever answers, it works.

Sessions, evidence files, sign-in throttling, live updates and the results cache are tried across the
two gunicorn instances A and B (each one gthread worker, so "cached on B" is one process's cache), and
requests through nginx are seen to reach both, by each server's access log. FLASK_CONFIG=production as deployed: the
client keeps its cookies itself, as bench/harness.py's does.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import time
from decimal import Decimal

import psycopg
import pytest

from bench import harness

pytestmark = [pytest.mark.postgres, pytest.mark.load]

CELL = re.compile(r'<td[^>]*data-label="([^"]*)"[^>]*>(.*?)</td>', re.S)
TAG = re.compile(r"<[^>]+>")
REVISION = re.compile(r'id="rev-(\d+)-(\d+)" value="(\d*)"')


def _missing() -> str | None:
    """Why the set-up cannot run here (None when it can)."""
    from deploy.two_servers import DEFAULT_REDIS, nginx_path

    url = os.environ.get("TEST_DATABASE_URL")
    if not harness.is_postgres(url):
        return "needs PostgreSQL: TEST_DATABASE_URL is not a postgresql:// URL (it runs in the PostgreSQL pass)"
    if nginx_path() is None:
        return "needs nginx (Debian: apt-get install -y nginx; .ci/run installs it)"
    try:
        import redis

        redis.Redis.from_url(os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS), socket_connect_timeout=3).ping()
    except Exception as error:  # any failure to reach it is a reason to skip, said as it is
        return f"needs Redis at {os.environ.get('TEST_REDIS_URL', DEFAULT_REDIS)}: {error}"
    return None


@pytest.fixture(scope="module")
def setup():
    reason = _missing()
    if reason:
        pytest.skip(f"two app servers behind nginx: {reason}")
    from deploy import two_servers

    options = two_servers.Options(
        workers=1,  # one process per server: its results cache is the one every read of it goes through
        threads=4,
        units=4,
        criteria=3,
        database_url=harness.derived_url("two_servers"),
        redis_url=os.environ.get("TEST_REDIS_URL", two_servers.DEFAULT_REDIS),
        live_stream_seconds=10,
    )
    with two_servers.running(options, out=lambda _line: None) as running:
        yield running


class Browser(harness.Client):
    """A client that names itself (User-Agent), so each server's access log tells what it answered."""

    def __init__(self, address, agent: str = "two-servers-test", headers: dict | None = None):
        super().__init__(address, timeout=30)
        self.agent, self.headers = agent, dict(headers or {})

    def request(self, method, path, kind, form=None, headers=None, body=None):
        headers = {"User-Agent": self.agent, **self.headers, **(headers or {})}
        return super().request(method, path, kind, form=form, headers=headers, body=body)

    def upload(self, path: str, token: str, name: str, content: bytes) -> harness.Response:
        """A multipart form with the CSRF token and one file, as the browser sends it."""
        boundary = secrets.token_hex(12)
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "HX-Request": "true"}
        return self.request("POST", path, "upload", headers=headers, body=body)

    def sign_in(self, username: str, password: str) -> harness.Response:
        token = harness.csrf_token(self.request("GET", "/login", "login_page").text)
        form = {"csrf_token": token, "username": username, "password": password}
        return self.request("POST", "/login", "login", form=form)


def _unit(setup, index: int) -> dict:
    return setup.manifest["units"][index]


def _assessment_page(browser: Browser, unit: dict) -> tuple[str, dict[int, str]]:
    page = browser.request("GET", f"/scoring/assessments/{unit['assessment_id']}", "page")
    assert page.status == 200, page.status
    revisions = {int(c): r for a, c, r in REVISION.findall(page.text) if int(a) == unit["assessment_id"]}
    return harness.csrf_token(page.text), revisions


def _save(browser: Browser, unit: dict, token: str, criterion: int, revision: str, value: str) -> harness.Response:
    return browser.request(
        "POST",
        f"/scoring/assessments/{unit['assessment_id']}/scores/{criterion}",
        "save",
        form={"csrf_token": token, "value": value, "note": "Đã thực hiện", "revision": revision},
        headers={"HX-Request": "true"},
    )


def _direct(setup) -> int:
    """A criterion scored directly (points = value) of the cluster's table."""
    return next(c["id"] for c in setup.manifest["clusters"][0]["criteria"] if c["method"] == "direct")


def test_a_session_and_its_evidence_files_carry_from_one_server_to_the_other_and_end_on_both(setup):
    a, b = setup.servers
    unit = _unit(setup, 1)
    on_a = Browser(a.address)
    assert on_a.sign_in(unit["username"], setup.manifest["password"]).status == 303
    token, revisions = _assessment_page(on_a, unit)

    on_b = Browser(b.address)
    on_b.cookies = dict(on_a.cookies)  # the same browser, now answered by B
    assert _assessment_page(on_b, unit)[1] == revisions
    criterion = _direct(setup)
    saved = _save(on_b, unit, token, criterion, revisions[criterion], "7,5")  # the CSRF token A put in the page
    assert saved.status == 200, saved.text[:500]

    # an evidence file uploaded through B is downloaded through A: both see the one EVIDENCE_FOLDER
    content = b"%PDF-1.4\n% minh chung " + secrets.token_hex(8).encode() + b"\n%%EOF\n"
    where = f"/evidence/assessments/{unit['assessment_id']}/criteria/{criterion}"
    assert on_b.upload(where, token, "minh-chung.pdf", content).status == 201
    with psycopg.connect(harness.plain_url(setup.url)) as conn:
        (evidence_id,) = conn.execute(
            "SELECT id FROM evidence WHERE assessment_id = %s ORDER BY id DESC LIMIT 1", (unit["assessment_id"],)
        ).fetchone()
    downloaded = on_a.request("GET", f"/evidence/{evidence_id}", "download")
    assert downloaded.status == 200 and downloaded.text.encode() == content

    out = on_b.request("POST", "/logout", "logout", form={"csrf_token": token})
    assert out.status in (302, 303)
    on_a.cookies = {"session": on_a.cookies["session"]}  # the cookie A gave, still held by a copy of the browser
    again = on_a.request("GET", f"/scoring/assessments/{unit['assessment_id']}", "page")
    assert again.status in (302, 303) and "/login" in again.headers["Location"]  # ended on A too


def _logged(setup, agent: str, expected: int) -> list[int]:
    """The requests of `agent` in each server's access log (gunicorn writes a line just after answering:
    up to a few seconds are given for the last lines to land, no time is asserted)."""
    deadline = time.monotonic() + 5
    while True:
        answered = [log.read_text(errors="replace").count(agent) for log in setup.access_logs]
        if sum(answered) >= expected or time.monotonic() > deadline:
            return answered
        time.sleep(0.1)


def test_nginx_spreads_requests_over_both_servers(setup):
    agent = f"two-servers-test-{secrets.token_hex(4)}"
    browser = Browser(setup.nginx.address, agent)
    head = _unit(setup, 0)
    assert browser.sign_in(head["username"], setup.manifest["password"]).status == 303
    for _ in range(6):
        assert browser.request("GET", f"/scoring/assessments/{head['assessment_id']}", "page").status == 200
    answered = _logged(setup, agent, 1 + 1 + 6)
    assert sum(answered) == 1 + 1 + 6  # the sign-in page, the sign-in, six pages: each reached one server
    assert min(answered) >= 3, answered  # round-robin: both servers took their share (4 and 4)


def test_sign_in_failures_are_counted_across_both_servers_in_redis(setup):
    import redis

    client = redis.Redis.from_url(setup.options.redis_url)
    unit = _unit(setup, 2)
    name = unit["username"]
    # one client address for this run (the servers trust X-Forwarded-For: TRUSTED_PROXIES=1, as behind
    # nginx), so the counter is this run's own even when another run shares the Redis
    address = "10." + ".".join(str(b) for b in secrets.token_bytes(3))
    forwarded = {"X-Forwarded-For": address}
    pair = f"portal:login-failures:pair:{name}|{address}"
    try:
        servers = setup.servers
        for attempt in range(5):  # A, B, A, B, A: the fifth failure locks (LOGIN_MAX_FAILURES = 5)
            answer = Browser(servers[attempt % 2].address, headers=forwarded).sign_in(name, "not-the-password")
            assert answer.status == 422
        assert int(client.get(pair)) == 5  # one counter for both servers, in Redis
        with psycopg.connect(harness.plain_url(setup.url)) as conn:
            assert conn.execute("SELECT count(*) FROM login_failures").fetchone()[0] == 0  # not in the database
        locked = Browser(servers[1].address, headers=forwarded)
        answer = locked.sign_in(name, setup.manifest["password"])
        assert answer.status == 422  # the right password, refused on B: the name is locked from this address
        home = locked.request("GET", f"/scoring/assessments/{unit['assessment_id']}", "page")
        assert home.status in (302, 303) and "/login" in home.headers["Location"]  # not signed in
        elsewhere = Browser(servers[0].address, headers={"X-Forwarded-For": "10.255.255.254"})
        assert elsewhere.sign_in(name, setup.manifest["password"]).status == 303  # another address is not
    finally:
        client.delete(pair, f"portal:login-failures:pair:{name}|10.255.255.254")


class EventStream:
    """The dashboard's Server-Sent Events, read as they come."""

    def __init__(self, address, cookies: dict[str, str]):
        self.conn = http.client.HTTPConnection(*address, timeout=15)
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self.conn.request("GET", "/dashboard/live", headers={"Cookie": cookie, "Accept": "text/event-stream"})
        self.response = self.conn.getresponse()
        self.seen = ""

    def until(self, text: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while text not in self.seen and time.monotonic() < deadline:
            chunk = self.response.read1(4096)
            if not chunk:
                break
            self.seen += chunk.decode()
        return text in self.seen

    def close(self) -> None:
        self.conn.close()


def _total(page: str, unit_name: str) -> str:
    for row in page.split("<tr")[1:]:
        cells = {label: " ".join(TAG.sub(" ", text).split()) for label, text in CELL.findall(row)}
        if cells.get("Đơn vị") == unit_name:
            return cells["Tổng điểm"]
    raise AssertionError(f"{unit_name} not in the results table")


def test_a_write_on_one_server_reaches_the_event_stream_and_the_cached_results_of_the_other(setup):
    from portal.formatting import vn_points

    a, b = setup.servers
    password, head, unit = setup.manifest["password"], _unit(setup, 0), _unit(setup, 3)
    results = f"/results/{unit['cluster_id']}/{setup.manifest['year']}"
    with psycopg.connect(harness.plain_url(setup.url)) as conn:
        name = conn.execute("SELECT name FROM units WHERE id = %s", (unit["unit_id"],)).fetchone()[0]

    reader = Browser(b.address)  # the head reads the results on B, twice: computed, then from B's cache
    assert reader.sign_in(head["username"], password).status == 303
    first = reader.request("GET", results, "results")
    assert first.status == 200
    before = _total(first.text, name)
    assert _total(reader.request("GET", results, "results").text, name) == before

    council = Browser(a.address)  # signed in on A, listening on B
    assert council.sign_in(setup.manifest["council"], password).status == 303
    stream = EventStream(b.address, council.cookies)
    try:
        assert stream.response.status == 200
        assert stream.until(": keep-alive", 15)  # subscribed on B's side

        writer = Browser(a.address)  # the unit changes a score and submits, on A
        assert writer.sign_in(unit["username"], password).status == 303
        token, revisions = _assessment_page(writer, unit)
        criterion = _direct(setup)
        assert _save(writer, unit, token, criterion, revisions[criterion], "9,75").status == 200
        assert stream.until("event: changed", 15), stream.seen  # published on commit, heard on B
    finally:
        stream.close()
    submitted = writer.request(
        "POST", f"/scoring/assessments/{unit['assessment_id']}/submit", "submit", form={"csrf_token": token}
    )
    assert submitted.status in (200, 303), submitted.text[:500]

    with psycopg.connect(harness.plain_url(setup.url)) as conn:
        points = conn.execute(
            "SELECT sum(points) FROM scores WHERE assessment_id = %s", (unit["assessment_id"],)
        ).fetchone()[0]
    after = _total(reader.request("GET", results, "results").text, name)  # the next read on B
    assert after == vn_points(Decimal(points)) and after != before
