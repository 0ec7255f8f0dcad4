"""Classification bands (xếp loại) of a year, per kind of cluster, kept by the secretariat.

Three bands, highest first: a unit reaches one when its total is at least a share of the declared
total and every criterion at least a share of its maximum; below the lowest it did not complete its
tasks. Rules for one kind of cluster (cụm or khối) come before the rules for every kind; without
either, domain.md's defaults hold (`inputs.DEFAULT_BANDS`). Rules that published results were
computed with are not changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import BandRule, Cluster, EmulationYear, ResultSettings
from portal.models.base import N_
from portal.models.org import CLUSTER_KINDS
from portal.policy import ClusterYear
from portal.services import DomainError
from portal.services.results import scope
from portal.services.results.inputs import DEFAULT_BANDS, Band

CODES = tuple(band.code for band in DEFAULT_BANDS)  # highest first
LABELS = {band.code: band.label for band in DEFAULT_BANDS}


def for_cluster(session: Session, where: ClusterYear) -> tuple[Band, ...]:
    """The bands a cluster-year is classified by: one query."""
    kind = select(Cluster.kind).where(Cluster.id == where.cluster_id).scalar_subquery()
    rows = session.scalars(
        select(BandRule).where(
            BandRule.year_id == where.year_id, (BandRule.cluster_kind == kind) | BandRule.cluster_kind.is_(None)
        )
    ).all()
    return chosen(rows)


def chosen(rows) -> tuple[Band, ...]:
    """The bands from a cluster-year's rules (its kind's and every kind's: objects or rows with
    cluster_kind, code and the two shares): its kind's when there are any."""
    own = [r for r in rows if r.cluster_kind is not None]
    return _bands(own or [r for r in rows if r.cluster_kind is None])


def for_kind(session: Session, year_id: int, cluster_kind: str | None) -> tuple[Band, ...]:
    """The bands that hold for a kind of cluster (None: the rules for every kind) in a year."""
    kinds = (None,) if cluster_kind is None else (cluster_kind, None)
    rows = rules(session, year_id, kinds)
    own = [r for r in rows if r.cluster_kind == cluster_kind]
    return _bands(own or [r for r in rows if r.cluster_kind is None])


def rules(session: Session, year_id: int, kinds=(None, *CLUSTER_KINDS)) -> list[BandRule]:
    """The stored rules of a year for the given kinds (None: every kind)."""
    named = [k for k in kinds if k is not None]
    where = BandRule.cluster_kind.in_(named)
    if None in kinds:
        where = where | BandRule.cluster_kind.is_(None)
    return list(session.scalars(select(BandRule).where(BandRule.year_id == year_id, where).order_by(BandRule.id)))


def _bands(rows: list[BandRule]) -> tuple[Band, ...]:
    if not rows:
        return DEFAULT_BANDS
    by_code = {r.code: r for r in rows}
    return tuple(
        Band(code, LABELS[code], Decimal(by_code[code].min_total_share), Decimal(by_code[code].min_floor_share))
        for code in CODES
    )


def save(
    session: Session, year_id: int, cluster_kind: str | None, shares: Mapping[str, tuple[Decimal, Decimal]]
) -> list[BandRule]:
    """Store the three bands (code → (share of the declared total, floor share of every criterion))."""
    if cluster_kind is not None and cluster_kind not in CLUSTER_KINDS:
        raise DomainError(N_("Chọn loại cụm, khối."), "cluster_kind")
    if set(shares) != set(CODES):
        raise DomainError(N_("Nhập đủ ba mức xếp loại."))
    checked = {
        code: (
            scope.checked_share(shares[code][0], f"{code}_total", f"Tỷ lệ tổng điểm mức “{LABELS[code]}”"),
            scope.checked_share(shares[code][1], f"{code}_floor", f"Tỷ lệ tối thiểu mỗi tiêu chí mức “{LABELS[code]}”"),
        )
        for code in CODES
    }
    for higher, lower in zip(CODES, CODES[1:], strict=False):
        if checked[higher][0] <= checked[lower][0]:
            raise DomainError(
                N_("Tỷ lệ tổng điểm của mức “%(band)s” phải cao hơn mức dưới."), f"{higher}_total", band=LABELS[higher]
            )
        if checked[higher][1] < checked[lower][1]:
            raise DomainError(
                N_("Tỷ lệ tối thiểu mỗi tiêu chí của mức “%(band)s” không được thấp hơn mức dưới."),
                f"{higher}_floor",
                band=LABELS[higher],
            )
    _check_unlocked(session, year_id, cluster_kind)
    existing = {r.code: r for r in rules(session, year_id, (cluster_kind,))}
    year = session.get(EmulationYear, year_id)  # named in the audit entries' labels
    stored = []
    for code in CODES:
        row = existing.get(code) or BandRule(year=year, cluster_kind=cluster_kind, code=code)
        row.min_total_share, row.min_floor_share = checked[code]
        session.add(row)
        stored.append(row)
    session.flush()
    return stored


def reset(session: Session, year_id: int, cluster_kind: str | None) -> None:
    """Back to the rules for every kind (or to the defaults, for the rules for every kind)."""
    _check_unlocked(session, year_id, cluster_kind)
    for row in rules(session, year_id, (cluster_kind,)):
        session.delete(row)
    session.flush()


def _check_unlocked(session: Session, year_id: int, cluster_kind: str | None) -> None:
    """Refuse when a cluster-year whose results are published was classified by these rules."""
    locked_kinds = set(
        session.scalars(
            select(Cluster.kind)
            .join(ResultSettings, ResultSettings.cluster_id == Cluster.id)
            .where(ResultSettings.year_id == year_id, ResultSettings.locked_at.is_not(None))
        )
    )
    if cluster_kind is None:
        own = {r.cluster_kind for r in rules(session, year_id, tuple(CLUSTER_KINDS))}
        affected = bool(locked_kinds - own)
    else:
        affected = cluster_kind in locked_kinds
    if affected:
        raise DomainError(N_("Đã có cụm, khối công bố kết quả theo các mức xếp loại này; không thay đổi được nữa."))
