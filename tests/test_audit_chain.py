"""The audit log is tamper-evident: a hash chain that `flask audit verify` checks."""

import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from portal.extensions import db
from portal.models import AuditEntry, AuditSeal
from portal.models.base import utcnow
from portal.services.org import structure as org
from portal.services.platform import audit_chain, audit_seal
from tests import factories


def _verify(runner):
    return runner.invoke(args=["audit", "verify"])


def _seals():
    return db.session.scalars(select(AuditSeal).order_by(AuditSeal.position)).all()


def test_every_change_extends_the_chain(world, auth, client, runner):
    auth.login("secretariat")
    client.post("/units/", data={"name": "Sở Xây dựng", "sector": "department"})
    client.post(f"/units/{world.member.id}/edit", data={"name": "UBND xã Tân Hồng (mới)", "sector": "commune"})
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    seals = _seals()
    assert [s.entry_id for s in seals] == [e.id for e in entries]  # every committed entry sealed, one seal each
    assert [s.position for s in seals] == list(range(1, len(entries) + 1))
    assert seals[0].prev_hash == audit_chain.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(seals, seals[1:], strict=False))
    assert all(e.hash is None and e.prev_hash is None for e in entries)  # writers no longer hash
    result = _verify(runner)
    assert result.exit_code == 0 and f"{len(entries)} bản ghi" in result.output and seals[-1].hash in result.output
    assert "Chưa niêm phong" not in result.output


def _lift_guard():
    if db.engine.dialect.name == "postgresql":  # someone with the database owner's rights lifts the trigger
        db.session.execute(text("SET LOCAL portal.audit_rewrite = 'on'"))


@pytest.mark.parametrize(
    "tamper, reason",
    [
        ("UPDATE audit_entries SET object_label = 'Sửa lén' WHERE id = :id", "bị sửa"),
        ("UPDATE audit_entries SET changes = '{}' WHERE id = :id", "bị sửa"),
        ("DELETE FROM audit_entries WHERE id = :id", "niêm phong bị xóa"),
        ("UPDATE audit_seals SET hash = :forged WHERE entry_id = :id", "bị sửa"),
    ],
)
def test_tampering_is_detected(world, runner, tamper, reason):
    target = db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()[3]
    _lift_guard()
    db.session.execute(text(tamper), {"id": target, "forged": "e" * 64})
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1 and "KHÔNG toàn vẹn" in result.output and reason in result.output
    assert f"#{target}" in result.output


def test_reordering_sealed_entries_is_detected(world, runner):
    """Two sealed entries swapped in the chain (their seals' positions exchanged) break the links."""
    first, second = _seals()[2:4]
    moved = second.entry_id
    _lift_guard()
    for position, entry_id, prev, digest in (
        (-1, first.entry_id, first.prev_hash, first.hash),
        (first.position, second.entry_id, second.prev_hash, second.hash),
        (second.position, first.entry_id, first.prev_hash, first.hash),
    ):
        db.session.execute(text("DELETE FROM audit_seals WHERE entry_id = :e"), {"e": entry_id})
        db.session.execute(
            AuditSeal.__table__.insert().values(position=position, entry_id=entry_id, prev_hash=prev, hash=digest)
        )
    db.session.execute(text("DELETE FROM audit_seals WHERE position = -1"))
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1 and "đổi thứ tự" in result.output and f"#{moved}" in result.output


def test_a_forged_seal_is_detected(world, runner):
    last = _seals()[-1]
    forged = factories.unit("Sở Giả")  # an entry of its own, then a seal that does not fit the chain
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_label == forged.audit_label()))
    _lift_guard()
    db.session.execute(text("DELETE FROM audit_seals WHERE entry_id = :e"), {"e": entry.id})
    db.session.execute(
        AuditSeal.__table__.insert().values(
            position=last.position + 1, entry_id=entry.id, prev_hash=last.hash, hash="e" * 64
        )
    )
    db.session.commit()
    assert _verify(runner).exit_code == 1


def test_an_entry_inserted_behind_the_back_is_sealed_and_a_backdated_one_is_reported(world, runner):
    """Inserting is what the append-only trigger allows: an entry written straight into the table is sealed
    like any late commit; one dated well before the entries sealed ahead of it is listed by verify."""
    oldest = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id).limit(1))
    forged = {
        "at": oldest.at - timedelta(days=3),
        "user_id": None,
        "username": "kẻ giả mạo",
        "action": "update",
        "object_type": "Unit",
        "object_id": "1",
        "object_label": "x",
        "changes": {},
        "summary": "",
    }
    db.session.execute(AuditEntry.__table__.insert(), forged)
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 0 and "Niêm phong muộn: 1 bản ghi" in result.output
    forged_id = db.session.scalar(select(func.max(AuditEntry.id)))
    assert f"#{forged_id}" in result.output


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
    assert db.session.scalar(select(db.func.count()).select_from(AuditSeal)) == 60  # each writer sealed its own
    assert _verify(runner).exit_code == 0


def test_events_join_the_chain(world, auth, runner):
    auth.login("head")
    auth.logout()
    factories.unit("Sở Y tế")
    db.session.commit()
    actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))][-3:]
    assert actions == ["login", "logout", "create"]
    assert _verify(runner).exit_code == 0


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET summary = 'x'",
        "DELETE FROM audit_entries",
        "UPDATE audit_seals SET hash = 'x'",
        "DELETE FROM audit_seals",
    ],
)
def test_the_database_refuses_to_rewrite_the_log(world, statement):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's (SQLite relies on the hash chain)")
    from sqlalchemy.exc import DBAPIError

    counts = select(
        select(func.count(AuditEntry.id)).scalar_subquery(),
        select(func.count()).select_from(AuditSeal).scalar_subquery(),
    )
    before = db.session.execute(counts).one()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.execute(counts).one() == before


def _raw_entry(summary: str) -> None:
    row = {"at": utcnow(), "user_id": None, "username": "x", "action": "event", "object_type": "", "object_id": ""}
    db.session.execute(AuditEntry.__table__.insert(), {**row, "object_label": "", "changes": {}, "summary": summary})
    db.session.commit()


def test_flask_audit_seal_chains_what_has_no_seal_and_twice_is_a_no_op(world, runner):
    _raw_entry("ghi thẳng vào bảng")  # no writer sealed it (on SQLite the next writer's seal would)
    sealed = runner.invoke(args=["audit", "seal"])
    assert sealed.exit_code == 0 and "Đã niêm phong 1 bản ghi" in sealed.output
    again = runner.invoke(args=["audit", "seal"])
    assert again.exit_code == 0 and "Đã niêm phong 0 bản ghi" in again.output
    count = db.session.scalar(select(func.count(AuditEntry.id)))
    assert db.session.scalar(select(func.count()).select_from(AuditSeal)) == count


def test_verify_reports_the_entries_left_unsealed_while_another_sealer_holds_the_lock(world, runner):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the sealer's lock is PostgreSQL's (SQLite writers seal their own entries at once)")
    with db.engine.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:key)"), {"key": audit_seal.SEAL_LOCK_KEY})
        try:
            _raw_entry("chưa niêm phong")
            result = _verify(runner)
        finally:
            other.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": audit_seal.SEAL_LOCK_KEY})
            other.commit()
    assert result.exit_code == 0 and "Chưa niêm phong: 1 bản ghi" in result.output
    assert "Nhật ký toàn vẹn" in result.output
    assert _verify(runner).output.startswith("Nhật ký toàn vẹn")  # sealed by the next run


def test_a_pages_first_statement_gives_the_data_version_only_when_every_entry_is_sealed(world, count_queries):
    """`access.cluster_year_in_scope` reads the version columns beside the cluster and year; they stand for
    the data version only when the newest entry is sealed, else `data_version` seals it as ever."""
    from portal.services.platform import live

    version = live.data_version(db.session)
    db.session.commit()  # a new transaction reads the version again
    live.adopt_version(db.session, *db.session.execute(select(*live.version_columns())).one())
    with count_queries() as statements:
        assert live.data_version(db.session) == version
    assert statements() == 0
    db.session.commit()

    newest = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    behind_the_back = {c: getattr(newest, c) for c in ("at", "user_id", "username", "action", "object_type")}
    db.session.execute(AuditEntry.__table__.insert(), {**behind_the_back, "object_id": "1", "object_label": "x"})
    db.session.commit()  # an entry with no seal yet (its writer between its commit and its seal)
    live.adopt_version(db.session, *db.session.execute(select(*live.version_columns())).one())  # not taken
    if db.engine.dialect.name == "postgresql":
        assert live.data_version(db.session) == version + 1  # sealed first, then read
        newest_id = db.session.scalar(select(func.max(AuditEntry.id)))
        assert db.session.scalar(select(func.max(AuditSeal.entry_id))) == newest_id
    else:  # SQLite does not seal what it did not write itself: the session is marked, caches compute
        live.data_version(db.session)
        assert live.has_writes(db.session)
