"""The load and kill scenarios (bench/) need PostgreSQL and gunicorn; the SQLite pass skips them, saying why."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.harness import is_postgres, tool


@pytest.fixture
def postgres_server() -> str:
    """TEST_DATABASE_URL's server; each scenario creates and drops its own database there (never that one)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not is_postgres(url):
        pytest.skip(
            "load/kill scenario needs PostgreSQL and gunicorn: TEST_DATABASE_URL is not a postgresql:// URL "
            "(the SQLite pass); it runs in the PostgreSQL pass of `make test`"
        )
    if not Path(tool("gunicorn")).exists():
        pytest.skip("load/kill scenario needs gunicorn in the virtualenv (pip install -r requirements.txt)")
    return url
