"""The audit hook: every change of an audited row is logged in the same transaction."""

from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEntry, Unit
from portal.services.platform.audit import Actor, acting_as
from tests import factories


def _entries(object_type, object_id):
    return db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
        .order_by(AuditEntry.id)
    ).all()


def test_create_update_delete_with_before_and_after(app):
    with acting_as(Actor(42, "can-bo")):
        unit = factories.unit("Sở Tư pháp", short_name="STP")
        db.session.commit()
        unit.short_name = "S.TP"
        unit.address = "Số 1, đường Lý Thường Kiệt"
        db.session.commit()
        unit_id = unit.id
        db.session.delete(unit)
        db.session.commit()
    created, updated, deleted = _entries("Unit", unit_id)
    assert (created.action, created.username, created.user_id) == ("create", "can-bo", 42)
    assert created.changes["name"] == [None, "Sở Tư pháp"]
    assert updated.action == "update"
    assert updated.changes == {"short_name": ["STP", "S.TP"], "address": ["", "Số 1, đường Lý Thường Kiệt"]}
    assert deleted.action == "delete" and deleted.changes["name"] == ["Sở Tư pháp", None]
    assert deleted.object_label == "Sở Tư pháp"


def test_a_rolled_back_change_leaves_no_entry(app):
    factories.unit("Sở Y tế")
    db.session.flush()
    db.session.rollback()
    assert db.session.scalars(select(AuditEntry)).all() == []
    assert db.session.scalars(select(Unit)).all() == []


def test_an_unchanged_save_writes_nothing(app):
    unit = factories.unit("Sở Xây dựng")
    db.session.commit()
    before = len(db.session.scalars(select(AuditEntry)).all())
    unit.name = "Sở Xây dựng"
    db.session.commit()
    assert len(db.session.scalars(select(AuditEntry)).all()) == before


def test_web_changes_name_the_signed_in_user(world, auth, client):
    auth.login("secretariat")
    client.post(f"/units/{world.member.id}/edit", data={"name": "UBND xã Tân Hồng (sửa)", "sector": "commune"})
    entry = _entries("Unit", world.member.id)[-1]
    assert entry.username == "secretariat" and entry.user_id == world.users["secretariat"].id
    assert entry.changes["name"] == ["UBND xã Tân Hồng", "UBND xã Tân Hồng (sửa)"]


def test_the_actor_of_a_request_ends_with_it(world, auth, client):
    """After a request, work outside any request (a CLI command, a job, the next test) is the system's again."""
    auth.login("outsider")
    assert client.get("/").status_code == 200
    unit = factories.unit("Sở Khoa học và Công nghệ")
    db.session.commit()
    assert [(e.username, e.user_id) for e in _entries("Unit", unit.id)] == [("hệ thống", None)]


def test_an_api_call_leaves_no_actor_behind(world, client):
    from portal.services.platform import api_tokens

    _, secret = api_tokens.create(db.session, world.users["secretariat"], "Hệ thống một cửa")
    db.session.commit()
    assert client.get("/api/v1/units", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    unit = factories.unit("Sở Giáo dục và Đào tạo")
    db.session.commit()
    assert [(e.username, e.user_id) for e in _entries("Unit", unit.id)] == [("hệ thống", None)]
