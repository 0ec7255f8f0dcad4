"""A cluster-year ready for its year-end meeting: a locked table of two directly scored criteria, every
member's self-score submitted (agreed basis), the self round closed. Shared by the meeting tests."""

from __future__ import annotations

from decimal import Decimal as D

from sqlalchemy import select

from portal.extensions import db
from portal.models import Assessment
from portal.policy import ClusterYear
from portal.services.criteria import sets as criteria_svc
from portal.services.meetings import record
from portal.services.org import cluster_year
from portal.services.scoring import assessments as scoring
from portal.services.scoring import rounds
from tests import factories


def scored(world, points: dict[str, tuple[str, str]], extra: int = 0):
    """The world's cluster with `extra` more members; each unit named in `points` (head, deputy, member,
    extra1 …) self-scores (a, b) out of (60, 40). Returns (units by name, items)."""
    units = {"head": world.head, "deputy": world.deputy, "member": world.member}
    for i in range(1, extra + 1):
        unit = factories.unit(f"UBND xã Thêm {i}")
        cluster_year.add_membership(db.session, world.year, world.cluster, unit)
        units[f"extra{i}"] = unit
    cset = criteria_svc.create_set(db.session, world.cluster, world.year, title="Bảng", target_total=D(100))
    section = criteria_svc.add_criterion(db.session, cset, None, code="I", title="Nhiệm vụ")
    items = {
        "a": criteria_svc.add_criterion(db.session, cset, section, code="1", title="Kinh tế", max_points=D(60)),
        "b": criteria_svc.add_criterion(db.session, cset, section, code="2", title="Xã hội", max_points=D(40)),
    }
    criteria_svc.publish(db.session, cset)
    criteria_svc.lock(db.session, cset)
    self_round = scoring.open_self_round(db.session, cset)
    for name, (a, b) in points.items():
        own = db.session.scalar(
            select(Assessment).where(
                Assessment.round_id == self_round.id,
                Assessment.subject_unit_id == units[name].id,
                Assessment.author_unit_id == units[name].id,
            )
        )
        for key, raw in (("a", a), ("b", b)):
            scoring.save_score(db.session, own, items[key], raw, "", expected_revision=None, user_id=None)
        scoring.submit(db.session, own, None)
    rounds.close_round(db.session, self_round)
    db.session.commit()
    return units, items


def where(world) -> ClusterYear:
    return ClusterYear(world.year.id, world.cluster.id)


def opened(world, present: list | None = None):
    """The year-end meeting opened, with these units present (default: every member)."""
    meeting = record.open_meeting(
        db.session,
        where(world),
        record.RecordFields(factories.past_date(1), "Hội trường UBND phường An Bình", "Nguyễn Văn An", "Lê Thị Bình"),
        user_id=None,
    )
    attending = present if present is not None else [u for u, _row in record.attendance(db.session, meeting)]
    for unit in attending:
        record.mark(db.session, meeting, unit.id, present=True, representative="Đại diện", position="Chủ tịch")
    db.session.commit()
    return meeting
