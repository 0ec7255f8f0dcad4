"""The audit log is tamper-evident: a hash chain that `flask audit verify` checks."""

import os
import threading

import pytest
from sqlalchemy import func, select, text

from portal.extensions import db
from portal.models import AuditEntry
from portal.services.org import structure as org
from portal.services.platform import audit_chain
from tests import factories


def _verify(runner):
    return runner.invoke(args=["audit", "verify"])


def test_every_change_extends_the_chain(world, auth, client, runner):
    auth.login("secretariat")
    client.post("/units/", data={"name": "Sở Xây dựng", "sector": "department"})
    client.post(f"/units/{world.member.id}/edit", data={"name": "UBND xã Tân Hồng (mới)", "sector": "commune"})
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert entries[0].prev_hash == audit_chain.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    result = _verify(runner)
    assert result.exit_code == 0 and f"{len(entries)} bản ghi" in result.output and entries[-1].hash in result.output


@pytest.mark.parametrize(
    "tamper, reason",
    [
        ("UPDATE audit_entries SET object_label = 'Sửa lén' WHERE id = :id", "bị sửa"),
        ("UPDATE audit_entries SET changes = '{}' WHERE id = :id", "bị sửa"),
        ("DELETE FROM audit_entries WHERE id = :id", "bị xóa hoặc chèn"),
    ],
)
def test_tampering_is_detected(world, runner, tamper, reason):
    target = db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()[3]
    if db.engine.dialect.name == "postgresql":  # someone with the database owner's rights lifts the trigger
        db.session.execute(text("SET LOCAL portal.audit_rewrite = 'on'"))
    db.session.execute(text(tamper), {"id": target})
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1 and "KHÔNG toàn vẹn" in result.output and reason in result.output
    expected = target if "DELETE" not in tamper else target + 1
    assert f"#{expected}" in result.output


def test_a_forged_entry_is_detected(world, runner):
    last = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    forged = {
        "at": last.at,
        "user_id": None,
        "username": "kẻ giả mạo",
        "action": "update",
        "object_type": "Unit",
        "object_id": "1",
        "object_label": "x",
        "changes": {},
        "summary": "",
        "prev_hash": "f" * 64,
        "hash": "e" * 64,
    }
    db.session.execute(AuditEntry.__table__.insert(), forged)
    db.session.commit()
    assert _verify(runner).exit_code == 1


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="concurrent writers need PostgreSQL (set TEST_DATABASE_URL); SQLite serialises writers anyway",
)
def test_concurrent_writers_keep_one_chain(app, runner):
    def writer(n: int):
        with app.app_context():
            for i in range(15):
                org.save_unit(db.session, None, name=f"Đơn vị song song {n}-{i}")
                db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert db.session.scalar(select(db.func.count()).select_from(AuditEntry)) == 60
    assert _verify(runner).exit_code == 0


def test_events_join_the_chain(world, auth, runner):
    auth.login("head")
    auth.logout()
    factories.unit("Sở Y tế")
    db.session.commit()
    actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))][-3:]
    assert actions == ["login", "logout", "create"]
    assert _verify(runner).exit_code == 0


@pytest.mark.parametrize("statement", ["UPDATE audit_entries SET summary = 'x'", "DELETE FROM audit_entries"])
def test_the_database_refuses_to_rewrite_the_log(world, statement):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's (SQLite relies on the hash chain)")
    from sqlalchemy.exc import DBAPIError

    count = db.session.scalar(select(func.count(AuditEntry.id)))
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.scalar(select(func.count(AuditEntry.id))) == count
