"""Notices made by the events themselves: in the event's transaction, to those who wait on it, never across clusters."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assessment, Notification
from portal.models.base import utcnow
from portal.models.notices import NoticeKind
from portal.services import DomainError
from portal.services.criteria import sets as criteria_svc
from portal.services.notices import deadlines, events
from portal.services.org import cluster_year
from portal.services.pledges import agreements as pledges
from portal.services.scoring import assessments, reviews, verification
from tests import factories


def _notices(kind: str | None = None) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query))


def _who(world, kind: str | None = None) -> set[str]:
    by_id = {user.id: name for name, user in world.users.items()}
    return {by_id.get(n.user_id, f"#{n.user_id}") for n in _notices(kind)}


def _submit(unit, items, scoring_round=None) -> Assessment:
    query = select(Assessment).where(Assessment.subject_unit_id == unit.id, Assessment.stage == "self")
    own = db.session.scalar(query)
    for key, raw in (("quant", "60"), ("direct", "25,5"), ("pass", "dat"), ("bonus", "1"), ("minus", "0")):
        assessments.save_score(db.session, own, items[key], raw, "căn cứ", expected_revision=None, user_id=None)
    assessments.submit(db.session, own, None)
    return own


def test_publishing_the_table_tells_the_members_and_the_overseer(world):
    cset = factories.criteria_set(world)
    assert _who(world, NoticeKind.CRITERIA_PUBLISHED) == {"head", "deputy", "member", "overseer"}
    notice = _notices()[0]
    assert (notice.endpoint, notice.args) == ("criteria.show", {"set_id": cset.id})
    assert (notice.cluster_id, notice.year_id, notice.read_at) == (world.cluster.id, world.year.id, None)
    assert world.cluster.name in notice.text and str(world.year.year) in notice.text


def test_another_clusters_table_reaches_only_its_own_members(world):
    other = criteria_svc.create_set(
        db.session, world.other_cluster, world.year, title="Bảng khối", target_total=Decimal(100)
    )
    criteria_svc.add_criterion(db.session, other, None, code="I", title="Nhiệm vụ")
    criteria_svc.publish(db.session, other)
    db.session.commit()
    assert _who(world) == {"outsider"}


def test_a_notice_is_rolled_back_with_its_event(world):
    cset = factories.criteria_set(world, publish=False)
    criteria_svc.publish(db.session, cset)
    assert len(_notices()) == 4  # flushed, in the event's transaction
    db.session.rollback()
    assert _notices() == []


def test_a_failing_event_leaves_no_notice(world):
    empty = criteria_svc.create_set(
        db.session, world.cluster, world.year, title="Bảng trống", target_total=Decimal(100)
    )
    with pytest.raises(DomainError):
        criteria_svc.publish(db.session, empty)
    db.session.rollback()
    assert _notices() == []


def test_an_inactive_user_and_a_unit_outside_the_cluster_are_never_recipients(world):
    world.users["deputy"].active = False
    db.session.flush()
    found = events.unit_users(db.session, world.cluster.id, world.year.id, [world.deputy.id, world.outsider.id])
    assert found == []
    assert events.head_users(db.session, world.cluster.id, world.year.id) == [world.users["head"].id]
    assert events.overseer_users(db.session, world.other_cluster.id, world.year.id) == []


def test_the_pledge_asks_members_to_sign_then_to_sign_again(world):
    factories.criteria_set(world)
    db.session.execute(Notification.__table__.delete())
    pledge = pledges.create(db.session, world.cluster, world.year)
    assert _who(world, NoticeKind.PLEDGE_TO_SIGN) == {"head", "deputy", "member"}
    pledges.sign(
        db.session,
        pledge,
        world.member,
        representative_name="Nguyễn Văn An",
        representative_position="Chủ tịch",
        signed_on=factories.past_date(1),
        user_id=None,
    )
    db.session.execute(Notification.__table__.delete())
    fields = {key: getattr(pledge, key) for key in pledges.TEXT_FIELDS}
    pledges.update(db.session, pledge, criteria_set_id=pledge.criteria_set_id, meeting_date=None, **fields)
    assert _notices() == []  # saved unchanged: the charter is the same, nobody has to sign again
    fields["goals"] = "Mục tiêu mới của năm."
    pledges.update(db.session, pledge, criteria_set_id=pledge.criteria_set_id, meeting_date=None, **fields)
    assert _who(world, NoticeKind.PLEDGE_TO_RESIGN) == {"member"}
    assert _who(world, NoticeKind.PLEDGE_TO_SIGN) == {"head", "deputy"}
    assert _notices()[0].args == {"cluster_id": world.cluster.id, "year": world.year.year}


def test_a_pledge_without_a_published_table_asks_nobody(world):
    pledges.create(db.session, world.cluster, world.year)
    assert _notices() == []


@pytest.fixture
def table(world):
    cset, items = factories.scoring_table(world)
    db.session.execute(Notification.__table__.delete())
    db.session.commit()
    return cset, items


def test_opening_the_self_round_tells_every_member_unit(world, table):
    assessments.open_self_round(db.session, table[0])
    assert _who(world) == {"head", "deputy", "member"}
    assert {n.kind for n in _notices()} == {NoticeKind.ROUND_OPENED}


def test_a_sent_verification_tells_the_unit_and_its_explanation_the_head(world, table):
    cset, items = table
    assessments.open_self_round(db.session, cset)
    own = _submit(world.member, items)
    db.session.execute(Notification.__table__.delete())
    verified = verification.start_verification(db.session, own, world.head.id)
    assert _notices() == []  # a verification under way waits on nobody yet
    assessments.submit(db.session, verified, None)
    assert _who(world) == {"member"}
    notice = _notices()[0]
    assert (notice.kind, notice.endpoint, notice.args) == (
        NoticeKind.VERIFICATION_SENT,
        "scoring.assessment",
        {"assessment_id": verified.id},
    )
    explanation = verification.start_explanation(db.session, verified)
    assessments.submit(db.session, explanation, None)
    assert _who(world, NoticeKind.EXPLANATION_RECEIVED) == {"head"}


def test_opening_the_peer_round_tells_the_reviewers_only(world, table):
    cset, _items = table
    extra = factories.unit("UBND xã Mỹ Hiệp")
    cluster_year.add_membership(db.session, world.year, world.cluster, extra)
    extra_user = factories.user("myhiep", unit=extra)
    peer = reviews.create_round(db.session, cset, "team", team_ids=[world.head.id, world.deputy.id])
    reviews.open_round(db.session, peer)
    assert _who(world) == {"head", "deputy"}
    assert extra_user.id not in {n.user_id for n in _notices()}
    assert {(n.kind, n.endpoint) for n in _notices()} == {(NoticeKind.REVIEW_ASSIGNED, "reviews.for_cluster")}


# --- deadlines near -------------------------------------------------------------------------


def _open_with_deadline(cset, days_ahead: int):
    due = factories.vn_moment(factories.future_date(days_ahead), 17, 0)
    return assessments.open_self_round(db.session, cset, deadline=due)


def test_a_deadline_near_tells_those_who_have_not_submitted_once(world, table):
    cset, items = table
    scoring_round = _open_with_deadline(cset, 2)
    _submit(world.head, items)
    db.session.execute(Notification.__table__.delete())
    sent = deadlines.send(db.session, days=3)
    assert (sent.rounds, sent.notices) == (1, 2)
    assert _who(world) == {"deputy", "member"}
    assert deadlines.send(db.session, days=3).notices == 0  # the next run (or day) adds nothing
    assert deadlines.send(db.session, days=3, now=utcnow() + timedelta(days=1)).notices == 0
    assert len(_notices()) == 2
    assert {n.key for n in _notices()} == {deadlines.key_for(scoring_round)}


def test_a_far_or_past_deadline_tells_nobody(world, table):
    cset, _items = table
    scoring_round = _open_with_deadline(cset, 20)
    assert deadlines.send(db.session, days=3).notices == 0
    assert deadlines.send(db.session, days=3, now=scoring_round.deadline + timedelta(hours=1)).notices == 0
    assert deadlines.send(db.session, days=3, now=scoring_round.deadline - timedelta(days=2)).notices == 3


def test_a_unit_given_more_time_is_told_when_its_own_deadline_nears(world, table):
    cset, _items = table
    scoring_round = _open_with_deadline(cset, 2)
    own = db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == world.member.id))
    assessments.extend(db.session, own, scoring_round.deadline + timedelta(days=10))
    db.session.execute(Notification.__table__.delete())
    assert deadlines.send(db.session, days=3).notices == 2
    assert "member" not in _who(world)
    later = deadlines.send(db.session, days=3, now=scoring_round.deadline + timedelta(days=8))
    assert later.notices == 1 and "member" in _who(world)


def test_an_extension_the_round_deadline_has_overtaken_is_told_at_the_round_deadline(world, table):
    """One rule with the scoring lock: the unit is due at the later of its extension and the round's deadline."""
    from portal.services.scoring import rounds

    cset, _items = table
    scoring_round = _open_with_deadline(cset, 2)
    own = db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == world.member.id))
    assessments.extend(db.session, own, scoring_round.deadline + timedelta(days=1))
    rounds.set_deadline(db.session, scoring_round, scoring_round.deadline + timedelta(days=10))
    db.session.execute(Notification.__table__.delete())
    # near the extension's end nobody is told: the round's deadline, a week later, is everyone's
    assert deadlines.send(db.session, days=3, now=own.extended_until - timedelta(days=1)).notices == 0
    assert deadlines.send(db.session, days=3, now=scoring_round.deadline - timedelta(days=1)).notices == 3


def test_an_extension_in_a_round_without_deadline_is_told(world, table):
    cset, _items = table
    scoring_round = assessments.open_self_round(db.session, cset)
    own = db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == world.member.id))
    assessments.extend(db.session, own, factories.vn_moment(factories.future_date(2), 17, 0))
    db.session.execute(Notification.__table__.delete())
    sent = deadlines.send(db.session, days=3)
    assert (sent.rounds, sent.notices) == (1, 1) and _who(world) == {"member"}
    assert {n.key for n in _notices()} == {deadlines.key_for(scoring_round)}


def test_the_deadlines_command_is_idempotent(world, table, runner):
    _open_with_deadline(table[0], 1)
    db.session.execute(Notification.__table__.delete())
    db.session.commit()
    first = runner.invoke(args=["notices", "deadlines"])
    assert first.exit_code == 0 and "1 vòng chấm; đã tạo 3 thông báo mới" in first.output
    again = runner.invoke(args=["notices", "deadlines", "--days", "3"])
    assert "đã tạo 0 thông báo mới" in again.output
    assert len(_notices()) == 3


@pytest.mark.parametrize("event", ["publish", "pledge", "self_round", "peer_round"])
def test_every_event_takes_its_notices_with_it_when_rolled_back(world, event):
    if event == "publish":
        cset = factories.criteria_set(world, publish=False)
        run = lambda: criteria_svc.publish(db.session, cset)  # noqa: E731
    elif event == "pledge":
        factories.criteria_set(world)
        run = lambda: pledges.create(db.session, world.cluster, world.year)  # noqa: E731
    else:
        cset, _items = factories.scoring_table(world)
        if event == "self_round":
            run = lambda: assessments.open_self_round(db.session, cset)  # noqa: E731
        else:
            peer = reviews.create_round(db.session, cset, "all_pairs")
            run = lambda: reviews.open_round(db.session, peer)  # noqa: E731
    db.session.execute(Notification.__table__.delete())
    db.session.commit()
    run()
    assert len(_notices()) == (4 if event == "publish" else 3)  # the three units' users (and the overseer)
    db.session.rollback()
    assert _notices() == []


def test_an_event_refused_makes_no_notice(world, table):
    assessments.open_self_round(db.session, table[0])
    db.session.commit()
    before = len(_notices())
    with pytest.raises(DomainError):
        assessments.open_self_round(db.session, table[0])  # the year's self round is already open
    assert len(_notices()) == before


def test_opening_the_online_vote_tells_the_attending_members_only(world):
    from portal.services.meetings import online
    from tests.meeting_helpers import opened, scored
    from tests.publication_helpers import POINTS

    scored(world, POINTS)
    meeting = opened(world, present=[world.head, world.deputy])
    before = len(_notices())
    online.open_window(db.session, meeting)
    db.session.commit()
    assert _who(world, NoticeKind.VOTE_OPENED) == {"head", "deputy"}
    notice = _notices(NoticeKind.VOTE_OPENED)[0]
    assert (notice.endpoint, notice.args) == (
        "meetings.vote",
        {"cluster_id": world.cluster.id, "year": world.year.year},
    )
    assert len(_notices()) == before + 2


def test_publishing_the_results_tells_the_members_and_the_overseer(world):
    from tests.publication_helpers import published

    published(world)
    assert _who(world, NoticeKind.RESULTS_PUBLISHED) == {"head", "deputy", "member", "overseer"}
    notice = _notices(NoticeKind.RESULTS_PUBLISHED)[0]
    assert notice.endpoint == "publication.show" and notice.cluster_id == world.cluster.id
    assert notice.args == {"cluster_id": world.cluster.id, "year": world.year.year}


def test_a_failed_publication_leaves_no_notice(world):
    from portal.services.publication import snapshots
    from tests.meeting_helpers import where
    from tests.publication_helpers import voted

    voted(world, close=False)
    with pytest.raises(DomainError):
        snapshots.publish(db.session, where(world), None)
    db.session.rollback()
    assert _notices(NoticeKind.RESULTS_PUBLISHED) == []


def test_the_councils_decision_tells_the_proposed_unit_and_the_head(world):
    from portal.services.publication import council
    from tests.publication_helpers import award, published

    published(world)
    fields = council.DecisionFields(9, 2, 13, "approved", "", "125/QĐ-UBND", factories.past_date(3))
    kind = award("bang_khen_toan_dien")
    council.decide(db.session, world.year.id, world.cluster.id, kind.id, world.deputy.id, fields)
    db.session.commit()
    assert _who(world, NoticeKind.COUNCIL_DECIDED) == {"deputy", "head"}
    notice = _notices(NoticeKind.COUNCIL_DECIDED)[0]
    assert world.deputy.name in notice.text and "125/QĐ-UBND" in notice.text and kind.name in notice.text
    assert notice.args == {"cluster_id": world.cluster.id, "year": world.year.year}


def test_a_correction_tells_the_cluster_its_revision_and_reason_and_links_to_the_diff(world):
    from portal.services.publication import snapshots
    from tests.meeting_helpers import where
    from tests.publication_helpers import published

    _units, items, _snapshot = published(world)
    before = len(_notices())
    correction = snapshots.Correction(world.member.id, items["a"].id, "59")
    second = snapshots.revise(db.session, where(world), correction, "Sai sót khi nhập điểm", None)
    found = _notices(NoticeKind.RESULTS_CORRECTED)  # flushed with the revision, not yet committed
    assert {n.user_id for n in found} == {world.users[name].id for name in ("head", "deputy", "member", "overseer")}
    assert world.users["outsider"].id not in {n.user_id for n in _notices()}
    notice = found[0]
    assert notice.params["revision"] == second.revision == 2 and notice.params["reason"] == "Sai sót khi nhập điểm"
    assert "đính chính (lần công bố 2). Lý do: Sai sót khi nhập điểm" in notice.text
    assert notice.endpoint == "publication.show" and notice.cluster_id == world.cluster.id
    assert notice.args == {
        "cluster_id": world.cluster.id,
        "year": world.year.year,
        "from": 1,
        "to": 2,
        "_anchor": "revision-diff",
    }
    db.session.rollback()  # the notices live and die with the correction
    assert _notices(NoticeKind.RESULTS_CORRECTED) == [] and len(_notices()) == before


def test_a_refused_correction_leaves_no_notice(world):
    from portal.services.publication import snapshots
    from tests.meeting_helpers import where
    from tests.publication_helpers import published

    _units, items, _snapshot = published(world)
    with pytest.raises(DomainError):
        snapshots.revise(db.session, where(world), snapshots.Correction(world.member.id, items["a"].id, "59"), "", None)
    db.session.rollback()
    assert _notices(NoticeKind.RESULTS_CORRECTED) == []


def test_a_notice_keeps_its_catalogue_entry_and_values_beside_the_vietnamese_text(world):
    from tests.publication_helpers import published

    published(world)
    notice = _notices(NoticeKind.RESULTS_PUBLISHED)[0]
    assert notice.message == "%(cluster)s: kết quả thi đua năm %(year)s đã được công bố."
    assert notice.params == {"cluster": world.cluster.name, "year": world.year.year}
    assert notice.text == f"{world.cluster.name}: kết quả thi đua năm {world.year.year} đã được công bố."
