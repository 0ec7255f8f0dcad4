"""The pages that set how results are computed: the secretariat's classification bands of a year."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEntry, BandRule, ResultSettings
from portal.models.base import utcnow
from portal.services.results import bands
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
