"""The criteria editor on the web: who sees and edits what, in place, with live totals."""

from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import CriteriaSet, Criterion, Term
from portal.services.criteria import sets as svc
from tests import factories


@pytest.fixture
def draft(world):
    return factories.criteria_set(world, publish=False, section_title="Nhiệm vụ chính trị")


def _item(code_path):
    return db.session.scalar(select(Criterion).where(Criterion.code == code_path))


def test_head_starts_a_set(world, auth, client):
    auth.login("head")
    page = client.get(f"/criteria/{world.cluster.id}/2026")
    assert page.status_code == 200 and "Tạo bảng tiêu chí" in page.text
    bad = client.post(
        f"/criteria/{world.cluster.id}/2026",
        data={"title": "", "target_total": "mười", "score_step": "0", "source": "empty"},
    )
    assert bad.status_code == 422 and "Vui lòng nhập trường này." in bad.text and "Nhập một số" in bad.text
    assert db.session.scalar(select(func.count()).select_from(CriteriaSet)) == 0
    ok = client.post(
        f"/criteria/{world.cluster.id}/2026",
        data={"title": "Bảng 2026", "target_total": "1.000", "score_step": "0,5", "source": "empty"},
    )
    assert ok.status_code == 303
    cset = db.session.scalar(select(CriteriaSet))
    assert (cset.target_total, cset.score_step, cset.status) == (D("1000"), D("0.5"), "draft")  # 1.000 is a thousand


def test_show_three_ways(draft, auth, client, hx):
    auth.login("head")
    url = f"/criteria/sets/{draft.id}"
    page = client.get(url)
    assert page.status_code == 200 and "<html" in page.text and "Thu ngân sách" in page.text
    fragment = hx.get(url)
    assert "<html" not in fragment.text and "Tổng điểm chuẩn" in fragment.text
    assert "<html" in hx.history_restore(url).text
    assert "HX-Request" in page.headers["Vary"]


def test_add_edit_move_delete_in_place(draft, auth, hx):
    auth.login("head")
    section = _item("I")
    added = hx.post(
        f"/criteria/sets/{draft.id}/items",
        data={
            "parent_id": section.id,
            "code": "3",
            "title": "Chuyển đổi số",
            "kind": "scored",
            "method": "pass_fail",
            "max_points": "10",
        },
    )
    assert added.status_code == 200 and "Chuyển đổi số" in added.text and "110" in added.text  # live total
    clash = hx.post(
        f"/criteria/sets/{draft.id}/items",
        data={
            "parent_id": section.id,
            "code": "3",
            "title": "Trùng",
            "kind": "scored",
            "method": "direct",
            "max_points": "1",
        },
    )
    assert clash.status_code == 422 and clash.headers["HX-Retarget"] == f"#new-under-{section.id}"
    assert "Đã có tiêu chí mã “3” cùng cấp." in clash.text
    item = _item("3")
    edited = hx.post(
        f"/criteria/items/{item.id}/edit",
        data={"code": "3", "title": "Chuyển đổi số", "kind": "scored", "method": "direct", "max_points": "abc"},
    )
    assert (
        edited.status_code == 422
        and edited.headers["HX-Retarget"] == f"#edit-{item.id}"
        and "Nhập một số" in edited.text
    )
    moved = hx.post(f"/criteria/items/{item.id}/move", data={"step": "-1"})
    assert moved.status_code == 200
    assert [c.code for c in svc.load_tree(db.session, draft).kids(section)] == ["1", "3", "2"]
    deleted = hx.post(f"/criteria/items/{item.id}/delete")
    assert deleted.status_code == 200 and "Chuyển đổi số" not in deleted.text


def test_full_page_fallbacks_without_javascript(draft, auth, client):
    auth.login("head")
    item = _item("2")
    page = client.get(f"/criteria/items/{item.id}/edit")
    assert (
        page.status_code == 200 and "<html" in page.text and "hx-post" not in page.text.split("criterion-form")[1][:300]
    )
    saved = client.post(
        f"/criteria/items/{item.id}/edit",
        data={"code": "2", "title": "CCHC", "kind": "scored", "method": "direct", "max_points": "40"},
    )
    assert saved.status_code == 303 and saved.headers["Location"] == f"/criteria/sets/{draft.id}"


def test_lifecycle_on_the_web(draft, auth, client):
    auth.login("head")
    assert client.post(f"/criteria/sets/{draft.id}/publish").status_code == 303
    assert client.post(f"/criteria/sets/{draft.id}/lock").status_code == 303
    locked = client.post(
        f"/criteria/items/{_item('2').id}/edit",
        data={"code": "2", "title": "X", "kind": "scored", "method": "direct", "max_points": "1"},
    )
    assert locked.status_code == 422 and "tạo phiên bản mới" in locked.text
    short = client.post(f"/criteria/sets/{draft.id}/versions", data={"reason": "ngắn"})
    assert short.status_code == 422 and "ít nhất 10 ký tự" in short.text
    made = client.post(f"/criteria/sets/{draft.id}/versions", data={"reason": "Bổ sung tiêu chí chuyển đổi số"})
    assert made.status_code == 303
    v2 = db.session.scalar(select(CriteriaSet).where(CriteriaSet.version == 2))
    assert made.headers["Location"] == f"/criteria/sets/{v2.id}" and v2.status == "draft"
    assert client.get(f"/criteria/{draft.cluster_id}/2026").text.count("Phiên bản 2") >= 1


VIEW = {"secretariat": 200, "overseer": 200, "head": 200, "deputy": 200, "member": 404, "council": 404, "outsider": 404}


@pytest.mark.parametrize("username", VIEW)
def test_who_sees_a_draft(draft, auth, client, username):
    auth.login(username)
    assert client.get(f"/criteria/sets/{draft.id}").status_code == VIEW[username]


@pytest.mark.parametrize(
    "username, status",
    [
        ("secretariat", 200),
        ("overseer", 200),
        ("council", 200),
        ("head", 200),
        ("deputy", 200),
        ("member", 200),
        ("outsider", 404),
    ],
)
def test_who_sees_it_published(draft, auth, client, username, status):
    svc.publish(db.session, db.session.get(CriteriaSet, draft.id))
    db.session.commit()
    auth.login(username)
    response = client.get(f"/criteria/sets/{draft.id}")
    assert response.status_code == status
    if status == 200:
        assert ("Xóa" in response.text) is (username == "head")


@pytest.mark.parametrize(
    "username, status",
    [("secretariat", 403), ("overseer", 403), ("council", 404), ("deputy", 403), ("member", 404), ("outsider", 404)],
)
def test_only_the_head_edits(draft, auth, client, username, status):
    auth.login(username)
    item = _item("2")
    for url, data in [
        (
            f"/criteria/sets/{draft.id}/items",
            {"code": "9", "title": "X", "kind": "scored", "method": "direct", "max_points": "1"},
        ),
        (f"/criteria/items/{item.id}/edit", {"code": "2", "title": "X"}),
        (f"/criteria/items/{item.id}/move", {"step": "1"}),
        (f"/criteria/items/{item.id}/delete", {}),
        (f"/criteria/sets/{draft.id}/publish", {}),
        (f"/criteria/sets/{draft.id}/settings", {"title": "X", "target_total": "1", "score_step": "1"}),
    ]:
        assert client.post(url, data=data).status_code == status, url
    assert db.session.get(Criterion, item.id).title == "Cải cách hành chính"


def test_head_lets_the_deputy_lead(draft, world, auth, client):
    auth.login("deputy")
    assert (
        client.post(f"/criteria/{world.cluster.id}/2026/delegation", data={"deputy_may_lead": "y"}).status_code == 403
    )
    auth.logout()
    auth.login("head")
    assert (
        client.post(f"/criteria/{world.cluster.id}/2026/delegation", data={"deputy_may_lead": "y"}).status_code == 303
    )
    assert db.session.scalar(select(Term.deputy_may_lead).where(Term.cluster_id == world.cluster.id))
    auth.logout()
    auth.login("deputy")
    response = client.post(
        f"/criteria/items/{_item('2').id}/edit",
        data={
            "code": "2",
            "title": "Cải cách hành chính, chuyển đổi số",
            "kind": "scored",
            "method": "direct",
            "max_points": "40",
        },
    )
    assert response.status_code == 303


def test_start_from_last_year_and_from_a_template(world, auth, client):
    last = factories.year(2025, current=False)
    from portal.services.org import cluster_year

    for unit in (world.head, world.deputy, world.member):
        cluster_year.add_membership(db.session, last, world.cluster, unit)
    old = svc.create_set(db.session, world.cluster, last, title="Bảng 2025", target_total=D(100))
    svc.add_criterion(db.session, old, None, code="I", title="Phần cũ", max_points=D(100))
    template = svc.create_set(
        db.session, None, None, title="Mẫu cụm xã, phường", target_total=D(100), template_kind="cluster"
    )
    svc.add_criterion(db.session, template, None, code="I", title="Phần mẫu", max_points=D(100))
    svc.publish(db.session, template)
    db.session.commit()
    auth.login("head")
    page = client.get(f"/criteria/{world.cluster.id}/2026")
    assert "Bảng tiêu chí năm trước" in page.text and "Mẫu của tỉnh: Mẫu cụm xã, phường" in page.text
    wrong = client.post(
        f"/criteria/{world.cluster.id}/2026",
        data={
            "title": "Bảng 2026",
            "target_total": "100",
            "score_step": "0,25",
            "source": "template",
            "source_set_id": old.id,
        },
    )
    assert wrong.status_code == 422 and "Chọn bảng nguồn phù hợp" in wrong.text
    ok = client.post(
        f"/criteria/{world.cluster.id}/2026",
        data={
            "title": "Bảng 2026",
            "target_total": "100",
            "score_step": "0,25",
            "source": "template",
            "source_set_id": template.id,
        },
    )
    assert ok.status_code == 303
    cset = svc.in_force(db.session, world.cluster.id, world.year.id)
    assert [n.title for n in svc.load_tree(db.session, cset).roots] == ["Phần mẫu"] and cset.based_on_id == template.id


def test_templates_are_the_secretariats(world, auth, client):
    auth.login("secretariat")
    made = client.post(
        "/criteria/templates",
        data={"title": "Mẫu khối sở", "target_total": "100", "score_step": "0,5", "template_kind": "block"},
    )
    assert made.status_code == 303
    template = db.session.scalar(select(CriteriaSet).where(CriteriaSet.cluster_id.is_(None)))
    assert template.template_kind == "block"
    auth.logout()
    auth.login("head")
    assert client.get(f"/criteria/sets/{template.id}").status_code == 404  # a draft template
    assert "Mẫu khối sở" not in client.get("/criteria/templates").text
    assert (
        client.post("/criteria/templates", data={"title": "X", "target_total": "1", "score_step": "1"}).status_code
        == 403
    )


def test_print_page(draft, auth, client):
    auth.login("head")
    page = client.get(f"/criteria/sets/{draft.id}/print")
    assert page.status_code == 200 and "BẢNG 2026" in page.text and "TỔNG CỘNG" in page.text


def test_query_count_is_flat(draft, auth, client, count_queries):
    auth.login("head")
    url = f"/criteria/sets/{draft.id}"
    client.get(url)
    with count_queries() as small:
        client.get(url)
    cset = db.session.get(CriteriaSet, draft.id)
    for s in range(5):
        section = svc.add_criterion(db.session, cset, None, code=f"S{s}", title=f"Phần {s}")
        for i in range(8):
            svc.add_criterion(db.session, cset, section, code=str(i), title=f"Tiêu chí {i}", max_points=D(1))
    db.session.commit()
    with count_queries() as big:
        assert client.get(url).status_code == 200
    assert big() == small() <= 12


def test_excel_round_trip_on_the_web(draft, auth, client):
    from io import BytesIO

    auth.login("head")
    exported = client.get(f"/criteria/sets/{draft.id}/export.xlsx")
    assert exported.status_code == 200 and exported.data[:2] == b"PK"
    before = [(n.code, n.title, n.max_points) for n, _ in svc.load_tree(db.session, draft).walk()]
    ok = client.post(
        f"/criteria/sets/{draft.id}/import",
        data={"file": (BytesIO(exported.data), "bang.xlsx")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 303
    after = [(n.code, n.title, n.max_points) for n, _ in svc.load_tree(db.session, draft).walk()]
    assert after == before
    bad = client.post(
        f"/criteria/sets/{draft.id}/import",
        data={"file": (BytesIO(b"not a workbook"), "bang.xlsx")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "không có gì được lưu" in bad.text
    none = client.post(f"/criteria/sets/{draft.id}/import", data={}, content_type="multipart/form-data")
    assert none.status_code == 422 and "Chọn tệp Excel" in none.text
    auth.logout()
    auth.login("member")
    assert (
        client.post(
            f"/criteria/sets/{draft.id}/import",
            data={"file": (BytesIO(exported.data), "b.xlsx")},
            content_type="multipart/form-data",
        ).status_code
        == 404
    )


def test_a_section_form_asks_for_no_scoring_method_nor_points(draft, auth, client, hx):
    """A section's points are its children's sum: its form neither shows nor requires method and points."""
    auth.login("head")
    section = _item("I")
    edit = hx.get(f"/criteria/items/{section.id}/edit").text
    assert 'name="code"' in edit and 'name="method"' not in edit and 'name="max_points"' not in edit
    assert 'name="points_each"' not in edit and 'name="measure_unit"' not in edit
    assert "tổng điểm các mục con" in edit
    renamed = hx.post(f"/criteria/items/{section.id}/edit", data={"code": "I", "title": "Nhiệm vụ trọng tâm"})
    assert renamed.status_code == 200 and "Nhiệm vụ trọng tâm" in renamed.text

    # A new top-level item is a section unless it is scored directly (a bonus or deduction item):
    # method and points wait, folded, behind a summary; a section is saved without them.
    new = client.get(f"/criteria/sets/{draft.id}/items").text
    folded = new.split("<details", 1)[1].split("</details>", 1)[0]
    assert 'name="method"' in folded and 'name="max_points"' in folded and " open" not in folded.split(">", 1)[0]
    made = client.post(f"/criteria/sets/{draft.id}/items", data={"code": "II", "title": "Xây dựng Đảng"})
    assert made.status_code == 303
    added = _item("II")
    assert (added.method, added.max_points, added.points_each) == ("direct", None, None)

    # A leaf keeps the fields, unfolded.
    leaf = hx.get(f"/criteria/items/{_item('2').id}/edit").text
    assert 'name="method"' in leaf and 'name="max_points"' in leaf and "<details" not in leaf


def test_locking_first_lists_the_members_without_targets(world, auth, client, count_queries):
    """The lock button opens a confirmation (no JavaScript needed) naming every member that has no
    target (or 0) on a quantitative criterion; its queries do not grow with the cluster."""
    from portal.services.org import cluster_year
    from portal.services.pledges import agreements as pledges

    cset = factories.criteria_set(world)
    quantitative = _item("1")
    pledges.register_target(db.session, cset, world.member, quantitative, D(1200))
    pledges.register_target(db.session, cset, world.deputy, quantitative, D(0))
    db.session.commit()
    url = f"/criteria/sets/{cset.id}/lock"
    auth.login("head")
    show = client.get(f"/criteria/sets/{cset.id}").text
    assert f'href="{url}"' in show and "hx-confirm" not in show.split("Khóa để chấm điểm")[0][-400:]
    page = client.get(url)
    assert page.status_code == 200 and "<html" in page.text
    gaps = page.text.split('id="target-gaps"', 1)[1].split("</div>", 1)[0]
    assert "2/3 đơn vị chưa đăng ký đủ chỉ tiêu" in gaps
    assert world.head.name in gaps and world.deputy.name in gaps and world.member.name not in gaps
    assert "chưa có chỉ tiêu: I.1" in gaps
    assert db.session.get(CriteriaSet, cset.id).status == "published"  # looking locks nothing

    with count_queries() as small:
        client.get(url)
    for _ in range(8):
        cluster_year.add_membership(db.session, world.year, world.cluster, factories.unit())
    db.session.commit()
    with count_queries() as big:
        crowded = client.get(url).text
    assert big() == small() and "10/11 đơn vị" in crowded

    locked = client.post(url)
    assert locked.status_code == 303 and db.session.get(CriteriaSet, cset.id).status == "locked"
    assert client.get(url).status_code == 303  # nothing left to confirm
    auth.logout()
    auth.login("member")
    assert client.get(url).status_code == 403
