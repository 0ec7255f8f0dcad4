"""Configuration classes, chosen by FLASK_CONFIG and fed from the environment."""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _database_url(default: str) -> str:
    return normalise_database_url(os.environ.get("DATABASE_URL", default))


def normalise_database_url(url: str) -> str:
    """postgres:// and postgresql:// URLs are served by psycopg 3, the driver we ship."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


DEV_SECRET_KEY = "dev-only-not-secret"


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{BASE_DIR / 'instance' / 'portal.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL")  # login throttling and live updates shared across workers
    # Live pages (the dashboard, the progress pages): polled every LIVE_POLL_SECONDS (ETag/304); with Redis, an event stream held open
    # LIVE_STREAM_SECONDS at most (the browser reconnects), and polling only as a fallback.
    LIVE_POLL_SECONDS = int(os.environ.get("LIVE_POLL_SECONDS", "5"))
    LIVE_STREAM_SECONDS = int(os.environ.get("LIVE_STREAM_SECONDS", "30"))
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "portal" / "translations")
    LANGUAGES = ("vi", "en")
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead of a clock
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    IMPORT_MAX_ROWS = 5000
    CRITERIA_IMPORT_MAX_ROWS = 2000
    LOGIN_MAX_FAILURES = 5  # per (username, client address)
    LOGIN_MAX_FAILURES_PER_USER = 20  # per username from any address: slows a distributed guess
    LOGIN_LOCK_SECONDS = 15 * 60
    # Reverse proxies in front of the portal that set X-Forwarded-For/-Proto (0: trust no header).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    HSTS_SECONDS = 0  # Strict-Transport-Security on https responses when > 0 (production)
    PAGE_SIZE = 50
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Each sign-in is a stored, revocable session (table user_sessions): a browser session lasts at
    # most SESSION_MAX_AGE; "Ghi nhớ đăng nhập" keeps a persistent cookie for PERMANENT_SESSION_LIFETIME.
    SESSION_MAX_AGE = timedelta(hours=12)
    PERMANENT_SESSION_LIFETIME = timedelta(days=30)
    SESSION_TOUCH_SECONDS = 5 * 60  # last_seen_at is written at most this often per session
    # Flask-Login's own remember cookie is never set (sessions carry "remember"); kept strict all the same.
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PROVINCE_NAME = os.environ.get("PROVINCE_NAME", "tỉnh Đồng Tháp")
    # The year-end documents (services/documents): the number and symbol each one carries, left blank
    # for the office to number; the decree's forms the proposal and achievement reports follow.
    DOCUMENT_NUMBERS = {
        "minutes": "Số:       /BB-CTĐ",
        "proposal": "Số:       /TTr-CTĐ",
        "annual": "Số:       /BC-CTĐ",
    }
    AWARD_FORMS = os.environ.get("AWARD_FORMS", "nd98-2023")
    # Evidence files (minh chứng): kept outside static/, served only through the portal's checks.
    EVIDENCE_FOLDER = os.environ.get("EVIDENCE_FOLDER", str(BASE_DIR / "instance" / "evidence"))
    EVIDENCE_MAX_BYTES = int(os.environ.get("EVIDENCE_MAX_BYTES", 20 * 1024 * 1024))
    EVIDENCE_MAX_FILES = int(os.environ.get("EVIDENCE_MAX_FILES", 10))  # per criterion of one assessment
    # Reminder e-mails: only offered when an SMTP server and a sender are configured.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "") in ("1", "true", "yes")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "")
    # The portal's public address, for the links of e-mails sent from the command line (the notice digest).
    PORTAL_URL = os.environ.get("PORTAL_URL", "")


class DevelopmentConfig(Config):
    DEBUG = True


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing"
    SQLALCHEMY_DATABASE_URI = normalise_database_url(os.environ.get("TEST_DATABASE_URL", "sqlite://"))
    WTF_CSRF_ENABLED = False  # switched back on by the CSRF test module
    # never the development instance's evidence files (tests that upload use their own tmp_path)
    EVIDENCE_FOLDER = os.environ.get("TEST_EVIDENCE_FOLDER", str(Path(tempfile.gettempdir()) / "portal-test-evidence"))
    REDIS_URL = os.environ.get("TEST_REDIS_URL")
    LIVE_STREAM_SECONDS = 2  # an event stream in a test ends soon


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    HSTS_SECONDS = 365 * 24 * 3600
    PREFERRED_URL_SCHEME = "https"

    def __init__(self):
        key = os.environ.get("SECRET_KEY", "")
        if not key or key == DEV_SECRET_KEY:
            raise RuntimeError("SECRET_KEY must be set in production")
        self.SECRET_KEY = key


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
