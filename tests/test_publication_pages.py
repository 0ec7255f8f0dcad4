"""The publication pages: the head publishes (a refusal answers 422), everyone in scope reads the hash and
recomputes ("khớp"), a member may not publish nor correct (403), another cluster's head gets 404, a correction
shows whose rank moved between two revisions (GET parameters); the secretariat's council page records the
council's decision (a bad date answers 422 next to the field), the unit sees it; query counts stay flat."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import CouncilDecision, ResultSnapshot
from tests import factories
from tests.publication_helpers import award, published, voted, voted_online
from tests.signin import sign_in


def _url(world, suffix=""):
    return f"/publication/{world.cluster.id}/{world.year.year}{suffix}"


def test_the_head_publishes_and_everyone_in_scope_reads_and_recomputes(hx, client, world):
    voted(world)
    sign_in(hx._client, world.users["member"].id)
    assert hx.post(_url(world, "/publish")).status_code == 403
    sign_in(hx._client, world.users["head"].id)
    done = hx.post(_url(world, "/publish"))
    body = done.get_data(as_text=True)
    snapshot = db.session.scalar(select(ResultSnapshot))
    assert done.status_code == 200 and "Đã công bố kết quả." in body and snapshot.hash in body
    again = hx.post(_url(world, "/publish"))
    assert again.status_code == 422 and "đã công bố" in again.get_data(as_text=True)
    sign_in(client, world.users["overseer"].id)
    checked = client.get(_url(world, "/verify"))
    assert checked.status_code == 200 and "Tính lại từ dữ liệu đã lưu: khớp." in checked.get_data(as_text=True)


def test_publishing_before_the_meeting_closes_is_refused_with_422(hx, world):
    voted(world, close=False)
    sign_in(hx._client, world.users["head"].id)
    refused = hx.post(_url(world, "/publish"))
    assert refused.status_code == 422 and "đã kết thúc" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ResultSnapshot)) == 0


def test_another_clusters_head_gets_404(client, world):
    published(world)
    other = factories.user("head_other", unit=world.outsider)
    sign_in(client, other.id)
    assert client.get(_url(world)).status_code == 404


def test_a_correction_shows_whose_rank_moved(client, world):
    _units, items, _first = published(world)
    sign_in(client, world.users["member"].id)
    assert client.post(_url(world, "/revise"), data={}).status_code == 403
    sign_in(client, world.users["secretariat"].id)
    data = {"unit_id": world.member.id, "criterion_id": items["a"].id, "points": "59", "reason": ""}
    refused = client.post(_url(world, "/revise"), data=data)
    assert refused.status_code == 422 and "Vui lòng nhập trường này." in refused.get_data(as_text=True)
    done = client.post(_url(world, "/revise"), data=data | {"reason": "Sai sót khi nhập điểm"})
    assert done.status_code == 303
    page = client.get(_url(world, "?from=1&to=2")).get_data(as_text=True)
    assert "Lần công bố 2" in page and "Sai sót khi nhập điểm" in page
    assert "2 → 1 (lên 1 bậc)" in page and "1 → 2 (xuống 1 bậc)" in page


def test_the_secretariat_records_the_councils_decision_and_the_unit_sees_it(hx, client, world):
    published(world)
    flag = award("co_thi_dua")
    url = f"/publication/council/{world.year.year}/decide/{world.cluster.id}/{flag.id}/{world.head.id}"
    prefix = f"p{world.cluster.id}-{flag.id}-{world.head.id}-"
    data = {
        f"{prefix}votes_for": "9",
        f"{prefix}votes_against": "2",
        f"{prefix}members": "13",
        f"{prefix}verdict": "approved",
        f"{prefix}decision_number": "125/QĐ-UBND",
        f"{prefix}decided_on": "31/02/2020",
    }
    sign_in(hx._client, world.users["head"].id)
    assert hx.post(url, data=data).status_code == 403
    sign_in(hx._client, world.users["secretariat"].id)
    page = hx.get(f"/publication/council/{world.year.year}").get_data(as_text=True)
    assert world.head.name in page and "tức 0 đơn vị" in page
    refused = hx.post(url, data=data)
    assert refused.status_code == 422 and "dd/mm/yyyy" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CouncilDecision)) == 0
    day = factories.past_date(2)
    done = hx.post(url, data=data | {f"{prefix}decided_on": factories.vn_format(day)})
    assert done.status_code == 200 and "Đã ghi quyết định." in done.get_data(as_text=True)
    sign_in(client, world.users["member"].id)
    seen = client.get(_url(world)).get_data(as_text=True)
    assert f"Quyết định số 125/QĐ-UBND ngày {factories.vn_format(day)}" in seen
    sign_in(client, world.users["head"].id)
    home = client.get("/").get_data(as_text=True)
    assert f"Đồng ý khen thưởng — Quyết định số 125/QĐ-UBND ngày {factories.vn_format(day)}" in home


def test_the_council_pages_query_count_does_not_grow_with_the_published_clusters(client, world, count_queries):
    _units, _items, first = published(world)
    sign_in(client, world.users["secretariat"].id)
    url = f"/publication/council/{world.year.year}"
    with count_queries() as few:
        assert client.get(url).status_code == 200
    for cluster in (world.other_cluster, factories.cluster("Cụm thi đua số 9")):
        content = first.content.replace('"year":', '"copy":1,"year":', 1) + " " * cluster.id
        db.session.add(
            ResultSnapshot(
                hash=f"{cluster.id:064d}", cluster_id=cluster.id, year_id=world.year.id, revision=1, content=content
            )
        )
    db.session.commit()
    with count_queries() as many:
        page = client.get(url).get_data(as_text=True)
    assert page.count(world.head.name) > 3 and "Cụm thi đua số 9" in page
    assert many() == few()


def test_the_published_page_answers_full_fragment_and_history_restore(hx, world):
    _units, _items, snapshot = published(world)
    sign_in(hx._client, world.users["member"].id)
    full = hx._client.get(_url(world)).get_data(as_text=True)
    fragment = hx.get(_url(world))
    restored = hx.history_restore(_url(world)).get_data(as_text=True)
    assert "<html" in full and snapshot.hash in full
    assert "<html" not in fragment.get_data(as_text=True) and snapshot.hash in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers.get("Vary", "")
    assert "<html" in restored and "Lưu đính chính" not in full  # a member may not correct


def test_a_voter_checks_its_receipt_on_the_published_page(client, world):
    codes, _snapshot = voted_online(world)
    sign_in(client, world.users["member"].id)
    page = client.get(_url(world, f"?receipt={codes['member']}")).get_data(as_text=True)
    assert 'id="snapshot-ballots"' in page and "Phiếu mang mã này có trong bản công bố" in page
    assert world.deputy.name in page.split('id="snapshot-receipt"')[1]
    missing = client.get(_url(world, "?receipt=AAAA-AAAA-AAAA-AAAA")).get_data(as_text=True)
    assert "Không có phiếu nào mang mã biên nhận này trong bản công bố." in missing
