"""A cluster's results at one stage: every assessment's totals from one aggregate query.

The numbers are those of `portal.services.scoring.assessments.totals` for each assessment
(scored leaves of the round's table, each counted under its root section's kind;
bonus capped at the table's bonus maximum; deductions capped when the table says
so: `criteria.methods.capped`), but for the whole cluster at once: one GROUP BY over the scores joined to
their assessments and to their criteria's roots, whatever the number of units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Numeric, and_, case, exists, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from portal import vntext
from portal.models import Assessment, CriteriaSet, Criterion, Score, ScoringRound, Unit
from portal.models.criteria import CriterionKind
from portal.models.scoring import AssessmentStatus, RoundStatus
from portal.policy import AssessmentFacts, ClusterYear
from portal.services.criteria import methods
from portal.services.criteria.sets import MAX_DEPTH

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
SUM = Numeric(14, 2)


@dataclass(frozen=True)
class AssessmentTotals:
    assessment_id: int
    round_id: int
    scope: ClusterYear
    round_closed: bool
    subject_unit_id: int
    subject_name: str
    author_unit_id: int
    stage: str
    status: str
    submitted_at: datetime | None
    base: Decimal
    bonus: Decimal
    deduction: Decimal

    @property
    def submitted(self) -> bool:
        return self.status == AssessmentStatus.SUBMITTED

    @property
    def total(self) -> Decimal:
        return self.base + self.bonus - self.deduction

    @property
    def facts(self) -> AssessmentFacts:
        """What `policy.assessment_permission` needs to decide who may read this row."""
        return AssessmentFacts(
            scope=self.scope,
            stage=self.stage,
            author_unit_id=self.author_unit_id,
            subject_unit_id=self.subject_unit_id,
            submitted=self.submitted,
            round_closed=self.round_closed,
        )


def _leaf_with_root_kind():
    """A criterion alias that is a leaf, and its root section's kind (the tree has at most MAX_DEPTH levels)."""
    leaf = aliased(Criterion, name="leaf")
    ancestors = [aliased(Criterion, name=f"up{n}") for n in range(1, MAX_DEPTH)]
    child = aliased(Criterion, name="child")
    joins = []
    below = leaf
    for ancestor in ancestors:
        joins.append((ancestor, ancestor.id == below.parent_id))
        below = ancestor
    root_kind = func.coalesce(*(a.kind for a in reversed(ancestors)), leaf.kind)
    is_leaf = ~exists(select(child.id).where(child.parent_id == leaf.id))
    return leaf, joins, root_kind, is_leaf


def _kind_sum(root_kind, kind: str, value):
    return type_coerce(func.coalesce(func.sum(case((root_kind == kind, func.coalesce(value, 0)), else_=0)), 0), SUM)


def cluster_totals(session: Session, where: ScoringRound | ClusterYear, stage: str) -> list[AssessmentTotals]:
    """Every assessment of `stage` in a round (or in all rounds of a cluster-year), best total first."""
    rounds = select(ScoringRound.id)
    if isinstance(where, ScoringRound):
        rounds = rounds.where(ScoringRound.id == where.id)
    else:
        rounds = rounds.where(ScoringRound.year_id == where.year_id, ScoringRound.cluster_id == where.cluster_id)

    # caps per table: the sum of the leaves' maxima under bonus (deduction) sections
    cap_leaf, cap_joins, cap_kind, cap_is_leaf = _leaf_with_root_kind()
    caps = select(
        cap_leaf.set_id.label("set_id"),
        _kind_sum(cap_kind, CriterionKind.BONUS, cap_leaf.max_points).label("bonus_cap"),
        _kind_sum(cap_kind, CriterionKind.DEDUCTION, cap_leaf.max_points).label("deduction_cap"),
    ).select_from(cap_leaf)
    for ancestor, on in cap_joins:
        caps = caps.outerjoin(ancestor, on)
    round_sets = select(ScoringRound.criteria_set_id).where(ScoringRound.id.in_(rounds))
    caps = caps.where(cap_is_leaf, cap_leaf.set_id.in_(round_sets)).group_by(cap_leaf.set_id).subquery("caps")

    leaf, joins, root_kind, is_leaf = _leaf_with_root_kind()
    points = case((leaf.id.is_not(None), Score.points), else_=None)
    grouped = (  # one row per assessment: what it is, and its table's caps
        Assessment.id,
        Assessment.round_id,
        ScoringRound.year_id,
        ScoringRound.cluster_id,
        ScoringRound.status,
        Assessment.subject_unit_id,
        Unit.name,
        Assessment.author_unit_id,
        Assessment.stage,
        Assessment.status,
        Assessment.submitted_at,
        CriteriaSet.deduction_capped,
        caps.c.bonus_cap,
        caps.c.deduction_cap,
    )
    query = (
        select(
            *grouped,
            _kind_sum(root_kind, CriterionKind.SCORED, points),
            _kind_sum(root_kind, CriterionKind.BONUS, points),
            _kind_sum(root_kind, CriterionKind.DEDUCTION, points),
        )
        .select_from(Assessment)
        .join(ScoringRound, ScoringRound.id == Assessment.round_id)
        .join(CriteriaSet, CriteriaSet.id == ScoringRound.criteria_set_id)
        .join(Unit, Unit.id == Assessment.subject_unit_id)
        .outerjoin(caps, caps.c.set_id == ScoringRound.criteria_set_id)
        .outerjoin(Score, Score.assessment_id == Assessment.id)
        # only the leaves of the round's table count, as in assessments.totals
        .outerjoin(leaf, and_(leaf.id == Score.criterion_id, leaf.set_id == ScoringRound.criteria_set_id, is_leaf))
    )
    for ancestor, on in joins:
        query = query.outerjoin(ancestor, on)
    query = query.where(Assessment.round_id.in_(rounds), Assessment.stage == stage).group_by(*grouped)
    rows = []
    for (
        assessment_id,
        round_id,
        year_id,
        cluster_id,
        round_status,
        subject_id,
        subject_name,
        author_id,
        row_stage,
        status,
        submitted_at,
        deduction_capped,
        bonus_cap,
        deduction_cap,
        base,
        bonus,
        deduction,
    ) in session.execute(query):
        bonus, deduction = methods.capped(
            _cents(bonus), _cents(deduction), _cents(bonus_cap), _cents(deduction_cap), deduction_capped
        )
        rows.append(
            AssessmentTotals(
                assessment_id=assessment_id,
                round_id=round_id,
                scope=ClusterYear(year_id, cluster_id),
                round_closed=round_status == RoundStatus.CLOSED,
                subject_unit_id=subject_id,
                subject_name=subject_name,
                author_unit_id=author_id,
                stage=row_stage,
                status=status,
                submitted_at=submitted_at,
                base=_cents(base),
                bonus=bonus,
                deduction=deduction,
            )
        )
    rows.sort(key=lambda r: (-r.total, vntext.sort_key(r.subject_name), r.assessment_id))
    return rows


def _cents(value) -> Decimal:
    return ZERO if value is None else Decimal(str(value)).quantize(CENT)
