"""Deadlines near: the daily `flask notices deadlines` tells whoever still has work in an open round.

"Who must act" is the author of an assessment of the round not yet handed in, at a stage bound by the
round's deadline: the unit's own self-assessment, a reviewer's peer review, the unit's explanation
(the verification round's deadline is the one for explanations). A unit given more time
(`extended_until`) is told when that later moment nears. Each user gets one notice per round,
however often the command runs (the notice's key), so running it twice a day changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from portal.formatting import vn_datetime
from portal.models import Assessment, ScoringRound
from portal.models.base import utcnow
from portal.models.notices import NoticeKind
from portal.models.scoring import ROUND_KINDS, AssessmentStatus, RoundKind, RoundStatus, Stage
from portal.services.notices import events

DEFAULT_DAYS = 3
BOUND_STAGES = (Stage.SELF, Stage.PEER, Stage.EXPLANATION)
WHAT = {
    RoundKind.SELF: "nộp bản tự chấm điểm",
    RoundKind.PEER: "nộp kết quả chấm chéo",
    RoundKind.VERIFICATION: "nộp giải trình kết quả thẩm định",
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
            ScoringRound.deadline.is_not(None),
            Assessment.stage.in_(BOUND_STAGES),
            Assessment.status != AssessmentStatus.SUBMITTED,
        )
        .options(joinedload(Assessment.round).joinedload(ScoringRound.criteria_set))
    )
    for assessment in rows:
        due = assessment.extended_until or assessment.round.deadline
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
                text=f"{cset.cluster.name}: {ROUND_KINDS[scoring_round.kind].lower()} — hạn {WHAT[scoring_round.kind]}"
                f" là {vn_datetime(due)}.",
                endpoint=endpoint,
                args=args,
                key=key_for(scoring_round),
                now=now,
            )
    return Sent(len(pending), added)
