"""The online secret ballot's pages: the head opens and closes the vote on the meeting page (turnout, no
counts before the close), each attending member unit votes from its own account (once; 422 above the
quota; a change until the close, never after), non-attendees and outsiders are refused, the nominations
follow the close, the receipt check finds a right code and not a wrong one, the vote page's queries
stay flat in the number of units."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.extensions import db
from portal.models import Nomination, Tally
from portal.models.meetings import VoteSource
from portal.services.meetings import awards, online, voting
from tests.conftest import IsolatedClient
from tests.meeting_helpers import opened, scored
from tests.signin import sign_in

POINTS = {"head": ("55", "35"), "deputy": ("50", "28"), "member": ("45", "35")}


def _url(world, suffix=""):
    return f"/meetings/{world.cluster.id}/{world.year.year}{suffix}"


def _award(code):
    return next(a for a in awards.award_types(db.session) if a.code == code)


def _client(app, user):
    app.test_client_class = IsolatedClient  # each request its own context, as in production
    client = app.test_client()
    sign_in(client, user.id)
    return client


def _code(body: str) -> str:
    found = re.search(r"data-receipt>([A-Z2-7-]+)<", body)
    return found.group(1) if found else ""


def _open(world, present=None):
    scored(world, POINTS)
    meeting = opened(world, present)
    online.open_window(db.session, meeting)
    db.session.commit()
    return meeting


def test_the_head_opens_the_vote_and_sees_the_turnout_never_the_counts(app, hx, world):
    scored(world, POINTS)
    opened(world)
    sign_in(hx._client, world.users["head"].id)
    answer = hx.post(_url(world, "/online/open"))
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Đã mở bỏ phiếu trực tuyến." in body
    assert "0/3 đơn vị có mặt đã bỏ phiếu" in body
    certificate = _award("bang_khen_toan_dien")
    voter = _client(app, world.users["member"])
    assert voter.post(_url(world, "/vote"), data={f"award_{certificate.id}": [str(world.deputy.id)]}).status_code == 303
    for role in ("head", "secretariat"):
        page = _client(app, world.users[role]).get(_url(world)).get_data(as_text=True)
        assert "1/3 đơn vị có mặt đã bỏ phiếu" in page and "ẩn cho đến khi đóng" in page
        assert "Chưa có kết quả bỏ phiếu." in page  # no nomination, no count
    assert db.session.scalar(select(Tally.id)) is None
    again = hx.post(_url(world, "/online/open"))
    assert again.status_code == 422 and "Đang bỏ phiếu trực tuyến" in again.get_data(as_text=True)


def test_the_vote_needs_the_quorum(hx, world):
    scored(world, POINTS)
    opened(world, present=[world.head])
    sign_in(hx._client, world.users["head"].id)
    answer = hx.post(_url(world, "/online/open"))
    assert answer.status_code == 422 and "Chưa đủ số thành viên" in answer.get_data(as_text=True)


def test_a_unit_votes_once_sees_its_receipt_once_and_a_second_ballot_is_refused(app, world):
    _open(world)
    flag = _award("co_thi_dua")
    voter = _client(app, world.users["member"])
    form = voter.get(_url(world, "/vote")).get_data(as_text=True)
    assert world.head.name in form and "Chọn tối đa 1 đơn vị" in form
    cast = voter.post(_url(world, "/vote"), data={f"award_{flag.id}": [str(world.head.id)]})
    assert cast.status_code == 303 and cast.headers["Location"].endswith(_url(world, "/vote"))
    shown = voter.get(_url(world, "/vote")).get_data(as_text=True)
    code = _code(shown)
    assert len(voting.normalise(code)) == voting.CODE_LENGTH and "Đơn vị đã bỏ phiếu." in shown
    assert _code(voter.get(_url(world, "/vote")).get_data(as_text=True)) == ""  # shown once
    second = voter.post(_url(world, "/vote"), data={})
    assert second.status_code == 422 and "chỉ có thể thay đổi phiếu bằng mã biên nhận" in second.get_data(as_text=True)


def test_more_choices_than_the_quota_answer_422_and_nothing_is_saved(app, world):
    _open(world)
    certificate = _award("bang_khen_toan_dien")
    voter = _client(app, world.users["deputy"])
    three = [str(u.id) for u in (world.head, world.deputy, world.member)]
    answer = voter.post(_url(world, "/vote"), data={f"award_{certificate.id}": three}, headers={"HX-Request": "true"})
    assert answer.status_code == 422 and "Chọn tối đa 2 đơn vị." in answer.get_data(as_text=True)
    assert "Đơn vị đã bỏ phiếu." not in voter.get(_url(world, "/vote")).get_data(as_text=True)


def test_non_attendees_and_non_members_are_refused(app, world):
    _open(world, present=[world.head, world.deputy])
    member = _client(app, world.users["member"])
    refused = member.get(_url(world, "/vote"))
    assert refused.status_code == 403 and "không có mặt tại hội nghị" in refused.get_data(as_text=True)
    assert member.post(_url(world, "/vote"), data={}).status_code == 403
    assert _client(app, world.users["outsider"]).get(_url(world, "/vote")).status_code == 404
    secretariat = _client(app, world.users["secretariat"]).post(_url(world, "/vote"), data={})
    assert secretariat.status_code == 403 and "Chỉ tài khoản của đơn vị thành viên" in secretariat.get_data(
        as_text=True
    )


def test_a_change_before_the_close_is_kept_and_after_it_refused(app, world):
    meeting = _open(world)
    certificate = _award("bang_khen_toan_dien")
    voter = _client(app, world.users["member"])
    voter.post(_url(world, "/vote"), data={f"award_{certificate.id}": [str(world.head.id)]})
    code = _code(voter.get(_url(world, "/vote")).get_data(as_text=True))
    changed = voter.post(
        _url(world, "/vote/change"),
        data={f"award_{certificate.id}": [str(world.member.id)]},
        headers={"HX-Request": "true"},
    )
    body = changed.get_data(as_text=True)
    assert changed.status_code == 200 and "Đã thay đổi phiếu bầu của đơn vị." in body
    window = online.latest(db.session, meeting)
    assert voting.choices_of(db.session, window, code)[certificate.id] == [world.member.id]
    # another browser of the same unit without the code must type it
    other = _client(app, world.users["member"])
    wrong = other.post(_url(world, "/vote/change"), data={"code": "AAAA-BBBB-CCCC-DDDD"})
    assert wrong.status_code == 422 and "Mã biên nhận không đúng." in wrong.get_data(as_text=True)
    _client(app, world.users["head"]).post(_url(world, "/online/close"))
    late = voter.post(_url(world, "/vote/change"), data={f"award_{certificate.id}": [str(world.head.id)]})
    assert late.status_code == 422 and "Bỏ phiếu đã đóng" in late.get_data(as_text=True)
    assert voting.choices_of(db.session, window, code)[certificate.id] == [world.member.id]


def test_closing_gives_the_nominations_and_the_receipt_check(app, world):
    _open(world)
    flag, certificate = _award("co_thi_dua"), _award("bang_khen_toan_dien")
    codes = {}
    for role, chosen in (("head", [world.head, world.deputy]), ("deputy", [world.deputy]), ("member", [world.deputy])):
        voter = _client(app, world.users[role])
        data = {f"award_{flag.id}": [str(world.head.id)], f"award_{certificate.id}": [str(u.id) for u in chosen]}
        assert voter.post(_url(world, "/vote"), data=data).status_code == 303
        codes[role] = _code(voter.get(_url(world, "/vote")).get_data(as_text=True))
    head = _client(app, world.users["head"])
    before = head.post(_url(world, "/receipt"), data={"code": codes["member"]})
    assert before.status_code == 404  # nothing counted yet
    closed = head.post(_url(world, "/online/close"))
    assert closed.status_code == 303
    page = head.get(_url(world)).get_data(as_text=True)
    assert "Được suy tôn" in page and "Đã đóng, đã kiểm phiếu" in page
    rows = db.session.scalars(select(Nomination).where(Nomination.award_type_id == certificate.id)).all()
    assert {n.unit_id: (n.votes, n.source) for n in rows}[world.deputy.id] == (3, VoteSource.ONLINE)
    reader = _client(app, world.users["overseer"])
    found = reader.post(_url(world, "/receipt"), data={"code": codes["member"].lower()})
    body = found.get_data(as_text=True)
    assert found.status_code == 200 and "Phiếu đã được kiểm đúng như đã bầu" in body and world.deputy.name in body
    missing = reader.post(_url(world, "/receipt"), data={"code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"})
    assert missing.status_code == 404 and "Không tìm thấy phiếu nào" in missing.get_data(as_text=True)
    assert reader.post(_url(world, "/receipt"), data={"code": ""}).status_code == 422


def test_the_vote_page_queries_stay_flat_in_units(app, world, count_queries):
    from portal.services.meetings import record
    from portal.services.org import cluster_year
    from tests import factories

    scored(world, POINTS)
    meeting = opened(world)
    for i in range(5):
        unit = factories.unit(f"UBND xã Mới {i}")
        cluster_year.add_membership(db.session, world.year, world.cluster, unit)
        db.session.flush()
        record.mark(db.session, meeting, unit.id, present=True, representative="Ông B", position="")
    db.session.commit()
    counts = {}
    for size in ("small", "large"):
        if size == "large":
            for i in range(5, 10):
                unit = factories.unit(f"UBND xã Mới {i}")
                cluster_year.add_membership(db.session, world.year, world.cluster, unit)
                db.session.flush()
                record.mark(db.session, meeting, unit.id, present=True, representative="Ông C", position="")
            db.session.commit()
        window = online.open_window(db.session, meeting)
        db.session.commit()
        voter = _client(app, world.users["member"])
        voter.get(_url(world, "/vote"))
        with count_queries() as n:
            assert voter.get(_url(world, "/vote")).status_code == 200
        counts[size] = n()
        online.close_window(db.session, meeting, window)
        db.session.query(Tally).delete()
        db.session.query(Nomination).delete()
        db.session.commit()
    assert counts["small"] == counts["large"], counts


def test_the_vote_page_answers_a_page_a_fragment_or_a_history_restore(app, world):
    _open(world)
    voter = _client(app, world.users["member"])
    full = voter.get(_url(world, "/vote"))
    fragment = voter.get(_url(world, "/vote"), headers={"HX-Request": "true"})
    restore = voter.get(_url(world, "/vote"), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in full.get_data(as_text=True) and "<html" in restore.get_data(as_text=True)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and 'id="ballot"' in body
    assert all("HX-Request" in r.headers.get("Vary", "") for r in (full, fragment, restore))
