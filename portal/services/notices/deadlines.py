"""Deadlines near: the daily `flask notices deadlines` tells whoever still has work in an open round.

"Who must act" is the author of an assessment of the round not yet handed in, at a stage bound by the
round's deadline: the unit's own self-assessment, a reviewer's peer review, the unit's explanation
(the verification round's deadline is the one for explanations). A unit given more time
(`extended_until`) is told when its effective deadline nears: the later of the round's deadline and the
extension (`Assessment.effective_deadline`), the same rule that locks its scores. Each user gets one notice per round,
however often the command runs (the notice's key), so running it twice a day changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from portal.formatting import vn_datetime
from portal.models import Assessment, ScoringRound
from portal.models.base import N_, utcnow
from portal.models.notices import NoticeKind
from portal.models.scoring import AssessmentStatus, RoundKind, RoundStatus, Stage
from portal.services.notices import events

DEFAULT_DAYS = 3
BOUND_STAGES = (Stage.SELF, Stage.PEER, Stage.EXPLANATION)
# One sentence per kind of round, so that the reader's language says the round and the task too.
SAYS = {
    RoundKind.SELF: N_("%(cluster)s: tự chấm điểm — hạn nộp bản tự chấm điểm là %(due)s."),
    RoundKind.PEER: N_("%(cluster)s: chấm chéo — hạn nộp kết quả chấm chéo là %(due)s."),
    RoundKind.VERIFICATION: N_("%(cluster)s: thẩm định — hạn nộp giải trình kết quả thẩm định là %(due)s."),
}


@dataclass(frozen=True)
class Sent:
    rounds: int  # rounds with someone still to act before a deadline near
    notices: int  # notices added by this run


def key_for(scoring_round: ScoringRound) -> str:
    return f"deadline:round:{scoring_round.id}"


def _pending(session: Session, now: datetime, until: datetime) -> dict[ScoringRound, dict[int, datetime]]:
    """Open rounds → author unit → the nearest deadline it faces within (now, until]."""
    found: dict[ScoringRound, dict[int, datetime]] = defaultdict(dict)
    rows = session.scalars(
        select(Assessment)
        .join(ScoringRound, ScoringRound.id == Assessment.round_id)
        .where(
            ScoringRound.status == RoundStatus.OPEN,
            or_(ScoringRound.deadline.is_not(None), Assessment.extended_until.is_not(None)),
            Assessment.stage.in_(BOUND_STAGES),
            Assessment.status != AssessmentStatus.SUBMITTED,
        )
        .options(joinedload(Assessment.round).joinedload(ScoringRound.criteria_set))
    )
    for assessment in rows:
        due = assessment.effective_deadline
        if now < due <= until:
            units = found[assessment.round]
            units[assessment.author_unit_id] = min(due, units.get(assessment.author_unit_id, due))
    return found


def _link(scoring_round: ScoringRound, year: int) -> tuple[str, dict]:
    if scoring_round.kind == RoundKind.PEER:
        return "reviews.for_cluster", {"cluster_id": scoring_round.cluster_id, "year": year}
    return "scoring.for_cluster", {"cluster_id": scoring_round.cluster_id, "year": year}


def send(session: Session, days: int = DEFAULT_DAYS, now: datetime | None = None) -> Sent:
    """Notices for every deadline within `days` days from now; idempotent (one per round per user)."""
    now = now or utcnow()
    pending = _pending(session, now, now + timedelta(days=days))
    added = 0
    for scoring_round, units in pending.items():
        cset = scoring_round.criteria_set
        endpoint, args = _link(scoring_round, cset.year.year)
        for due in sorted(set(units.values())):
            unit_ids = [unit_id for unit_id, when in units.items() if when == due]
            added += events.notify(
                session,
                events.unit_users(session, scoring_round.cluster_id, scoring_round.year_id, unit_ids),
                NoticeKind.DEADLINE_NEAR,
                cluster_id=scoring_round.cluster_id,
                year_id=scoring_round.year_id,
                message=SAYS[scoring_round.kind],
                params={"cluster": cset.cluster.name, "due": vn_datetime(due)},
                endpoint=endpoint,
                args=args,
                key=key_for(scoring_round),
                now=now,
            )
    return Sent(len(pending), added)
