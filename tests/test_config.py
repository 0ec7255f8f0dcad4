"""Production configuration: starts only with a real SECRET_KEY, and then with secure cookies."""

import pytest

from portal import create_app


def test_production_starts_with_a_real_secret_key(monkeypatch):
    monkeypatch.setenv("FLASK_CONFIG", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-value-from-the-deployment")
    app = create_app()
    assert app.config["SECRET_KEY"] == "a-long-random-value-from-the-deployment"
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] and not app.config["DEBUG"]


@pytest.mark.parametrize("key", [None, "", "dev-only-not-secret"])
def test_production_refuses_a_missing_or_development_key(monkeypatch, key):
    monkeypatch.setenv("FLASK_CONFIG", "production")
    if key is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
