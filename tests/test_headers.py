"""Response headers: Strict-Transport-Security on https in production (also behind a trusted proxy),
Cache-Control: no-store on every signed-in page and every download; the other security headers kept."""

import pytest

from portal import register_proxies
from portal.services.pledges import agreements as pledges
from tests import factories

HSTS = "max-age=31536000; includeSubDomains"


@pytest.fixture
def production_hsts(app):
    """What ProductionConfig sets (the testing app otherwise)."""
    from config import ProductionConfig

    app.config["HSTS_SECONDS"] = ProductionConfig.HSTS_SECONDS
    return app


def test_production_sends_hsts_on_https_only(production_hsts, client):
    assert client.get("/login", base_url="https://portal.example").headers["Strict-Transport-Security"] == HSTS
    assert "Strict-Transport-Security" not in client.get("/login", base_url="http://portal.example").headers


def test_hsts_behind_a_trusted_proxy_that_terminates_tls(production_hsts, client):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.44"}
    assert "Strict-Transport-Security" not in client.get("/login", headers=forwarded).headers  # not trusted yet
    production_hsts.config["TRUSTED_PROXIES"] = 1
    register_proxies(production_hsts)
    assert client.get("/login", headers=forwarded).headers["Strict-Transport-Security"] == HSTS
    assert "Strict-Transport-Security" not in client.get("/login", headers={"X-Forwarded-Proto": "http"}).headers


def test_no_hsts_outside_production(app, client):
    assert "Strict-Transport-Security" not in client.get("/login", base_url="https://portal.example").headers


def test_signed_in_pages_are_not_stored(world, auth, client):
    anonymous = client.get("/login")
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")
    auth.login("secretariat")
    for url in ("/", "/units/", "/audit-log/", f"/clusters/{world.cluster.id}?year=2026", "/account/sessions"):
        response = client.get(url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store", url
    static = client.get("/static/css/portal.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")  # the stylesheet may be cached


def test_every_export_is_not_stored(world, auth, client):
    from portal.extensions import db

    cset = factories.criteria_set(world)
    pledge = pledges.create(db.session, world.cluster, world.year)
    db.session.commit()
    auth.login("head")
    downloads = (
        f"/criteria/sets/{cset.id}/export.xlsx",
        f"/pledges/{pledge.id}/export.docx",
    )
    for url in downloads:
        response = client.get(url)
        assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"], url
        assert response.headers["Cache-Control"] == "no-store", url
    auth.logout()
    auth.login("secretariat")
    for url in ("/transfer/export.xlsx", "/transfer/template.xlsx"):
        response = client.get(url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store", url


def test_api_answers_are_not_stored(world, client):
    from portal.extensions import db
    from portal.services.platform import api_tokens

    _token, secret = api_tokens.create(db.session, world.users["head"], "Thử")
    db.session.commit()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"


def test_the_other_security_headers_stay(world, auth, client):
    auth.login("head")
    headers = client.get("/").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
