"""The cluster and block emulation portal (Cổng thông tin Cụm, Khối thi đua)."""

from __future__ import annotations

import os

from flask import Flask, g, has_request_context, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine

from config import BASE_DIR, CONFIGS
from portal import extensions as ext


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
        instance_path=str(BASE_DIR / "instance"),
    )
    config_name = os.environ.get("FLASK_CONFIG", "testing" if test_config else "development")
    app.config.from_object(CONFIGS[config_name]())
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    register_proxies(app)
    register_request_hooks(app)  # first, so the principal is known even when CSRF refuses a request
    register_security_headers(app)
    register_extensions(app)
    register_converters(app)
    register_blueprints(app)
    register_errors(app)
    register_templates(app)
    register_cli(app)
    return app


def register_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, the client's address and scheme come from their
    X-Forwarded-For/-Proto headers (the last n entries); with 0, such headers are ignored."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def register_extensions(app: Flask) -> None:
    from portal.services.platform import audit

    ext.db.init_app(app)
    ext.migrate.init_app(app, ext.db, directory=str(BASE_DIR / "migrations"))
    ext.login.init_app(app)
    ext.csrf.init_app(app)
    ext.htmx.init_app(app)
    ext.babel.init_app(app, locale_selector=_select_locale, timezone_selector=lambda: "Asia/Ho_Chi_Minh")
    audit.install(ext.db.session)
    _install_live(app)
    ext.login.login_view = "auth.login"
    ext.login.login_message = _l("Vui lòng đăng nhập để tiếp tục.")
    ext.login.localize_callback = str  # flashed as text in the request's language
    ext.login.login_message_category = "warning"

    from portal.auth.current import load_user

    ext.login.user_loader(load_user)  # the user only while the cookie's stored session is live


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection, _record):
    """SQLite checks foreign keys only when asked to, on each connection."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _select_locale() -> str:
    lang = session.get("lang") if has_request_context() else None  # the CLI and jobs speak Vietnamese
    if lang in ("vi", "en"):
        return lang
    return "vi"


def _install_live(app: Flask) -> None:
    """Announce committed changes on Redis when it is configured (open dashboards refresh at once)."""
    from portal.services.platform import live

    publisher = None
    if app.config.get("REDIS_URL"):
        import redis

        client = redis.Redis.from_url(app.config["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2)
        app.extensions["live_redis"] = client
        publisher = live.redis_publisher(client)
    live.install(ext.db.session, publisher)


def register_request_hooks(app: Flask) -> None:
    from portal.access import current_principal
    from portal.services.platform.audit import SYSTEM, Actor, reset_actor, set_actor

    @app.before_request
    def load_principal():
        current_principal()
        user = current_user if current_user.is_authenticated else None
        g.audit_actor_token = set_actor(Actor(user.id, user.username) if user else SYSTEM)

    @app.teardown_request
    def forget_actor(_error):
        """The request's actor (and any the API set after it) ends with the request: what the same
        thread does next, a CLI command or the next request, is not done in this user's name."""
        token = g.pop("audit_actor_token", None)
        if token is not None:
            reset_actor(token)

    @app.before_request
    def force_password_change():
        from flask import redirect, url_for

        if (
            current_user.is_authenticated
            and current_user.must_change_password
            and request.endpoint not in ("auth.change_password", "auth.logout", "static", "auth.set_language")
            and request.blueprint != "api"  # the API authenticates by token and ignores the session
        ):
            return redirect(url_for("auth.change_password"))
        return None


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if app.config["HSTS_SECONDS"] and request.is_secure:  # https as seen through a trusted proxy
            response.headers["Strict-Transport-Security"] = f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains"
        if _private(response) and "no-store" not in response.headers.get("Cache-Control", ""):
            response.headers["Cache-Control"] = "no-store"  # a view's own "private, no-store" stays
        return response


def _private(response) -> bool:
    """A signed-in page, a download (every export is one) or an API answer: no cache may keep it."""
    if request.endpoint == "static":
        return False
    if "Content-Disposition" in response.headers or "Authorization" in request.headers:
        return True
    return current_user.is_authenticated


def register_converters(app: Flask) -> None:
    from portal.routing import register_converters as register
    from portal.routing import register_request_guards

    register(app)
    register_request_guards(app)  # query strings and JSON bodies within bounds, before any view


def register_blueprints(app: Flask) -> None:
    from portal import (
        accounts,
        api,
        api_tokens,
        audit_log,
        auth,
        clusters,
        council,
        criteria,
        dashboard,
        evidence,
        home,
        meetings,
        notices,
        pledges,
        publication,
        results,
        reviews,
        scoring,
        transfer,
        units,
        years,
    )

    modules = (auth, home, units, clusters, years, council, accounts, transfer, audit_log, criteria, pledges)
    for module in (
        *modules,
        scoring,
        evidence,
        reviews,
        results,
        meetings,
        publication,
        dashboard,
        api,
        api_tokens,
        notices,
    ):
        app.register_blueprint(module.bp)


def register_errors(app: Flask) -> None:
    from portal.errors import register

    register(app)


def register_templates(app: Flask) -> None:
    from portal import formatting
    from portal.htmx import is_fragment_request
    from portal.models.criteria import code_label
    from portal.navigation import menu_for
    from portal.notices.links import text_of
    from portal.policy import can, sees

    app.jinja_env.filters.update(
        code_label=code_label,
        notice_text=text_of,
        vn_date=formatting.vn_date,
        vn_datetime=formatting.vn_datetime,
        vn_number=formatting.vn_number,
        vn_points=formatting.vn_points,
    )
    app.jinja_env.globals["long_vn_date"] = formatting.long_vn_date
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject_policy():
        from portal.access import current_principal, may_set_results

        principal = current_principal()
        return {
            "can": lambda action, scope=None, **kw: principal is not None and can(principal, action, scope, **kw),
            "sees": lambda scope: principal is not None and sees(principal, scope),
            "may_set_results": may_set_results,
            "principal": principal,
            "menu_for": menu_for,
            "is_fragment_request": is_fragment_request,
            "province_name": app.config["PROVINCE_NAME"],
            "unread_notices": _unread_notices,
        }


def _unread_notices() -> int:
    """The bell's count for the signed-in user: one COUNT, asked only where the header shows the bell."""
    from portal.services.notices import inbox

    return inbox.unread_count(ext.db.session, current_user.id) if current_user.is_authenticated else 0


def register_cli(app: Flask) -> None:
    from portal import cli

    cli.register(app)
