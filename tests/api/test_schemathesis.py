"""Schemathesis against the running portal, driven by /api/v1/openapi.json, with a real bearer token.

The portal is served from a thread on a free local port (CSRF on, as in production),
on a temporary SQLite file — or on TEST_DATABASE_URL when the suite runs on
PostgreSQL. The database holds a small province with a locked criteria table, an
open self-assessment round, scores and a submitted assessment, so that the
generated requests reach real rows. The schemathesis CLI (pinned in
requirements-dev.txt) then runs its examples, coverage, fuzzing and stateful phases
with a fixed seed and a bounded number of examples, with every one of its checks:
the test fails on any 5xx, any response that does not match the document (status
code, content type, headers, body schema), invalid data accepted, auth ignored, …
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from portal import create_app
from portal.extensions import db
from portal.models import Assessment
from portal.services.platform import api_tokens
from portal.services.scoring import assessments as svc
from tests import factories
from tests.api.conftest import build_table

pytestmark = pytest.mark.schemathesis

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")  # the virtualenv's, next to its python
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "100"))
SEED = os.environ.get("SCHEMATHESIS_SEED", "20260106")  # fixed, so CI is reproducible
CHECKS = "all"
# A write can match the schema and still break a rule the schema cannot express (points above the
# criterion's maximum, an assessment already submitted or still incomplete): the API rightly answers
# 422 there, so for those two operations only, 422 counts as an acceptable answer to valid data.
CONFIG = """
[[operations]]
include-operation-id = ["saveScore", "submitAssessment"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]
"""


class QuietHandler(WSGIRequestHandler):
    """Thousands of requests: schemathesis reports what matters; no line per request."""

    def log_request(self, *args, **kwargs) -> None:
        pass


def _seed() -> str:
    """The province, a scoring round with some scores, and the head's token (returned)."""
    world = factories.world()
    table = build_table(world)
    own = {a.subject_unit_id: a for a in _assessments(table)}
    for item, raw in (("quant", "60"), ("direct", "25"), ("pass", "1"), ("bonus", "1"), ("minus", "0")):
        svc.save_score(db.session, own[world.member.id], table[item], raw, expected_revision=None, user_id=None)
    svc.submit(db.session, own[world.member.id], None)
    svc.save_score(db.session, own[world.head.id], table["direct"], "20", expected_revision=None, user_id=None)
    _token, secret = api_tokens.create(db.session, world.users["head"], "schemathesis")
    db.session.commit()
    return secret


def _assessments(table):
    return db.session.scalars(select(Assessment).where(Assessment.round_id == table["round"].id)).all()


@pytest.fixture
def live_api(tmp_path):
    """(base URL, bearer secret) of the portal served from a thread."""
    from tests.conftest import _database_url, _empty

    external = os.environ.get("TEST_DATABASE_URL")
    database = _database_url() if external else f"sqlite:///{tmp_path / 'api.db'}"  # pytest -n: the worker's own
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database,
            "WTF_CSRF_ENABLED": True,
            "REDIS_URL": None,
        }
    )
    with app.app_context():
        db.create_all()
        if external:
            _empty(db)
        secret = _seed()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="schemathesis-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", secret
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        with app.app_context():
            if external:
                _empty(db)  # the next test starts from an empty database, as tests/conftest.py expects
            db.engine.dispose()


def test_schemathesis_finds_no_server_error_and_no_schema_mismatch(live_api, tmp_path):
    base, secret = live_api
    assert SCHEMATHESIS.exists(), f"{SCHEMATHESIS} is missing: pip install -r requirements-dev.txt"
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(config),
        "run",
        f"{base}/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {secret}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        SEED,
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "10",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path / "report"),
    ]
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    output = result.stdout + result.stderr
    print(output[-6000:])  # the summary, shown with -rA or on failure
    assert result.returncode == 0, output[-20000:]
