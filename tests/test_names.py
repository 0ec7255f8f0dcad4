"""Vietnamese names in the app: one name whatever its case or normal form, found without
diacritics, listed in Vietnamese alphabetical order, the same on SQLite and PostgreSQL."""

import io
import unicodedata

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal import vntext
from portal.extensions import db
from portal.models import Cluster, CouncilMember, Unit, User
from portal.services.org import structure as org
from tests import factories

TRAM_CHIM = "Ủy ban nhân dân xã Tràm Chim"
IN_ORDER = [
    "Đài Phát thanh và Truyền hình tỉnh",
    "Hội Nông dân tỉnh",
    "Ủy ban nhân dân xã Tràm Chim",
    "Văn phòng Đoàn ĐBQH và HĐND tỉnh",
]


def _count(model=Unit) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _positions(text: str, names: list[str]) -> list[int]:
    return [text.index(name) for name in names]


def test_same_name_again_is_an_error_next_to_the_field_not_a_500(world, auth, client):
    factories.unit(TRAM_CHIM)
    db.session.commit()
    auth.login("secretariat")
    before = _count()
    response = client.post("/units/", data={"name": TRAM_CHIM, "sector": "commune"})
    assert response.status_code == 422
    assert 'id="name-error">Đã có đơn vị tên' in response.text
    assert _count() == before


def test_same_name_in_capitals_or_decomposed_is_the_same_unit(world, auth, client):
    factories.unit(TRAM_CHIM)
    db.session.commit()
    auth.login("secretariat")
    before = _count()
    for variant in (
        "ỦY BAN NHÂN DÂN XÃ TRÀM CHIM",
        unicodedata.normalize("NFD", TRAM_CHIM),
        "Uỷ ban nhân dân xã Tràm Chim",
    ):
        response = client.post("/units/", data={"name": variant, "sector": "commune"})
        assert response.status_code == 422 and "Đã có đơn vị tên" in response.text, variant
    assert _count() == before


def test_a_decomposed_name_is_stored_composed(world, auth, client):
    auth.login("secretariat")
    response = client.post("/units/", data={"name": unicodedata.normalize("NFD", TRAM_CHIM), "sector": "commune"})
    assert response.status_code == 303
    assert db.session.scalar(select(Unit.name).where(Unit.name_key == vntext.name_key(TRAM_CHIM))) == TRAM_CHIM


def test_a_race_past_the_check_gives_the_same_error(world, auth, client, monkeypatch):
    factories.unit(TRAM_CHIM)
    db.session.commit()
    monkeypatch.setattr(org, "_taken", lambda *args, **kwargs: False)  # as if both requests checked at once
    auth.login("secretariat")
    before = _count()
    response = client.post("/units/", data={"name": TRAM_CHIM.upper(), "sector": "commune"})
    assert response.status_code == 422 and "Đã có đơn vị tên" in response.text
    assert _count() == before


def test_edit_and_rename_respect_the_name(world, auth, client, hx):
    factories.unit(TRAM_CHIM)
    db.session.commit()
    auth.login("secretariat")
    clash = hx.post(f"/units/{world.member.id}/edit", data={"name": TRAM_CHIM.upper(), "sector": "commune"})
    assert clash.status_code == 422 and "Đã có đơn vị tên" in clash.text
    renamed = client.post(
        f"/units/{world.member.id}/rename",
        data={
            "rename-new_name": "ỦY BAN NHÂN DÂN XÃ TRÀM CHIM",
            "rename-effective_on": factories.vn_format(factories.past_date()),
        },
    )
    assert renamed.status_code == 422 and "Đã có đơn vị tên" in renamed.text
    assert db.session.get(Unit, world.member.id).name == "UBND xã Tân Hồng"


def test_search_finds_capitals_with_lower_case_diacritics_or_none(world, auth, hx):
    factories.unit("ỦY BAN NHÂN DÂN XÃ TRÀM CHIM")
    factories.unit("Tỷ lệ 100% hộ nghèo", short_name="TL_1")
    db.session.commit()
    auth.login("secretariat")
    for query in ("ủy ban nhân dân", "uy ban", "UỶ BAN", "xa tram chim", unicodedata.normalize("NFD", "tràm chim")):
        found = hx.get("/units/", query_string={"q": query})
        assert "ỦY BAN NHÂN DÂN XÃ TRÀM CHIM" in found.text, query
    assert "Tỷ lệ 100% hộ nghèo" in hx.get("/units/?q=tl_1").text
    for wildcard in ("t%h", "ty_le", "100_"):  # LIKE wildcards typed by a user are plain characters
        assert "Tỷ lệ 100% hộ nghèo" not in hx.get("/units/", query_string={"q": wildcard}).text, wildcard
    assert "Tỷ lệ 100% hộ nghèo" in hx.get("/units/", query_string={"q": "100%"}).text


def test_unit_list_is_in_vietnamese_alphabetical_order(world, auth, client):
    for name in reversed(IN_ORDER):
        factories.unit(name)
    db.session.commit()
    auth.login("secretariat")
    page = client.get("/units/?status=all")
    positions = _positions(page.text, IN_ORDER)
    assert positions == sorted(positions)


def test_export_lists_units_in_vietnamese_alphabetical_order(world, auth, client):
    for name in reversed(IN_ORDER):
        factories.unit(name)
    db.session.commit()
    auth.login("secretariat")
    exported = client.get("/transfer/export.xlsx?year=all")
    sheet = openpyxl.load_workbook(io.BytesIO(exported.data))["Đơn vị"]
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]]
    assert [n for n in names if n in IN_ORDER] == IN_ORDER
    assert names == sorted(names, key=vntext.sort_key)


def test_clusters_are_one_name_per_kind_and_found_without_diacritics(world, auth, client, hx):
    factories.cluster("Cụm thi đua Đồng Tháp Mười")
    db.session.commit()
    auth.login("secretariat")
    before = _count(Cluster)
    response = client.post("/clusters/", data={"kind": "cluster", "code": "C99", "name": "CỤM THI ĐUA ĐỒNG THÁP MƯỜI"})
    assert response.status_code == 422 and "Đã có cụm thi đua tên" in response.text
    assert _count(Cluster) == before
    assert "Cụm thi đua Đồng Tháp Mười" in hx.get("/clusters/?q=dong thap muoi").text


def test_council_members_found_without_diacritics_and_listed_by_given_name(world, auth, client):
    for name in ("Trần Thị Ánh", "Nguyễn Văn An", "Lê Thị Đào", "Phạm Văn Dũng"):
        org.save_council_member(db.session, None, full_name=name, council_role="member")
    db.session.commit()
    auth.login("secretariat")
    found = client.get("/council/?q=dung&council_role=member")
    assert "Phạm Văn Dũng" in found.text and "Lê Thị Đào" not in found.text
    page = client.get("/council/?council_role=member")
    positions = _positions(page.text, ["Nguyễn Văn An", "Trần Thị Ánh", "Phạm Văn Dũng", "Lê Thị Đào"])
    assert positions == sorted(positions)


def test_accounts_found_by_full_name_without_diacritics(world, auth, client):
    account = factories.user("nguoi-dung-moi", kind="secretariat")
    account.full_name = "Đặng Thị Thuỷ"
    db.session.commit()
    auth.login("secretariat")
    for query in ("dang thi thuy", "ĐẶNG THỊ THỦY"):
        assert "nguoi-dung-moi" in client.get("/accounts/", query_string={"q": query}).text, query
    assert db.session.scalar(select(User.search_key).where(User.id == account.id)).startswith("nguoi-dung-moi\n")


NAMES = st.text(
    alphabet=st.sampled_from(list("aăâbdđeêioôơuưyAĐƠ 0129-%") + list(vntext.TONES)), min_size=1, max_size=12
).filter(lambda s: vntext.normalise(s) != "")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(NAMES, min_size=2, max_size=8, unique_by=vntext.name_key))
def test_sql_order_by_the_stored_key_is_the_python_order(app, names):
    """The database (SQLite BLOB, PostgreSQL bytea) orders the keys exactly as Python's bytes do."""
    try:
        db.session.add_all(CouncilMember(full_name=name) for name in names)  # person order: another key to check
        db.session.add_all(Unit(name=vntext.normalise(name)) for name in names)
        db.session.flush()
        for model, label, key in (
            (Unit, "name", vntext.sort_key),
            (CouncilMember, "full_name", vntext.person_sort_key),
        ):
            stored = db.session.execute(
                select(model.id, getattr(model, label)).order_by(model.sort_key, model.id)
            ).all()
            assert stored == sorted(stored, key=lambda row, key=key: (key(row[1]), row[0]))
    finally:
        db.session.rollback()
