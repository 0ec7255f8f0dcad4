"""The council's decision on published proposals (votes, verdict, number and date; a refusal needs its reason)
and the Government emulation flag shortlist (leaders only, at most ⌊share × n⌋, each naming its cluster)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEntry, CouncilDecision
from portal.services import DomainError
from portal.services.publication import council
from tests import factories
from tests.publication_helpers import award, published


@pytest.mark.parametrize(("leaders", "limit"), [(1, 0), (4, 0), (5, 1), (34, 6), (10, 2)])
def test_the_shortlist_holds_at_most_a_fifth_of_the_leaders_rounded_down(leaders, limit):
    assert council.shortlist_limit(leaders, D("0.20")) == limit


def _fields(**kw):
    values = {
        "votes_for": 9,
        "votes_against": 2,
        "members": 13,
        "verdict": "approved",
        "reason": "",
        "decision_number": "125/QĐ-UBND",
        "decided_on": factories.past_date(3),
    }
    return council.DecisionFields(**{**values, **kw})


def test_every_elected_proposal_is_listed_and_the_decision_is_recorded(world):
    published(world)
    found = council.proposals(db.session, world.year.id)
    assert {(p.award.code, p.unit_id) for p in found} == {
        ("co_thi_dua", world.head.id),
        ("bang_khen_toan_dien", world.head.id),
        ("bang_khen_toan_dien", world.deputy.id),
    }
    flag = award("co_thi_dua")
    council.decide(db.session, world.year.id, world.cluster.id, flag.id, world.head.id, _fields())
    db.session.commit()
    [decision] = council.decisions_for_unit(db.session, world.head.id, world.year.id)
    assert (decision.verdict, decision.votes_for, decision.members, decision.decision_number) == (
        "approved",
        9,
        13,
        "125/QĐ-UBND",
    )
    assert db.session.scalar(select(func.count()).where(AuditEntry.object_type == "CouncilDecision")) == 1
    # the council overrules the cluster: not approved, with its reason
    council.decide(
        db.session,
        world.year.id,
        world.cluster.id,
        flag.id,
        world.head.id,
        _fields(verdict="not_approved", votes_for=3, reason="Chưa đạt tiêu chuẩn Cờ thi đua"),
    )
    db.session.commit()
    assert council.decisions_for_cluster(db.session, world.cluster.id, world.year.id)[0].verdict == "not_approved"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"verdict": "not_approved", "reason": " "}, "reason"),
        ({"votes_for": 10, "votes_against": 4}, "votes_against"),
        ({"members": 0}, "members"),
        ({"votes_for": None}, "votes_for"),
        ({"decision_number": ""}, "decision_number"),
        ({"decided_on": None}, "decided_on"),
        ({"verdict": "maybe"}, "verdict"),
    ],
)
def test_a_bad_decision_is_refused_next_to_its_field(world, change, field):
    published(world)
    flag = award("co_thi_dua")
    with pytest.raises(DomainError) as refused:
        council.decide(db.session, world.year.id, world.cluster.id, flag.id, world.head.id, _fields(**change))
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CouncilDecision)) == 0


def test_only_a_published_proposal_can_be_decided(world):
    published(world)
    with pytest.raises(DomainError, match="Không có đề nghị"):
        council.decide(db.session, world.year.id, world.cluster.id, award("co_thi_dua").id, world.member.id, _fields())


def test_the_shortlist_takes_leaders_only_within_the_limit(world):
    published(world)
    [leader] = council.leaders(db.session, world.year.id)
    assert (leader.unit_id, leader.cluster.id) == (world.head.id, world.cluster.id)
    with pytest.raises(DomainError, match="tối đa 0 trong 1"):
        council.add_to_shortlist(db.session, world.year.id, world.head.id)
    with pytest.raises(DomainError, match="từ 1 đến 100"):
        council.set_government_share(db.session, world.year.id, D(0))
    council.set_government_share(db.session, world.year.id, D(100))
    with pytest.raises(DomainError, match="dẫn đầu"):
        council.add_to_shortlist(db.session, world.year.id, world.member.id)
    entry = council.add_to_shortlist(db.session, world.year.id, world.head.id)
    db.session.commit()
    assert entry.cluster_id == world.cluster.id
    with pytest.raises(DomainError, match="đã có"):
        council.add_to_shortlist(db.session, world.year.id, world.head.id)
