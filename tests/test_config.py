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


def test_the_shipped_nginx_example_is_what_the_two_server_script_writes():
    """deploy/nginx.conf.example and the configuration the two-server test runs share one generator."""
    from deploy import two_servers

    assert two_servers.EXAMPLE.read_text(encoding="utf-8") == two_servers.example_conf()
    local = two_servers.nginx_conf(two_servers.ROOT / "tmp", ["127.0.0.1:8001", "127.0.0.1:8002"], 8080)
    block = two_servers.portal_block(["10.0.0.11:8000"], "443", tls=True)
    for directive in ("client_max_body_size 21m;", "X-Forwarded-Proto $scheme;", "X-Forwarded-For"):
        assert directive in local and directive in block
    assert "server 127.0.0.1:8001" in local and "server 127.0.0.1:8002" in local


def test_gunicorn_workers_freeze_what_they_loaded_out_of_the_garbage_collector():
    """gunicorn.conf.py's post_worker_init: the app's long-lived objects are not walked by every full collection."""
    import gc
    import runpy

    from config import BASE_DIR

    settings = runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))
    assert settings["limit_request_line"] == 8190
    try:
        settings["post_worker_init"](None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
