"""Units: list, search, in-place edit, reorganisation; bad input; who may."""

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEntry, Unit, UnitChange


def test_list_three_ways(world, auth, client, hx):
    auth.login("secretariat")
    page = client.get("/units/")
    assert page.status_code == 200 and "Đơn vị thành viên" in page.text and "<html" in page.text
    assert "HX-Request" in page.headers["Vary"]
    fragment = hx.get("/units/?q=phường")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "UBND phường An Bình" in fragment.text and "Sở Công Thương" not in fragment.text
    for full in (hx.history_restore("/units/?q=phường"), hx.boosted("/units/?q=phường")):
        assert "<html" in full.text


def test_create_unit_and_audit(world, auth, client):
    auth.login("secretariat")
    response = client.post("/units/", data={"name": "  Sở  Y tế ", "short_name": "SYT", "sector": "department"})
    assert response.status_code == 303
    unit = db.session.scalar(select(Unit).where(Unit.name == "Sở Y tế"))
    assert unit is not None and unit.short_name == "SYT"
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.object_type == "Unit", AuditEntry.object_id == str(unit.id))
    )
    assert entry.action == "create" and entry.username == "secretariat"
    assert entry.changes["name"] == [None, "Sở Y tế"]


def test_duplicate_name_is_refused_case_insensitively(world, auth, client):
    auth.login("secretariat")
    before = db.session.scalar(select(func.count()).select_from(Unit))
    response = client.post("/units/", data={"name": "ubnd PHƯỜNG an bình", "sector": "ward"})
    assert response.status_code == 422
    assert "Đã có đơn vị tên" in response.text
    assert db.session.scalar(select(func.count()).select_from(Unit)) == before


def test_empty_and_overlong_fields(world, auth, client):
    auth.login("secretariat")
    empty = client.post("/units/", data={"name": "   ", "sector": "ward"})
    assert empty.status_code == 422 and "Vui lòng nhập trường này." in empty.text
    long = client.post("/units/", data={"name": "X" * 256, "sector": "ward"})
    assert long.status_code == 422 and "Tối đa 255 ký tự." in long.text
    bad_sector = client.post("/units/", data={"name": "Đơn vị mới", "sector": "planet"})
    assert bad_sector.status_code == 422
    assert db.session.scalar(select(Unit).where(Unit.name == "Đơn vị mới")) is None


def test_edit_in_place_returns_the_row(world, auth, hx):
    auth.login("secretariat")
    form = hx.get(f"/units/{world.member.id}/edit")
    assert form.status_code == 200 and "<tr" in form.text and "<html" not in form.text
    saved = hx.post(f"/units/{world.member.id}/edit", data={"name": "UBND xã Tân Hồng mới", "sector": "commune"})
    assert saved.status_code == 200 and "UBND xã Tân Hồng mới" in saved.text and "Sửa" in saved.text
    clash = hx.post(f"/units/{world.member.id}/edit", data={"name": "Sở Công Thương", "sector": "commune"})
    assert clash.status_code == 422 and "Đã có đơn vị tên" in clash.text
    assert db.session.get(Unit, world.member.id).name == "UBND xã Tân Hồng mới"


def test_rename_keeps_history(world, auth, client):
    auth.login("secretariat")
    response = client.post(
        f"/units/{world.member.id}/rename",
        data={
            "rename-new_name": "UBND xã Tân Hồng (mới)",
            "rename-effective_on": "01/07/2025",
            "rename-decision_ref": "1663/NQ",
        },
    )
    assert response.status_code == 303
    change = db.session.scalar(select(UnitChange).where(UnitChange.unit_id == world.member.id))
    assert (change.kind, change.old_name, change.new_name) == ("rename", "UBND xã Tân Hồng", "UBND xã Tân Hồng (mới)")
    page = client.get(f"/units/{world.member.id}")
    assert "01/07/2025" in page.text and "UBND xã Tân Hồng" in page.text


def test_bad_date_is_explained(world, auth, client):
    auth.login("secretariat")
    response = client.post(f"/units/{world.member.id}/retire", data={"retire-effective_on": "31/02/2025"})
    assert response.status_code == 422 and "dd/mm/yyyy" in response.text
    assert db.session.get(Unit, world.member.id).active


def test_merge_retires_the_predecessor(world, auth, client):
    auth.login("secretariat")
    response = client.post(
        f"/units/{world.member.id}/merge",
        data={"merge-successor_id": str(world.deputy.id), "merge-effective_on": "01/07/2025"},
    )
    assert response.status_code == 303
    member = db.session.get(Unit, world.member.id)
    assert not member.active and member.merged_into_id == world.deputy.id
    again = client.post(f"/units/{world.member.id}/retire", data={"retire-effective_on": "01/08/2025"})
    assert again.status_code == 303 and db.session.get(Unit, world.member.id).active  # brought back


def test_merge_needs_a_successor(world, auth, client):
    auth.login("secretariat")
    response = client.post(
        f"/units/{world.member.id}/merge", data={"merge-successor_id": "0", "merge-effective_on": "01/07/2025"}
    )
    assert response.status_code == 422 and "Chọn đơn vị tiếp nhận." in response.text


def test_only_the_secretariat_manages_units(world, auth, client):
    for username in ("head", "member", "overseer", "council"):
        auth.login(username)
        assert client.get("/units/").status_code == 403
        assert client.post("/units/", data={"name": "Lạ", "sector": "other"}).status_code == 403
        auth.logout()
    assert client.get("/units/").status_code == 302  # anonymous: to the sign-in page
