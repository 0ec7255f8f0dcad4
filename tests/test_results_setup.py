"""The pages that set how results are computed: the head's settings, the secretariat's bands, eligibility."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEntry, BandRule, Ineligibility, ResultSettings, Term
from portal.models.base import utcnow
from portal.policy import ClusterYear
from portal.services.results import bands, settings
from tests import factories

URL = f"/results/bands/{factories.YEAR}"
GOOD = {
    "xuat_sac_total": "92,5",
    "xuat_sac_floor": "85",
    "tot_total": "82",
    "tot_floor": "80",
    "hoan_thanh_total": "70",
    "hoan_thanh_floor": "70",
}


def _rule_count() -> int:
    return db.session.scalar(select(func.count()).select_from(BandRule))


def test_bands_page_three_ways(world, auth, client, hx):
    auth.login("secretariat")
    page = client.get(URL)
    assert page.status_code == 200 and "<html" in page.text and "HX-Request" in page.headers["Vary"]
    assert f"Mức xếp loại năm {factories.YEAR}" in page.text and "Hoàn thành xuất sắc nhiệm vụ" in page.text
    assert 'value="90"' in page.text and 'value="85"' in page.text  # the defaults, as percentages
    fragment = hx.get(URL + "?kind=block")
    assert fragment.status_code == 200 and "<html" not in fragment.text and 'id="bands-form"' in fragment.text
    assert "Đặt mức xếp loại: Khối thi đua" in fragment.text
    for full in (hx.history_restore(URL), hx.boosted(URL)):
        assert full.status_code == 200 and "<html" in full.text


def test_bands_page_queries_stay_flat(world, auth, client, count_queries):
    auth.login("secretariat")
    client.get(URL)
    with count_queries() as first:
        client.get(URL)
    client.post(URL, data=GOOD | {"cluster_kind": "cluster"})
    client.post(URL, data=GOOD | {"cluster_kind": ""})
    with count_queries() as second:
        client.get(URL)
    assert second() == first()


def test_save_bands_for_a_kind_and_audit(world, auth, client):
    auth.login("secretariat")
    response = client.post(URL, data=GOOD | {"cluster_kind": "block"})
    assert response.status_code == 303 and response.headers["Location"].endswith(URL + "?kind=block")
    in_force = bands.for_kind(db.session, world.year.id, "block")
    assert [(b.min_total_share, b.min_floor_share) for b in in_force] == [
        (Decimal("0.925"), Decimal("0.85")),
        (Decimal("0.82"), Decimal("0.8")),
        (Decimal("0.7"), Decimal("0.7")),
    ]
    assert bands.for_kind(db.session, world.year.id, "cluster")[0].min_total_share == Decimal("0.90")  # untouched
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "BandRule", AuditEntry.action == "create")
    ).all()
    assert len(entries) == 3 and all(e.username == "secretariat" for e in entries)
    page = client.get(URL + "?kind=block")
    assert 'value="92,5"' in page.text and "Đặt riêng" in page.text and "Trả về mặc định" in page.text


def test_reset_bands_back_to_every_kind(world, auth, client, hx):
    auth.login("secretariat")
    client.post(URL, data=GOOD | {"cluster_kind": "block"})
    response = hx.post(URL + "/reset", data={"cluster_kind": "block"})
    assert response.status_code == 204 and response.headers["HX-Redirect"].endswith(URL + "?kind=block")
    assert _rule_count() == 0
    deleted = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "BandRule", AuditEntry.action == "delete")
    ).all()
    assert len(deleted) == 3


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"xuat_sac_total": "0"}, "Nhập một tỷ lệ lớn hơn 0 và không quá 100 %."),
        ({"tot_floor": "101"}, "Nhập một tỷ lệ lớn hơn 0 và không quá 100 %."),
        ({"tot_floor": "80,125"}, "Tối đa 2 chữ số thập phân."),
        ({"hoan_thanh_total": "bảy mươi"}, "Nhập một số, ví dụ 12,5."),
        ({"hoan_thanh_floor": ""}, "Vui lòng nhập trường này."),
        ({"tot_total": "95"}, "Tỷ lệ tổng điểm của mức “Hoàn thành xuất sắc nhiệm vụ” phải cao hơn mức dưới."),
        ({"cluster_kind": "town"}, "Lựa chọn không hợp lệ."),
    ],
)
def test_bad_bands_are_explained_and_nothing_saved(world, auth, client, hx, changes, message):
    auth.login("secretariat")
    before = (_rule_count(), db.session.scalar(select(func.count()).select_from(AuditEntry)))
    for response in (client.post(URL, data=GOOD | changes), hx.post(URL, data=GOOD | changes)):
        assert response.status_code == 422 and message in response.text
    assert "<html" not in response.text and 'id="bands-form"' in response.text
    assert (_rule_count(), db.session.scalar(select(func.count()).select_from(AuditEntry))) == before


def test_bands_are_locked_once_results_are_published(world, auth, client):
    db.session.add(ResultSettings(cluster=world.cluster, year=world.year, locked_at=utcnow()))
    db.session.commit()
    auth.login("secretariat")
    response = client.post(URL, data=GOOD | {"cluster_kind": "cluster"})
    assert response.status_code == 422 and "không thay đổi được nữa" in response.text
    assert _rule_count() == 0
    assert client.post(URL, data=GOOD | {"cluster_kind": "block"}).status_code == 303  # no published khối


@pytest.mark.parametrize("role", ["head", "deputy", "member", "overseer", "council", "outsider"])
def test_only_the_secretariat_sets_bands(world, auth, client, role):
    auth.login(role)
    assert client.get(URL).status_code == 403
    assert client.post(URL, data=GOOD).status_code == 403
    assert client.post(URL + "/reset", data={"cluster_kind": ""}).status_code == 403
    assert _rule_count() == 0


def test_bands_page_unknown_year_or_kind_is_404(world, auth, client):
    auth.login("secretariat")
    assert client.get(f"/results/bands/{factories.YEAR + 5}").status_code == 404
    assert client.get(URL + "?kind=town").status_code == 404


def test_year_page_links_the_bands(world, auth, client):
    auth.login("secretariat")
    assert URL in client.get(f"/years/{factories.YEAR}").text


# --- the head's settings of a cluster-year -------------------------------------------

SETTINGS = {
    "basis": "trimmed_mean",
    "trim_min_reviewers": "4",
    "self_weight": "30",
    "scale_mode": "raw",
    "tie_rules-0": "more_at_maximum",
    "tie_rules-1": "fewer_deductions",
    "tie_rules-2": "",
    "non_participation": "fixed_deduction",
    "non_participation_points": "7,5",
    "floor_level": "leaf",
    "reviewer_bias_share": "6",
    "self_excess_share": "12,5",
    "mutual_share": "5",
}


def _settings_url(w) -> str:
    return f"/results/{w.cluster.id}/settings?year={factories.YEAR}"


def _settings_row(w) -> ResultSettings | None:
    return settings.find(db.session, ClusterYear(w.year.id, w.cluster.id))


def test_settings_page_three_ways(world, auth, client, hx):
    auth.login("head")
    url = _settings_url(world)
    page = client.get(url)
    assert page.status_code == 200 and "<html" in page.text and "HX-Request" in page.headers["Vary"]
    assert f"Cách tính kết quả năm {factories.YEAR}" in page.text and "Trung vị điểm chấm chéo" in page.text
    assert re.search(r'<input checked[^>]*value="agreed"', page.text) and 'value="50"' in page.text  # the defaults
    fragment = hx.get(url)
    assert fragment.status_code == 200 and "<html" not in fragment.text and 'name="tie_rules-0"' in fragment.text
    for full in (hx.history_restore(url), hx.boosted(url)):
        assert full.status_code == 200 and "<html" in full.text


def test_save_settings_and_audit(world, auth, client):
    factories.criteria_set(world)
    section = settings.sections(db.session, ClusterYear(world.year.id, world.cluster.id))[0]
    auth.login("head")
    response = client.post(_settings_url(world), data=SETTINGS | {"tie_rules-2": f"section:{section.id}"})
    assert response.status_code == 303 and response.headers["Location"].endswith(_settings_url(world))
    row = _settings_row(world)
    assert (row.basis, row.trim_min_reviewers, row.self_weight, row.scale_mode) == (
        "trimmed_mean",
        4,
        Decimal("0.3"),
        "raw",
    )
    assert row.tie_rules == [
        {"breaker": "more_at_maximum"},
        {"breaker": "fewer_deductions"},
        {"breaker": "section", "section_id": section.id},
    ]
    assert (row.non_participation, row.non_participation_points, row.floor_level) == (
        "fixed_deduction",
        Decimal("7.5"),
        "leaf",
    )
    assert (row.reviewer_bias_share, row.self_excess_share, row.mutual_share) == (
        Decimal("0.06"),
        Decimal("0.125"),
        Decimal("0.05"),
    )
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "ResultSettings"))
    assert entry.action == "create" and entry.username == "head" and "Cách tính kết quả" in entry.object_label
    page = client.get(_settings_url(world))
    assert re.search(r'<input checked[^>]*value="trimmed_mean"', page.text) and 'value="12,5"' in page.text


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"basis": "average"}, "Lựa chọn không hợp lệ."),
        ({"trim_min_reviewers": "2"}, "phải từ 3 đến 100"),
        ({"trim_min_reviewers": "ba"}, "Nhập một số nguyên, ví dụ 3."),
        ({"self_weight": "120"}, "Nhập một tỷ lệ từ 0 đến 100 %."),
        ({"non_participation_points": "-1"}, "Số điểm trừ khi không chấm chéo phải từ 0 đến 10000."),
        ({"mutual_share": "0"}, "Nhập một tỷ lệ lớn hơn 0 và không quá 100 %."),
        ({"tie_rules-1": "more_at_maximum"}, "Mỗi cách phân định chỉ chọn một lần."),
        ({"tie_rules-0": "section:999999"}, "Lựa chọn không hợp lệ."),
    ],
)
def test_bad_settings_are_explained_and_nothing_saved(world, auth, client, hx, changes, message):
    auth.login("head")
    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    for response in (
        client.post(_settings_url(world), data=SETTINGS | changes),
        hx.post(_settings_url(world), data=SETTINGS | changes),
    ):
        assert response.status_code == 422 and message in response.text
    assert "<html" not in response.text and 'name="basis"' in response.text
    assert _settings_row(world) is None
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_published_settings_are_locked(world, auth, client):
    db.session.add(ResultSettings(cluster=world.cluster, year=world.year, locked_at=utcnow()))
    db.session.commit()
    auth.login("head")
    page = client.get(_settings_url(world))
    assert "cách tính đã khóa" in page.text and "<fieldset disabled>" in page.text
    response = client.post(_settings_url(world), data=SETTINGS)
    assert response.status_code == 422 and "không thay đổi được cách tính" in response.text
    assert _settings_row(world).basis == "agreed"


@pytest.mark.parametrize(
    "role, status",
    [("deputy", 403), ("member", 403), ("overseer", 403), ("council", 403), ("secretariat", 403), ("outsider", 404)],
)
def test_only_the_head_sets_the_settings(world, auth, client, role, status):
    auth.login(role)
    assert client.get(_settings_url(world)).status_code == status
    assert client.post(_settings_url(world), data=SETTINGS).status_code == status
    assert _settings_row(world) is None


def test_a_unit_of_another_cluster_gets_404(world, auth, client):
    auth.login("outsider")  # a member (not the head) of the other cluster
    assert client.get(f"/results/{world.other_cluster.id}/settings?year={factories.YEAR}").status_code == 403
    assert client.get(_settings_url(world)).status_code == 404


def test_a_deputy_sets_them_when_the_head_lets_deputies_lead(world, auth, client):
    term = db.session.scalar(select(Term).where(Term.year_id == world.year.id, Term.cluster_id == world.cluster.id))
    term.deputy_may_lead = True
    db.session.commit()
    auth.login("deputy")
    assert client.post(_settings_url(world), data=SETTINGS).status_code == 303
    assert _settings_row(world).basis == "trimmed_mean"


def test_cluster_page_links_the_settings_for_its_head(world, auth, client):
    url = f"/clusters/{world.cluster.id}?year={factories.YEAR}"
    auth.login("head")
    assert f"/results/{world.cluster.id}/settings" in client.get(url).text
    auth.logout()
    auth.login("member")
    assert f"/results/{world.cluster.id}/settings" not in client.get(url).text


# --- units not eligible for awards -----------------------------------------------------

ELIGIBILITY = f"/results/eligibility/{factories.YEAR}"


def _case(w, **changes) -> dict:
    return {
        "unit_id": str(w.member.id),
        "kind": "inspection",
        "reason": "Đang thanh tra theo Quyết định 15/QĐ-TTr",
        "starts_on": f"01/03/{factories.YEAR}",
        "ends_on": "",
    } | changes


def _cases() -> list[Ineligibility]:
    return list(db.session.scalars(select(Ineligibility)))


def test_eligibility_page_three_ways(world, auth, client, hx):
    auth.login("secretariat")
    page = client.get(ELIGIBILITY)
    assert page.status_code == 200 and "<html" in page.text and "HX-Request" in page.headers["Vary"]
    assert world.outsider.name in page.text and world.member.name in page.text  # every member unit of the year
    fragment = hx.get(ELIGIBILITY)
    assert fragment.status_code == 200 and "<html" not in fragment.text and 'id="ineligibility-form"' in fragment.text
    for full in (hx.history_restore(ELIGIBILITY), hx.boosted(ELIGIBILITY)):
        assert full.status_code == 200 and "<html" in full.text


def test_head_marks_its_member_and_ends_it(world, auth, client):
    auth.login("head")
    page = client.get(ELIGIBILITY)
    assert world.member.name in page.text and world.outsider.name not in page.text  # only its members
    response = client.post(ELIGIBILITY, data=_case(world))
    assert response.status_code == 303
    (case,) = _cases()
    assert (case.unit_id, case.kind, case.ends_on) == (world.member.id, "inspection", None)
    assert "Đang thanh tra theo Quyết định 15/QĐ-TTr" in client.get(ELIGIBILITY).text
    ended = client.post(f"/results/eligibility/cases/{case.id}/end", data={"ends_on": f"30/06/{factories.YEAR}"})
    assert ended.status_code == 303
    assert _cases()[0].ends_on.month == 6
    again = client.post(f"/results/eligibility/cases/{case.id}/end", data={"ends_on": f"30/07/{factories.YEAR}"})
    assert again.status_code == 303 and _cases()[0].ends_on.month == 6  # "Trường hợp này đã kết thúc." flashed
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "Ineligibility").order_by(AuditEntry.id)
    ).all()
    assert actions == ["create", "update"]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"reason": "x"}, "Nêu rõ lý do"),
        ({"kind": "rumour"}, "Lựa chọn không hợp lệ."),
        ({"starts_on": f"32/01/{factories.YEAR}"}, "Ngày không hợp lệ"),
        (
            {"starts_on": f"01/03/{factories.YEAR}", "ends_on": f"01/02/{factories.YEAR}"},
            "không được trước ngày bắt đầu",
        ),
        ({"starts_on": f"01/03/{factories.YEAR + 1}"}, f"nằm (một phần) trong năm {factories.YEAR}"),
        ({"unit_id": "0"}, "Vui lòng nhập trường này."),
        ({"starts_on": ""}, "Nhập ngày bắt đầu."),
    ],
)
def test_bad_marks_are_explained_and_nothing_saved(world, auth, client, hx, changes, message):
    auth.login("secretariat")
    for response in (
        client.post(ELIGIBILITY, data=_case(world, **changes)),
        hx.post(ELIGIBILITY, data=_case(world, **changes)),
    ):
        assert response.status_code == 422 and message in response.text
    assert "<html" not in response.text and 'id="ineligibility-form"' in response.text
    assert _cases() == []


def test_a_head_cannot_mark_or_end_another_clusters_unit(world, auth, client):
    auth.login("secretariat")
    client.post(ELIGIBILITY, data=_case(world, unit_id=str(world.outsider.id)))
    (case,) = _cases()
    auth.logout()
    auth.login("head")
    assert client.post(ELIGIBILITY, data=_case(world, unit_id=str(world.outsider.id))).status_code == 422
    assert (
        client.post(
            f"/results/eligibility/cases/{case.id}/end", data={"ends_on": f"30/06/{factories.YEAR}"}
        ).status_code
        == 404
    )
    assert len(_cases()) == 1 and _cases()[0].ends_on is None


@pytest.mark.parametrize("role", ["deputy", "member", "overseer", "council", "outsider"])
def test_only_the_secretariat_and_heads_mark_units(world, auth, client, role):
    auth.login(role)
    assert client.get(ELIGIBILITY).status_code == 403
    assert client.post(ELIGIBILITY, data=_case(world)).status_code == 403
    assert _cases() == []
