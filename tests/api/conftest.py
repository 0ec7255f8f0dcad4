"""Fixtures for the JSON API: a token per role of the `world`, a client that sends it, a scoring table."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from portal.extensions import db
from portal.services import api_tokens, pledges
from portal.services import assessments as assessments_svc
from portal.services import criteria as criteria_svc

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
    """A locked table with an open self round: I. 1 quantitative 40, 2 direct 30, 3 pass/fail 30;
    II. bonus 2 per occurrence (cap 5); III. deduction 0,5 each (cap 3)."""
    cset = criteria_svc.create_set(db.session, world.cluster, world.year, title="Bảng 2026", target_total=D(100))
    section = criteria_svc.add_criterion(db.session, cset, None, code="I", title="Nhiệm vụ")
    items = {
        "quant": criteria_svc.add_criterion(
            db.session, cset, section, code="1", title="Thu ngân sách", method="quantitative", max_points=D(40)
        ),
        "direct": criteria_svc.add_criterion(db.session, cset, section, code="2", title="Cải cách", max_points=D(30)),
        "pass": criteria_svc.add_criterion(
            db.session, cset, section, code="3", title="Chuyển đổi số", method="pass_fail", max_points=D(30)
        ),
    }
    bonus = criteria_svc.add_criterion(db.session, cset, None, code="II", title="Điểm thưởng", kind="bonus")
    items["bonus"] = criteria_svc.add_criterion(
        db.session,
        cset,
        bonus,
        code="1",
        title="Sáng kiến",
        kind="bonus",
        method="per_occurrence",
        points_each=D(2),
        max_points=D(5),
    )
    minus = criteria_svc.add_criterion(db.session, cset, None, code="III", title="Điểm trừ", kind="deduction")
    items["minus"] = criteria_svc.add_criterion(
        db.session,
        cset,
        minus,
        code="1",
        title="Báo cáo trễ",
        kind="deduction",
        method="per_occurrence",
        points_each=D("0.5"),
        max_points=D(3),
    )
    criteria_svc.publish(db.session, cset)
    for unit, target in ((world.head, D(100)), (world.deputy, D(200)), (world.member, D(50))):
        pledges.register_target(db.session, cset, unit, items["quant"], target)
    criteria_svc.lock(db.session, cset)
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
