"""The meeting pages: the head opens and runs the meeting through htmx fragments (422 with the Vietnamese message
next to the field), every other reader sees it read-only, another cluster's head gets 404, the page's query
count stays flat in the number of units; the secretariat's quotas table (rows edited in place) and vote rules."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Attendance, Nomination, Quota, ReviewMeeting, VoteRules
from portal.services.meetings import awards
from tests import factories
from tests.meeting_helpers import opened, scored
from tests.signin import sign_in

POINTS = {"head": ("55", "35"), "deputy": ("50", "28"), "member": ("45", "35")}


def _url(world, suffix="", cluster=None):
    return f"/meetings/{(cluster or world.cluster).id}/{world.year.year}{suffix}"


def _record(**changes):
    data = {
        "held_on": factories.vn_format(factories.past_date(1)),
        "place": "Hội trường UBND phường An Bình",
        "chair": "Nguyễn Văn An",
        "secretary": "Lê Thị Bình",
        "counting_committee": "Trần Văn C\nPhạm Thị D",
    }
    return data | changes


def test_the_head_opens_the_meeting_and_a_missing_field_answers_422(hx, world):
    sign_in(hx._client, world.users["head"].id)
    page = hx.get(_url(world))
    assert page.status_code == 200 and "<html" not in page.get_data(as_text=True)
    assert "Mở hội nghị" in page.get_data(as_text=True)
    refused = hx.post(_url(world, "/open"), data=_record(place=" "))
    assert refused.status_code == 422 and "Vui lòng nhập trường này." in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ReviewMeeting.id))) == 0
    done = hx.post(_url(world, "/open"), data=_record())
    body = done.get_data(as_text=True)
    assert done.status_code == 200 and "Đã mở hội nghị." in body
    assert "Có mặt 0/3 thành viên; cần ít nhất 2." in body and world.overseer.full_name in body


def test_without_htmx_an_action_redirects_with_303(client, world):
    sign_in(client, world.users["head"].id)
    response = client.post(_url(world, "/open"), data=_record())
    assert response.status_code == 303 and response.headers["Location"].endswith(_url(world))
    assert "Hội trường UBND phường An Bình" in client.get(_url(world)).get_data(as_text=True)


def test_attendance_updates_the_quorum_in_the_fragment(hx, world):
    opened(world, present=[])
    sign_in(hx._client, world.users["head"].id)
    prefix = f"unit{world.member.id}-"
    missing = hx.post(_url(world, f"/attendance/{world.member.id}"), data={f"{prefix}present": "y"})
    assert missing.status_code == 422 and "Nhập họ tên người dự họp của đơn vị." in missing.get_data(as_text=True)
    for unit in (world.head, world.member):
        form = {
            f"unit{unit.id}-present": "y",
            f"unit{unit.id}-representative": "Ông A",
            f"unit{unit.id}-position": "Chủ tịch",
        }
        answer = hx.post(_url(world, f"/attendance/{unit.id}"), data=form)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Có mặt 2/3 thành viên" in body and "Đủ số thành viên để biểu quyết" in body
    assert db.session.scalar(select(func.count(Attendance.id)).where(Attendance.present.is_(True))) == 2


def test_a_paper_tally_is_checked_and_gives_the_nominations(hx, world):
    scored(world, POINTS)
    opened(world)
    flag = awards.award_types(db.session)[0]
    sign_in(hx._client, world.users["head"].id)
    prefix = f"award{flag.id}-"
    votes = f"{prefix}votes_{world.head.id}"
    bad = {f"{prefix}issued": "3", f"{prefix}returned": "3", f"{prefix}valid": "2", f"{prefix}invalid": "0", votes: "2"}
    refused = hx.post(_url(world, f"/tallies/{flag.id}"), data=bad)
    assert refused.status_code == 422
    assert "Phiếu hợp lệ cộng phiếu không hợp lệ phải bằng số phiếu thu vào." in refused.get_data(as_text=True)
    good = bad | {f"{prefix}valid": "3", votes: "3"}
    answer = hx.post(_url(world, f"/tallies/{flag.id}"), data=good)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Được suy tôn" in body and "3/3" in body
    assert db.session.scalar(select(func.count(Nomination.id))) == 1


def test_below_the_quorum_the_tally_is_refused_with_the_figures(hx, world):
    scored(world, POINTS)
    opened(world, present=[world.head])
    flag = awards.award_types(db.session)[0]
    sign_in(hx._client, world.users["head"].id)
    prefix = f"award{flag.id}-"
    data = {f"{prefix}{k}": v for k, v in (("issued", "1"), ("returned", "1"), ("valid", "1"), ("invalid", "0"))}
    answer = hx.post(_url(world, f"/tallies/{flag.id}"), data=data | {f"{prefix}votes_{world.head.id}": "1"})
    assert answer.status_code == 422 and "có mặt 1/3, cần ít nhất 2" in answer.get_data(as_text=True)


def test_a_change_of_points_needs_its_reason(hx, world):
    _units, items = scored(world, POINTS)
    opened(world)
    sign_in(hx._client, world.users["head"].id)
    data = {"unit_id": str(world.member.id), "criterion_id": str(items["a"].id), "points": "60", "reason": ""}
    refused = hx.post(_url(world, "/adjustments"), data=data)
    assert refused.status_code == 422 and "Nêu lý do hội nghị thay đổi điểm." in refused.get_data(as_text=True)
    answer = hx.post(_url(world, "/adjustments"), data=data | {"reason": "Bổ sung số liệu quý IV"})
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Bổ sung số liệu quý IV" in body and "hệ thống: 2" in body


def test_readers_see_the_meeting_without_its_forms(client, world):
    scored(world, POINTS)
    opened(world)
    for role in ("member", "deputy", "overseer", "council", "secretariat"):
        sign_in(client, world.users[role].id)
        body = client.get(_url(world)).get_data(as_text=True)
        assert "Bảng điểm thống nhất" in body and "Hội trường UBND phường An Bình" in body, role
        assert "Kết thúc hội nghị" not in body and "Ghi kết quả kiểm phiếu" not in body, role


def test_a_deputy_runs_the_meeting_only_when_the_head_lets_deputies_lead(client, world):
    from portal.models import Term

    opened(world, present=[])
    sign_in(client, world.users["deputy"].id)
    assert client.post(_url(world, "/close")).status_code == 403
    term = db.session.scalar(select(Term).where(Term.cluster_id == world.cluster.id, Term.year_id == world.year.id))
    term.deputy_may_lead = True
    db.session.commit()
    assert client.post(_url(world, "/close")).status_code == 303


def test_another_clusters_meeting_does_not_exist_for_the_head(client, world):
    sign_in(client, world.users["head"].id)
    assert client.get(_url(world, cluster=world.other_cluster)).status_code == 404
    assert client.post(_url(world, "/open", cluster=world.other_cluster), data=_record()).status_code == 404
    assert db.session.scalar(select(func.count(ReviewMeeting.id))) == 0


def test_a_guest_of_another_meeting_is_not_found(client, world):
    opened(world, present=[])
    sign_in(client, world.users["head"].id)
    assert client.post(_url(world, "/guests/999999/remove")).status_code == 404


def test_query_count_of_the_meeting_page_is_flat_in_units(client, world, count_queries):
    counts = {}
    scored(world, POINTS, extra=0)
    opened(world)
    sign_in(client, world.users["head"].id)
    client.get(_url(world))
    with count_queries() as n:
        assert client.get(_url(world)).status_code == 200
    counts[3] = n()
    # five more members, scored and present
    from portal.services.meetings import record
    from portal.services.org import cluster_year
    from tests.meeting_helpers import where  # noqa: F401  (same cluster, more units)

    meeting = db.session.scalar(select(ReviewMeeting))
    for i in range(5):
        unit = factories.unit(f"UBND xã Mới {i}")
        cluster_year.add_membership(db.session, world.year, world.cluster, unit)
        db.session.flush()
        record.mark(db.session, meeting, unit.id, present=True, representative="Ông B", position="")
    db.session.commit()
    client.get(_url(world))
    with count_queries() as n:
        assert client.get(_url(world)).status_code == 200
    counts[8] = n()
    assert counts[3] == counts[8], counts


# ---------------------------------------------------------------- the secretariat's quotas and vote rules


def test_the_secretariat_edits_a_clusters_quotas_in_place(hx, world):
    sign_in(hx._client, world.users["secretariat"].id)
    page = hx._client.get(f"/meetings/quotas/{world.year.year}")
    assert page.status_code == 200 and world.cluster.name in page.get_data(as_text=True)
    flag, certificate, theme = awards.award_types(db.session)
    url = f"/meetings/quotas/{world.year.year}/{world.cluster.id}/edit"
    assert hx.get(url).status_code == 200
    data = {f"award_{flag.id}": "1", f"award_{certificate.id}": "-1", f"award_{theme.id}": "0"}
    refused = hx.post(url, data=data)
    assert refused.status_code == 422 and "Nhập một số nguyên từ 0 trở lên." in refused.get_data(as_text=True)
    empty = hx.post(url, data=data | {f"award_{certificate.id}": ""})
    assert empty.status_code == 422 and "Chỉ tiêu phải là số nguyên từ 0 đến 100." in empty.get_data(as_text=True)
    hx._client.post("/language/en", data={"next": "/"})  # the service's message, in the reader's language
    english = hx.post(url, data=data | {f"award_{certificate.id}": ""}).get_data(as_text=True)
    assert "The quota must be a whole number from 0 to 100." in english
    hx._client.post("/language/vi", data={"next": "/"})
    row = hx.post(url, data=data | {f"award_{certificate.id}": "3"})
    assert row.status_code == 200 and f'id="quota-{world.cluster.id}"' in row.get_data(as_text=True)
    stored = db.session.scalar(select(Quota.count).where(Quota.award_type_id == certificate.id))
    assert stored == 3


def test_the_secretariat_sets_the_vote_rules(hx, world):
    sign_in(hx._client, world.users["secretariat"].id)
    url = f"/meetings/quotas/{world.year.year}/rules"
    refused = hx.post(url, data={"quorum": "all", "threshold": "two_thirds", "threshold_base": "present"})
    assert refused.status_code == 422
    answer = hx.post(url, data={"quorum": "two_thirds", "threshold": "two_thirds", "threshold_base": "members"})
    assert answer.status_code == 204
    rules = db.session.scalar(select(VoteRules))
    assert (rules.threshold, rules.threshold_base) == ("two_thirds", "members")


def test_starting_the_next_year_copies_the_quotas_and_vote_rules_in_force(client, world):
    from portal.models import EmulationYear
    from portal.services.meetings.rules import Rules

    flag, certificate, _theme = awards.award_types(db.session)
    awards.save_quotas(db.session, world.year, world.cluster, {certificate.id: 4})
    awards.save_vote_rules(db.session, world.year, Rules(threshold="two_thirds"))
    db.session.commit()
    sign_in(client, world.users["secretariat"].id)
    assert client.post(f"/years/{world.year.year}/next", data={}).status_code == 303
    after = db.session.scalar(select(EmulationYear).where(EmulationYear.year == world.year.year + 1))
    mine = select(Quota).where(Quota.year_id == after.id, Quota.cluster_id == world.cluster.id)
    assert {q.award_type_id: q.count for q in db.session.scalars(mine)}[certificate.id] == 4
    assert db.session.scalar(select(VoteRules.threshold).where(VoteRules.year_id == after.id)) == "two_thirds"
