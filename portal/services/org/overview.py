"""Read models for lists of clusters in a year: a fixed number of queries whatever the size."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portal import vntext
from portal.models import Cluster, EmulationYear, Membership, Term, TermPosition, Unit


@dataclass
class ClusterSummary:
    cluster: Cluster
    term: Term | None
    member_count: int
    members: list[Membership] = field(default_factory=list)

    @property
    def head(self) -> Unit | None:
        return self.term.head_unit if self.term else None

    @property
    def deputies(self) -> list[Unit]:
        return self.term.deputies if self.term else []

    @property
    def problems(self) -> list[str]:
        found = []
        if self.member_count == 0:
            found.append("Chưa có thành viên")
        if self.head is None:
            found.append(f"Chưa có {self.cluster.head_title.lower()}")
        if self.term is None or self.term.overseer_id is None:
            found.append("Chưa phân công thành viên Hội đồng phụ trách")
        if self.term is not None and self.head is not None and not self.term.decision_number:
            found.append("Chưa nhập quyết định phân công")
        return found


def cluster_summaries(
    session: Session,
    year: EmulationYear,
    *,
    cluster_ids=None,
    kind: str | None = None,
    q: str | None = None,
    with_members: bool = False,
    active_only: bool = False,
) -> list[ClusterSummary]:
    query = select(Cluster).order_by(Cluster.kind, Cluster.code)
    if cluster_ids is not None:
        query = query.where(Cluster.id.in_(list(cluster_ids)))
    if kind:
        query = query.where(Cluster.kind == kind)
    if q:
        query = query.where(Cluster.search_key.like(vntext.like_pattern(q), escape="\\"))
    if active_only:
        query = query.where(Cluster.active)
    clusters = session.scalars(query).all()
    ids = [c.id for c in clusters]
    if not ids:
        return []
    terms, counts = _terms(session, year, ids), _member_counts(session, year, ids)
    members = _members(session, year, ids) if with_members else {}
    return [ClusterSummary(c, terms.get(c.id), counts.get(c.id, 0), members.get(c.id, [])) for c in clusters]


def _terms(session: Session, year: EmulationYear, cluster_ids: list[int]) -> dict[int, Term]:
    """The year's term of each cluster (with its positions' units and its overseer), by cluster."""
    query = (
        select(Term)
        .where(Term.year_id == year.id, Term.cluster_id.in_(cluster_ids))
        .options(selectinload(Term.positions).selectinload(TermPosition.unit), selectinload(Term.overseer))
    )
    return {t.cluster_id: t for t in session.scalars(query)}


def _member_counts(session: Session, year: EmulationYear, cluster_ids: list[int]) -> dict[int, int]:
    return dict(
        session.execute(
            select(Membership.cluster_id, func.count())
            .where(Membership.year_id == year.id, Membership.cluster_id.in_(cluster_ids))
            .group_by(Membership.cluster_id)
        ).all()
    )


def _members(session: Session, year: EmulationYear, cluster_ids: list[int]) -> dict[int, list[Membership]]:
    """Each cluster's memberships of the year in rotation order (with their units), by cluster."""
    members: dict[int, list[Membership]] = {}
    for m in session.scalars(
        select(Membership)
        .where(Membership.year_id == year.id, Membership.cluster_id.in_(cluster_ids))
        .options(selectinload(Membership.unit))
        .order_by(Membership.rotation_order, Membership.id)
    ):
        members.setdefault(m.cluster_id, []).append(m)
    return members


def unassigned_units(session: Session, year: EmulationYear) -> list[Unit]:
    """Active units with no cluster in the year."""
    assigned = select(Membership.unit_id).where(Membership.year_id == year.id)
    return list(session.scalars(select(Unit).where(Unit.active, Unit.id.not_in(assigned)).order_by(Unit.sort_key)))
