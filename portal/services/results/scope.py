"""The cluster-year a result is about: the criteria table its scores were given against, and its lock.

The table is the self round's: verification copies it, and scores keep pointing at the criteria
they were given against even when a newer version of the table is made later (criteria.sets).
Before any round opens it is the set in force. Once the results are published the cluster-year's
settings are locked (`ResultSettings.locked_at`), and nothing its numbers are computed from changes.
Every number of the settings and bands passes the same check (`checked_decimal`).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import CriteriaSet, ResultSettings, ScoringRound
from portal.models.base import N_
from portal.policy import ClusterYear
from portal.services import DomainError

SHARE_PLACES = Decimal("0.0001")
LOCKED = N_("Kết quả năm này đã công bố; không thay đổi được cách tính và dữ liệu tính kết quả.")


def table_set_id(scope: ClusterYear):
    """The id of the cluster-year's results table, as an SQL expression (NULL when there is none)."""
    self_round = select(ScoringRound.criteria_set_id).where(
        ScoringRound.cluster_id == scope.cluster_id, ScoringRound.year_id == scope.year_id, ScoringRound.kind == "self"
    )
    in_force = select(CriteriaSet.id).where(
        CriteriaSet.cluster_id == scope.cluster_id,
        CriteriaSet.year_id == scope.year_id,
        CriteriaSet.status != "superseded",
    )
    return func.coalesce(self_round.scalar_subquery(), in_force.scalar_subquery())


def table_set(session: Session, scope: ClusterYear) -> CriteriaSet | None:
    return session.scalar(select(CriteriaSet).where(CriteriaSet.id == table_set_id(scope)))


def is_locked(session: Session, scope: ClusterYear) -> bool:
    locked_at = session.scalar(
        select(ResultSettings.locked_at).where(
            ResultSettings.cluster_id == scope.cluster_id, ResultSettings.year_id == scope.year_id
        )
    )
    return locked_at is not None


def check_unlocked(session: Session, scope: ClusterYear) -> None:
    if is_locked(session, scope):
        raise DomainError(LOCKED)


def checked_decimal(value, field: str, label: str, *, low: Decimal, high: Decimal, places: Decimal) -> Decimal:
    """`value` as a Decimal from `low` to `high` with at most the decimal places of `places` (0.01: two)."""
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise DomainError(N_("%(label)s: nhập một số."), field, label=label) from None
    if not number.is_finite() or not low <= number <= high:
        raise DomainError(
            N_("%(label)s phải từ %(low)s đến %(high)s."), field, label=label, low=_vn(low), high=_vn(high)
        )
    if number != number.quantize(places):
        raise DomainError(
            N_("%(label)s: tối đa %(places)s chữ số thập phân."), field, label=label, places=-places.as_tuple().exponent
        )
    return number


def checked_share(value, field: str, label: str) -> Decimal:
    """A share of a total or of a maximum: more than 0, at most 1 (100 %), four decimal places."""
    number = checked_decimal(value, field, label, low=Decimal(0), high=Decimal(1), places=SHARE_PLACES)
    if number == 0:
        raise DomainError(N_("%(label)s phải lớn hơn 0."), field, label=label)
    return number


def _vn(number: Decimal) -> str:
    return str(number).replace(".", ",")
