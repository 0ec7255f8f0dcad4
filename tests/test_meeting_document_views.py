"""The meeting's document downloads: who gets which (followers all, a member the minutes once the meeting
has ended and its own achievement report), the links on the meeting page, refusals shown on the page,
and a download's query count, flat in the number of units."""

from __future__ import annotations

from io import BytesIO

import pytest
from docx import Document

from portal.extensions import db
from portal.policy import ClusterYear, Principal, meeting_document_permission
from portal.services.meetings import ballot, record
from portal.services.org import cluster_year
from tests import factories
from tests.document_helpers import POINTS, award, voted
from tests.meeting_helpers import opened, scored
from tests.signin import sign_in

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _url(world, suffix=""):
    return f"/meetings/{world.cluster.id}/{world.year.year}{suffix}"


def _docx(response):
    assert response.status_code == 200 and response.mimetype == DOCX
    assert response.headers["Content-Disposition"].startswith('attachment; filename="')
    return [p.text for p in Document(BytesIO(response.data)).paragraphs]


@pytest.mark.parametrize("role", ["head", "deputy", "overseer", "secretariat"])
def test_followers_download_every_document(client, world, role):
    voted(world)
    sign_in(client, world.users[role].id)
    assert "BIÊN BẢN" in _docx(client.get(_url(world, "/documents/minutes.docx")))
    assert "TỜ TRÌNH" in _docx(client.get(_url(world, "/documents/proposal.docx")))
    assert "BÁO CÁO" in _docx(client.get(_url(world, "/documents/annual-report.docx")))
    report = _docx(client.get(_url(world, f"/documents/achievements/{world.deputy.id}.docx")))
    assert f"Tên tập thể đề nghị: {world.deputy.name}." in report
    page = client.get(_url(world)).get_data(as_text=True)
    for suffix in ("minutes.docx", "proposal.docx", "annual-report.docx", f"achievements/{world.head.id}.docx"):
        assert _url(world, f"/documents/{suffix}") in page
    assert f"achievements/{world.member.id}.docx" not in page  # not proposed


def test_a_member_gets_its_own_report_and_the_minutes_once_the_meeting_ended(client, world):
    meeting = voted(world)
    sign_in(client, world.users["member"].id)
    assert client.get(_url(world, "/documents/minutes.docx")).status_code == 403
    assert client.get(_url(world, "/documents/proposal.docx")).status_code == 403
    assert client.get(_url(world, "/documents/annual-report.docx")).status_code == 403
    assert client.get(_url(world, f"/documents/achievements/{world.deputy.id}.docx")).status_code == 403
    page = client.get(_url(world)).get_data(as_text=True)
    assert "/documents/" not in page and "sau khi hội nghị kết thúc" in page
    own = client.get(_url(world, f"/documents/achievements/{world.member.id}.docx"))
    assert own.status_code == 303 and own.headers["Location"].endswith(_url(world))  # not proposed: refused
    assert "không được hội nghị suy tôn" in client.get(_url(world)).get_data(as_text=True)
    record.close(db.session, meeting)
    db.session.commit()
    assert "BIÊN BẢN" in _docx(client.get(_url(world, "/documents/minutes.docx")))
    assert _url(world, "/documents/minutes.docx") in client.get(_url(world)).get_data(as_text=True)


def test_a_proposed_member_downloads_its_achievement_report(client, world):
    scored(world, POINTS)
    meeting = opened(world)
    votes = {world.head.id: 3, world.member.id: 2, world.deputy.id: 1}
    ballot.save_tally(db.session, meeting, award("bang_khen_toan_dien"), ballot.TallyFields(3, 3, 3, 0, votes, ""))
    db.session.commit()
    sign_in(client, world.users["member"].id)
    report = _docx(client.get(_url(world, f"/documents/achievements/{world.member.id}.docx")))
    assert f"Tên tập thể đề nghị: {world.member.name}." in report
    page = client.get(_url(world)).get_data(as_text=True)
    assert _url(world, f"/documents/achievements/{world.member.id}.docx") in page
    assert f"achievements/{world.head.id}.docx" not in page and "minutes.docx" not in page


def test_the_policy_of_meeting_documents(world):
    scope = ClusterYear(world.year.id, world.cluster.id)
    member = Principal(kind="unit", user_id=1, unit_id=world.member.id, memberships=frozenset({scope}))
    assert meeting_document_permission(member, "achievement", scope, unit_id=world.member.id)
    assert not meeting_document_permission(member, "achievement", scope, unit_id=world.head.id)
    assert not meeting_document_permission(member, "minutes", scope)
    assert meeting_document_permission(member, "minutes", scope, closed=True)
    assert not meeting_document_permission(member, "proposal", scope, closed=True)
    council = Principal(kind="council", user_id=2, council_member_id=world.other_council.id)
    assert not meeting_document_permission(council, "minutes", scope, closed=True)
    overseer = Principal(kind="council", user_id=3, council_member_id=world.overseer.id, oversees=frozenset({scope}))
    assert meeting_document_permission(overseer, "proposal", scope)
    with pytest.raises(ValueError, match="unknown document"):
        meeting_document_permission(member, "decision", scope)


def test_others_get_403_or_404(client, world):
    voted(world)
    sign_in(client, world.users["council"].id)
    assert client.get(_url(world, "/documents/minutes.docx")).status_code == 403
    sign_in(client, world.users["outsider"].id)
    assert client.get(_url(world, "/documents/minutes.docx")).status_code == 404
    assert client.get(_url(world, f"/documents/achievements/{world.head.id}.docx")).status_code == 404


def test_no_meeting_no_documents_and_a_proposal_without_nominees_is_refused(client, world):
    sign_in(client, world.users["head"].id)
    assert client.get(_url(world, "/documents/minutes.docx")).status_code == 404
    opened(world)
    refused = client.get(_url(world, "/documents/proposal.docx"))
    assert refused.status_code == 303
    page = client.get(_url(world)).get_data(as_text=True)
    assert "chưa suy tôn đơn vị nào" in page and "proposal.docx" not in page
    assert "Hội nghị chưa bỏ phiếu bình xét, suy tôn." in _docx(client.get(_url(world, "/documents/minutes.docx")))


def test_a_download_reads_a_fixed_number_of_queries_whatever_the_units(client, world, count_queries):
    voted(world)
    sign_in(client, world.users["head"].id)
    client.get(_url(world, "/documents/minutes.docx"))
    with count_queries() as few:
        assert client.get(_url(world, "/documents/minutes.docx")).status_code == 200
    for i in range(1, 4):
        cluster_year.add_membership(db.session, world.year, world.cluster, factories.unit(f"UBND xã Thêm {i}"))
    db.session.commit()
    with count_queries() as more:
        assert client.get(_url(world, "/documents/minutes.docx")).status_code == 200
    assert more() == few()
