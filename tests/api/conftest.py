"""Fixtures for the JSON API: a token per role of the `world`, a client that sends it, a scoring table."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.services.platform import api_tokens
from portal.services.scoring import assessments as assessments_svc
from tests import factories

PROBLEM = "application/problem+json"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "schemathesis: runs schemathesis against a live server with the OpenAPI document (tests/api)"
    )


class ApiClient:
    """The test client with `Authorization: Bearer <secret>` on every request (no cookie session)."""

    def __init__(self, client, secret: str | None):
        self._client, self.secret = client, secret

    def _headers(self, kw) -> dict:
        headers = dict(kw.pop("headers", {}) or {})
        if self.secret is not None:
            headers.setdefault("Authorization", f"Bearer {self.secret}")
        return headers

    def get(self, url, **kw):
        return self._client.get(url, headers=self._headers(kw), **kw)

    def put(self, url, **kw):
        return self._client.put(url, headers=self._headers(kw), **kw)

    def post(self, url, **kw):
        return self._client.post(url, headers=self._headers(kw), **kw)


@pytest.fixture
def tokens(world) -> dict[str, str]:
    """A secret for every user of the world, by role."""
    secrets = {role: api_tokens.create(db.session, user, f"Khóa của {role}")[1] for role, user in world.users.items()}
    db.session.commit()
    return secrets


@pytest.fixture
def api(client, tokens):
    """`api("member")` is a client acting with the member's token; `api(None)` sends no token."""
    return lambda role: ApiClient(client, tokens[role] if role else None)


@pytest.fixture
def table(world):
    """A locked table with an open self round (see build_table)."""
    return build_table(world)


def build_table(world) -> dict:
    """The locked table of factories.scoring_table, with its self round open."""
    cset, items = factories.scoring_table(world)
    scoring_round = assessments_svc.open_self_round(db.session, cset)
    db.session.commit()
    return {"set": cset, "round": scoring_round, **items}


def assert_problem(response, status: int) -> dict:
    """The answer is an RFC 9457 problem document with this status."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body
