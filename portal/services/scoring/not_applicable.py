"""Criteria that do not apply to the unit an assessment is about ("không áp dụng"), as the scoring forms read them.

The head marks them (results.applicability); every stage of that unit (self-score, verification,
explanation, final, the peers' reviews) then shows such a leaf without an input, leaves it out of
the maxima and the totals shown, does not ask for it on submission, and refuses a score for it.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Assessment, Criterion, NotApplicable
from portal.models.base import N_
from portal.models.criteria import CriterionKind
from portal.services import DomainError
from portal.services.criteria.tree import Tree

ZERO = Decimal("0")


def reasons(session: Session, assessment: Assessment) -> dict[int, str]:
    """Criterion id → the head's reason, for the leaves that do not apply to the assessed unit: one query."""
    return dict(
        session.execute(
            select(NotApplicable.criterion_id, NotApplicable.reason).where(
                NotApplicable.criteria_set_id == assessment.criteria_set_id,
                NotApplicable.unit_id == assessment.subject_unit_id,
            )
        ).all()
    )


def refused(reason: str) -> DomainError:
    """What a save of a score for such a leaf answers."""
    return DomainError(
        N_("Tiêu chí này không áp dụng cho đơn vị (lý do: %(reason)s); không chấm điểm tiêu chí này."),
        "value",
        reason=reason,
    )


def check_applies(session: Session, assessment: Assessment, criterion: Criterion) -> None:
    """Refuse a score for a leaf that does not apply to the assessed unit."""
    reason = session.scalar(
        select(NotApplicable.reason).where(
            NotApplicable.criterion_id == criterion.id, NotApplicable.unit_id == assessment.subject_unit_id
        )
    )
    if reason is not None:
        raise refused(reason)


def applicable_maxima(tree: Tree, excluded: set[int] | dict[int, str]) -> dict[int, Decimal]:
    """Each node's maximum without the leaves that do not apply (a parent: the sum of its applicable leaves)."""
    if not excluded:
        return dict(tree.maxima)
    maxima: dict[int, Decimal] = {}
    for node, _depth in reversed(list(tree.walk())):
        kids = tree.kids(node)
        if kids:
            maxima[node.id] = sum((maxima[k.id] for k in kids), ZERO)
        else:
            maxima[node.id] = ZERO if node.id in excluded else tree.maxima[node.id]
    return maxima


def applicable_total(tree: Tree, maxima: dict[int, Decimal]) -> Decimal:
    """The maximum of the scored sections once the leaves that do not apply are left out."""
    return sum((maxima[n.id] for n in tree.roots if n.kind == CriterionKind.SCORED), ZERO)
