"""`flask db upgrade` on an empty database builds exactly the schema the models declare."""

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text

from config import normalise_database_url
from portal import create_app
from portal.extensions import db


def _fresh_database(tmp_path):
    """A new empty database of the kind the suite runs on; yields its URL."""
    base = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    if not base.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    name = f"migration_check_{uuid.uuid4().hex[:8]}"
    base = normalise_database_url(base)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def fresh_url(tmp_path):
    yield from _fresh_database(tmp_path)


def test_upgrade_builds_the_models_schema(fresh_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": fresh_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            tables = set(inspect(conn).get_table_names())
        db.engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
    assert {"units", "clusters", "memberships", "terms", "term_positions", "users", "audit_entries"} <= tables


def test_a_log_chained_before_the_sealer_verifies_unchanged(fresh_url):
    """The migration to the sealer makes the existing chain its first seals: same order, same hashes."""
    from datetime import UTC, datetime, timedelta

    from portal.services.platform import audit_chain

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": fresh_url})
    with app.app_context():
        upgrade(revision="5e1c0a7d9b42")  # the last revision before audit_seals
        entries = sa_table("audit_entries", *audit_chain.FIELDS, "prev_hash", "hash")
        start = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(days=30)  # naive UTC, as stored
        head, rows = audit_chain.GENESIS, []
        for n in range(5):
            row = {
                "at": start + timedelta(minutes=n),
                "user_id": None,
                "username": "hệ thống",
                "action": "event",
                "object_type": "",
                "object_id": "",
                "object_label": "",
                "changes": {"n": n},
                "summary": f"sự kiện {n}",
            }
            row["prev_hash"], row["hash"] = head, audit_chain.entry_hash(head, row)
            head = row["hash"]
            rows.append(row)
        with db.engine.begin() as conn:
            conn.execute(entries.insert(), rows)
        upgrade()
        result = app.test_cli_runner().invoke(args=["audit", "verify"])
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert f"Nhật ký toàn vẹn: 5 bản ghi; mã băm cuối {head}" in result.output


def sa_table(name: str, *columns: str):
    from sqlalchemy import JSON, DateTime, column, table

    kinds = {"at": DateTime, "changes": JSON}
    return table(name, *(column(c, kinds.get(c)) for c in columns))


def test_the_tallies_migration_fills_them_from_the_scores_and_keeps_them(fresh_url):
    """Down to the revision before the score tallies and up again: the migration fills them from the
    submitted scores, and its triggers keep them from then on (a return subtracts)."""
    from flask_migrate import downgrade
    from sqlalchemy import func, select

    from portal.models import ScoreTally
    from portal.services.results import tallies
    from portal.services.scoring import assessments as scoring
    from tests import factories
    from tests.test_results_read import _fill, _of, deep_table

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": fresh_url})
    with app.app_context():
        upgrade()
        world = factories.world()
        cset, items, _ = deep_table(world)
        self_round = scoring.open_self_round(db.session, cset)
        own = _of(self_round, world.head)
        _fill(own, items, {"a": "30", "b": "20", "c": "28", "d": "20", "bonus": "2", "minus": "1"})
        scoring.submit(db.session, own, None)
        db.session.commit()
        downgrade(revision="3c9e51d7a2b4")  # the last revision before score_tallies
        assert "score_tallies" not in inspect(db.engine).get_table_names()
        upgrade()
        filled = db.session.scalar(select(func.count()).select_from(ScoreTally))
        drift_after_fill = tallies.drift(db.session)
        scoring.return_for_revision(db.session, db.session.get(type(own), own.id), "Bổ sung minh chứng")
        db.session.commit()
        drift_after_return = tallies.drift(db.session)
        kept = db.session.scalar(select(func.sum(ScoreTally.n)))
        db.session.remove()
        db.engine.dispose()
    assert filled == len(items) and drift_after_fill == []
    assert drift_after_return == [] and kept == 0


def test_the_migrations_make_the_tallies_triggers_the_models_declare():
    """The score tallies' triggers are frozen in their migration; a change in models/tallies.py needs a
    migration of its own (whitespace aside, the newest revision that writes them must say the same)."""
    import importlib.util
    from pathlib import Path

    from portal.models import tallies

    path = Path(__file__).parent.parent / "migrations" / "versions" / "9a4d2c6e1f70_score_tallies.py"
    spec = importlib.util.spec_from_file_location("tallies_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    def words(statements):
        return [" ".join(statement.split()) for statement in statements]

    for dialect, (create, drop) in migration.TRIGGERS.items():
        declared = tallies.triggers(dialect)
        assert words(create) == words(declared.create), dialect
        assert words(drop) == words(declared.drop), dialect
