"""The province's awards, each cluster's quotas of them, and the year's vote rules.

Award types are one list for the province (the secretariat's); the default list — the provincial
emulation flag (only a cluster's leader), the certificate of merit for overall results, the
certificate for a theme — is created the first time the list is read.

A quota in force is the cluster-year's own row, else the same cluster's row of the year before,
else the award's default (1 flag, 2 certificates "toàn diện", 0 "chuyên đề"). Starting the next
year (org.next_year) asks `carry_over` to copy every quota and the vote rules in force into rows.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import AwardType, Cluster, EmulationYear, Membership, Quota, VoteRules
from portal.models.base import N_
from portal.models.meetings import QuorumRule, Threshold, ThresholdBase
from portal.services import DomainError
from portal.services.meetings.rules import Rules

DEFAULT_AWARDS = (
    # code, name, leader only, default quota
    ("co_thi_dua", "Cờ thi đua của Ủy ban nhân dân tỉnh", True, 1),
    ("bang_khen_toan_dien", "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh (toàn diện)", False, 2),
    ("bang_khen_chuyen_de", "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh (chuyên đề)", False, 0),
)
MAX_QUOTA = 100


def ensure_award_types(session: Session) -> bool:
    """Create the default list when the province has none yet; True when it did (the caller commits)."""
    if session.scalar(select(AwardType.id).limit(1)) is not None:
        return False
    for position, (code, name, leader_only, quota) in enumerate(DEFAULT_AWARDS, 1):
        session.add(AwardType(code=code, name=name, leader_only=leader_only, default_quota=quota, position=position))
    session.flush()
    return True


def award_types(session: Session) -> list[AwardType]:
    """The province's active award types in their order; the default list on first use."""
    ensure_award_types(session)
    return list(
        session.scalars(select(AwardType).where(AwardType.active.is_(True)).order_by(AwardType.position, AwardType.id))
    )


def clusters_of(session: Session, year: EmulationYear) -> list[Cluster]:
    """The clusters that have members in the year, by name."""
    ids = select(Membership.cluster_id).where(Membership.year_id == year.id)
    return list(session.scalars(select(Cluster).where(Cluster.id.in_(ids)).order_by(Cluster.sort_key)))


def _rows(session: Session, year_number: int, cluster_ids: Iterable[int]) -> dict[tuple[int, int], int]:
    rows = session.execute(
        select(Quota.cluster_id, Quota.award_type_id, Quota.count)
        .join(EmulationYear, EmulationYear.id == Quota.year_id)
        .where(EmulationYear.year == year_number, Quota.cluster_id.in_(list(cluster_ids)))
    )
    return {(cluster_id, award_id): count for cluster_id, award_id, count in rows}


def quotas(
    session: Session, year: EmulationYear, cluster_ids: Iterable[int], awards: list[AwardType]
) -> dict[tuple[int, int], tuple[int, str]]:
    """(cluster id, award type id) → (quota in force, where it comes from: "set", "previous" or "default").

    Two queries, whatever the number of clusters.
    """
    ids = list(cluster_ids)
    own, before = _rows(session, year.year, ids), _rows(session, year.year - 1, ids)
    found = {}
    for cluster_id in ids:
        for award in awards:
            key = (cluster_id, award.id)
            if key in own:
                found[key] = (own[key], "set")
            elif key in before:
                found[key] = (before[key], "previous")
            else:
                found[key] = (award.default_quota, "default")
    return found


def quota_of(session: Session, year: EmulationYear, cluster_id: int, award: AwardType) -> int:
    return quotas(session, year, [cluster_id], [award])[(cluster_id, award.id)][0]


def save_quotas(session: Session, year: EmulationYear, cluster: Cluster, counts: dict[int, int | None]) -> None:
    """Set the cluster-year's quota of each award type (award type id → count)."""
    awards = {a.id: a for a in award_types(session)}
    stored = {
        q.award_type_id: q
        for q in session.scalars(select(Quota).where(Quota.cluster_id == cluster.id, Quota.year_id == year.id))
    }
    for award_id, count in counts.items():
        if award_id not in awards:
            raise DomainError(N_("Loại khen thưởng không có trong danh mục."))
        if count is None or not 0 <= count <= MAX_QUOTA:
            raise DomainError(N_("Chỉ tiêu phải là số nguyên từ 0 đến %(max)s."), f"award_{award_id}", max=MAX_QUOTA)
        if award_id in stored:
            stored[award_id].count = count
        else:
            session.add(Quota(cluster=cluster, year=year, award_type=awards[award_id], count=count))
    session.flush()


def vote_rules(session: Session, year_id: int) -> Rules:
    """The year's vote rules (the defaults when the secretariat chose none)."""
    row = session.scalar(select(VoteRules).where(VoteRules.year_id == year_id))
    return Rules() if row is None else Rules(row.quorum, row.threshold, row.threshold_base)


def save_vote_rules(session: Session, year: EmulationYear, rules: Rules) -> VoteRules:
    for field, value, codes in (
        ("quorum", rules.quorum, QuorumRule),
        ("threshold", rules.threshold, Threshold),
        ("threshold_base", rules.base, ThresholdBase),
    ):
        if value not in set(codes):
            raise DomainError(N_("Lựa chọn không hợp lệ."), field)
    row = session.scalar(select(VoteRules).where(VoteRules.year_id == year.id))
    if row is None:
        row = VoteRules(year=year)
        session.add(row)
    row.quorum, row.threshold, row.threshold_base = rules.quorum, rules.threshold, rules.base
    session.flush()
    return row


def carry_over(session: Session, source: EmulationYear, target: EmulationYear) -> None:
    """Copy the source year's quotas in force and vote rules into the target year (nothing already set there)."""
    clusters = [c.id for c in clusters_of(session, target)]
    awards = award_types(session)
    by_id = {a.id: a for a in awards}
    in_force = quotas(session, source, clusters, awards)
    own = _rows(session, target.year, clusters)
    for (cluster_id, award_id), (count, _source) in in_force.items():
        if (cluster_id, award_id) not in own:
            quota = Quota(
                cluster=session.get(Cluster, cluster_id), year=target, award_type=by_id[award_id], count=count
            )
            session.add(quota)
    if session.scalar(select(VoteRules.id).where(VoteRules.year_id == target.id)) is None:
        rules = vote_rules(session, source.id)
        session.add(VoteRules(year=target, quorum=rules.quorum, threshold=rules.threshold, threshold_base=rules.base))
    session.flush()
