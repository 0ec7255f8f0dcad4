"""The council's decision on the clusters' proposals of a year, and its Government emulation flag shortlist.

A proposal is a unit elected by its cluster's vote for an award, as the latest revision of the cluster's
publication shows it. It is advisory: the secretariat records the council's own vote (for and against, of
how many members voting) and the chairman's decision (approved, or not approved with the reason), the
decision's number and date.

The Government's flag is proposed from among cluster and block leaders only (first place of a published
table, eligible): at most ⌊share × n⌋ of the n leaders, share 20 % by default (a setting per year), so
1 to 4 leaders give none, 5 give one, 34 give six. Each entry names the cluster it leads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.models import (
    AwardType,
    Cluster,
    CouncilDecision,
    CouncilYear,
    EmulationYear,
    GovernmentFlagEntry,
    ResultSnapshot,
)
from portal.models.base import N_
from portal.models.meetings import Outcome
from portal.models.notices import NoticeKind
from portal.models.publication import DEFAULT_GOVERNMENT_SHARE, Verdict
from portal.services import DomainError
from portal.services.notices import events as notices
from portal.services.platform import control_chars

TEXT_MAX = 2000
NUMBER_MAX = 64


@dataclass(frozen=True)
class Proposal:
    cluster: Cluster
    award: AwardType
    unit_id: int
    unit_name: str
    votes: int
    denominator: int
    rank: int
    decision: CouncilDecision | None


@dataclass(frozen=True)
class Leader:
    unit_id: int
    unit_name: str
    cluster: Cluster
    entry: GovernmentFlagEntry | None


@dataclass(frozen=True)
class DecisionFields:
    votes_for: int | None
    votes_against: int | None
    members: int | None
    verdict: str
    reason: str
    decision_number: str
    decided_on: date | None


def published(session: Session, year_id: int) -> list[tuple[Cluster, dict]]:
    """Each published cluster of the year with its latest revision's content, by cluster name (two queries)."""
    latest: dict[int, ResultSnapshot] = {}
    for snapshot in session.scalars(select(ResultSnapshot).where(ResultSnapshot.year_id == year_id)):
        if snapshot.cluster_id not in latest or snapshot.revision > latest[snapshot.cluster_id].revision:
            latest[snapshot.cluster_id] = snapshot
    clusters = session.scalars(select(Cluster).where(Cluster.id.in_(latest)).order_by(Cluster.sort_key)).all()
    return [(c, json.loads(latest[c.id].content)) for c in clusters]


def proposals(session: Session, year_id: int) -> list[Proposal]:
    """Every elected nomination of the year's published clusters, with the council's decision (four queries)."""
    awards = {a.code: a for a in session.scalars(select(AwardType))}
    decisions = {
        (d.cluster_id, d.award_type_id, d.unit_id): d
        for d in session.scalars(select(CouncilDecision).where(CouncilDecision.year_id == year_id))
    }
    found = []
    for cluster, content in published(session, year_id):
        for n in content["nominations"]:
            award = awards.get(n["award"])
            if n["outcome"] != Outcome.ELECTED or award is None:
                continue
            decision = decisions.get((cluster.id, award.id, n["unit_id"]))
            found.append(
                Proposal(cluster, award, n["unit_id"], n["name"], n["votes"], n["denominator"], n["rank"], decision)
            )
    found.sort(key=lambda p: (p.award.position, p.award.id))
    return found


def _check(fields: DecisionFields) -> None:
    for name in ("votes_for", "votes_against", "members"):
        value = getattr(fields, name)
        if value is None or value < 0:
            raise DomainError(N_("Nhập một số nguyên không âm."), name)
    if fields.members == 0:
        raise DomainError(N_("Số thành viên Hội đồng biểu quyết phải lớn hơn 0."), "members")
    if fields.votes_for + fields.votes_against > fields.members:
        raise DomainError(
            N_("Số phiếu đồng ý và không đồng ý cộng lại không được quá số thành viên biểu quyết (%(members)s)."),
            "votes_against",
            members=fields.members,
        )
    if fields.verdict not in set(Verdict):
        raise DomainError(N_("Chọn quyết định của Chủ tịch."), "verdict")
    if fields.verdict == Verdict.NOT_APPROVED and not fields.reason.strip():
        raise DomainError(N_("Nêu lý do không đồng ý khen thưởng."), "reason")
    if len(fields.reason) > TEXT_MAX or control_chars.has_control_characters(fields.reason):
        raise DomainError(N_("Tối đa %(max)s ký tự, không có ký tự điều khiển."), "reason", max=TEXT_MAX)
    number = fields.decision_number.strip()
    if not number or len(number) > NUMBER_MAX:
        raise DomainError(N_("Nhập số quyết định (tối đa %(max)s ký tự)."), "decision_number", max=NUMBER_MAX)
    if fields.decided_on is None:
        raise DomainError(N_("Nhập ngày quyết định theo dạng dd/mm/yyyy."), "decided_on")


def decide(
    session: Session, year_id: int, cluster_id: int, award_type_id: int, unit_id: int, fields: DecisionFields
) -> CouncilDecision:
    """Record (or correct) the council's vote and the chairman's decision on one published proposal."""
    proposal = next(
        (
            p
            for p in proposals(session, year_id)
            if (p.cluster.id, p.award.id, p.unit_id) == (cluster_id, award_type_id, unit_id)
        ),
        None,
    )
    if proposal is None:
        raise DomainError(N_("Không có đề nghị này trong kết quả đã công bố."))
    _check(fields)
    row = proposal.decision
    if row is None:
        row = CouncilDecision(year_id=year_id, cluster=proposal.cluster, award_type=proposal.award, unit_id=unit_id)
        session.add(row)
    row.votes_for, row.votes_against, row.members = fields.votes_for, fields.votes_against, fields.members
    row.verdict, row.reason = fields.verdict, fields.reason.strip()
    row.decision_number, row.decided_on = fields.decision_number.strip(), fields.decided_on
    session.flush()
    _announce(session, year_id, proposal, row)
    return row


# The verdict is part of the sentence, so that the reader's language says it too.
DECIDED = {
    Verdict.APPROVED: N_("%(award)s — %(unit)s: Đồng ý khen thưởng (Quyết định số %(number)s)."),
    Verdict.NOT_APPROVED: N_("%(award)s — %(unit)s: Không đồng ý (Quyết định số %(number)s)."),
}


def _announce(session: Session, year_id: int, proposal: Proposal, decision: CouncilDecision) -> None:
    """Tell the proposal's unit and the cluster's head unit what the council decided."""
    cluster_id = proposal.cluster.id
    recipients = notices.unit_users(session, cluster_id, year_id, [proposal.unit_id])
    notices.notify(
        session,
        recipients + notices.head_users(session, cluster_id, year_id),
        NoticeKind.COUNCIL_DECIDED,
        cluster_id=cluster_id,
        year_id=year_id,
        message=DECIDED[decision.verdict],
        params={"award": proposal.award.name, "unit": proposal.unit_name, "number": decision.decision_number},
        endpoint="publication.show",
        args={"cluster_id": cluster_id, "year": session.get(EmulationYear, year_id).year},
    )


def shortlist_limit(leaders: int, share: Decimal) -> int:
    """At most ⌊share × leaders⌋ (20 % of 4 leaders: none; of 5: one; of 34: six)."""
    return int((share * leaders).to_integral_value(rounding=ROUND_FLOOR))


def government_share(session: Session, year_id: int) -> Decimal:
    row = session.scalar(select(CouncilYear).where(CouncilYear.year_id == year_id))
    return row.government_share if row is not None else DEFAULT_GOVERNMENT_SHARE


def set_government_share(session: Session, year_id: int, percent: Decimal | None) -> CouncilYear:
    """The year's share, given in percent (1 to 100, at most two decimals)."""
    if percent is None or not percent.is_finite() or not Decimal(1) <= percent <= Decimal(100):
        raise DomainError(N_("Tỷ lệ phải từ 1 đến 100 (%)."), "percent")
    if percent != percent.quantize(Decimal("0.01")):
        raise DomainError(N_("Tỷ lệ lấy tối đa hai chữ số thập phân."), "percent")
    row = session.scalar(select(CouncilYear).where(CouncilYear.year_id == year_id))
    if row is None:
        row = CouncilYear(year_id=year_id)
        session.add(row)
    row.government_share = percent / 100
    session.flush()
    return row


def leaders(session: Session, year_id: int) -> list[Leader]:
    """The published leaders of the year's clusters and blocks (first place, eligible), with their entries."""
    entries = {
        e.unit_id: e
        for e in session.scalars(
            select(GovernmentFlagEntry)
            .where(GovernmentFlagEntry.year_id == year_id)
            .options(selectinload(GovernmentFlagEntry.cluster))
        )
    }
    return [
        Leader(row["unit_id"], row["name"], cluster, entries.get(row["unit_id"]))
        for cluster, content in published(session, year_id)
        for row in content["table"]
        if row["rank"] == 1 and row["eligible"]
    ]


def add_to_shortlist(session: Session, year_id: int, unit_id: int) -> GovernmentFlagEntry:
    found = leaders(session, year_id)
    leader = next((x for x in found if x.unit_id == unit_id), None)
    if leader is None:
        raise DomainError(N_("Chỉ đề nghị Cờ thi đua của Chính phủ cho đơn vị dẫn đầu cụm, khối đã công bố kết quả."))
    if leader.entry is not None:
        raise DomainError(N_("Đơn vị đã có trong danh sách đề nghị."))
    limit = shortlist_limit(len(found), government_share(session, year_id))
    if sum(1 for x in found if x.entry is not None) >= limit:
        raise DomainError(
            N_("Đã đủ số được đề nghị: tối đa %(limit)s trong %(leaders)s đơn vị dẫn đầu."),
            limit=limit,
            leaders=len(found),
        )
    entry = GovernmentFlagEntry(year_id=year_id, unit_id=unit_id, cluster=leader.cluster)
    session.add(entry)
    session.flush()
    return entry


def remove_from_shortlist(session: Session, entry: GovernmentFlagEntry) -> None:
    session.delete(entry)
    session.flush()


def decisions_for_unit(session: Session, unit_id: int, year_id: int) -> list[CouncilDecision]:
    return list(
        session.scalars(
            select(CouncilDecision)
            .where(CouncilDecision.unit_id == unit_id, CouncilDecision.year_id == year_id)
            .options(selectinload(CouncilDecision.award_type))
            .order_by(CouncilDecision.award_type_id)
        )
    )


def decisions_for_cluster(session: Session, cluster_id: int, year_id: int) -> list[CouncilDecision]:
    return list(
        session.scalars(
            select(CouncilDecision)
            .where(CouncilDecision.cluster_id == cluster_id, CouncilDecision.year_id == year_id)
            .options(selectinload(CouncilDecision.award_type), selectinload(CouncilDecision.unit))
            .order_by(CouncilDecision.award_type_id, CouncilDecision.unit_id)
        )
    )
