"""CSRF is on here, as in production: forms carry the token, htmx sends it as a header."""

import re

import pytest
from werkzeug.routing import AnyConverter

from portal.extensions import db
from portal.models import Unit
from tests import factories
from tests.signin import sign_in


@pytest.fixture
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|"X-CSRFToken": "([^"]+)"', html).group(1) or ""


def _header_token(html: str) -> str:
    return re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)


def test_login_without_token_is_refused(csrf_app, world, client):
    response = client.post("/login", data={"username": "secretariat", "password": factories.PASSWORD})
    assert response.status_code in (400, 422)
    assert client.get("/").status_code == 302


def test_form_token_and_htmx_header_token(csrf_app, world, client):
    page = client.get("/login")
    token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    assert (
        client.post(
            "/login", data={"username": "secretariat", "password": factories.PASSWORD, "csrf_token": token}
        ).status_code
        == 303
    )
    units_page = client.get("/units/")
    header_token = _header_token(units_page.text)
    refused = client.post(
        "/units/", data={"name": "Sở Xây dựng", "sector": "department"}, headers={"HX-Request": "true"}
    )
    assert refused.status_code == 400 and "CSRF" in refused.text
    assert db.session.query(Unit).filter_by(name="Sở Xây dựng").count() == 0
    accepted = client.post(
        "/units/",
        data={"name": "Sở Xây dựng", "sector": "department"},
        headers={"HX-Request": "true", "X-CSRFToken": header_token},
    )
    assert accepted.status_code == 204 and accepted.headers["HX-Redirect"].startswith("/units/")
    assert db.session.query(Unit).filter_by(name="Sở Xây dựng").count() == 1


def test_logout_needs_the_token(csrf_app, world, client, auth):
    page = client.get("/login")
    token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    client.post("/login", data={"username": "head", "password": factories.PASSWORD, "csrf_token": token})
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # still signed in


def test_security_headers(app, client):
    headers = client.get("/login").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def _sample(argument: str, converter):
    """A value the rule accepts: the first choice of an <any(…)>, a year for <year>, else 1."""
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return 2026 if argument == "year" else ("en" if argument == "lang" else 1)


def test_every_state_changing_route_needs_the_token(csrf_app, world, client):
    """Walks the url_map: every POST outside the token-authenticated API is refused without the token."""
    sign_in(client, world.users["head"].id)
    checked = 0
    for rule in csrf_app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint.startswith("api."):
            continue
        url = rule.build({arg: _sample(arg, rule._converters[arg]) for arg in rule.arguments})[1]
        for headers in ({}, {"HX-Request": "true"}):
            response = client.post(url, data={"x": "1"}, headers=headers)
            assert response.status_code == 400, f"POST {url} {headers}: {response.status_code}"
        checked += 1
    assert checked > 60


def test_marking_notices_read_needs_the_token(csrf_app, world, client):
    from sqlalchemy import select

    from portal.models import Notification
    from portal.models.notices import NoticeKind
    from portal.services.notices import events

    member = world.users["member"]
    events.notify(
        db.session,
        [member.id],
        NoticeKind.ROUND_OPENED,
        cluster_id=world.cluster.id,
        year_id=world.year.id,
        message="Vòng tự chấm đã mở",
        params={},
        endpoint="scoring.for_cluster",
        args={"cluster_id": world.cluster.id, "year": world.year.year},
    )
    db.session.commit()
    notice_id = db.session.scalar(select(Notification.id))
    sign_in(client, member.id)
    page = client.get("/notices/")
    refused = client.post(f"/notices/{notice_id}/open")
    assert refused.status_code == 400
    assert client.post("/notices/read-all", headers={"HX-Request": "true"}).status_code == 400
    assert db.session.get(Notification, notice_id).read_at is None
    opened = client.post(f"/notices/{notice_id}/open", data={"csrf_token": _header_token(page.text)})
    assert opened.status_code == 303 and db.session.get(Notification, notice_id).read_at is not None
