"""The council's dashboard: every cluster and block of a year in one table, read in a fixed number of queries.

`read_facts` gathers, for every cluster of the year at once, what `stages` computes from: the table
in force, the pledge and its signatures, registered targets, the rounds and how many of their
assessments are in, the year-end meeting, the published results and the council's decisions on them
(each a grouped query over the year, never one per cluster). `rows` joins them to
the clusters' terms (head, deputies, overseer, decision) and to each ranking (`standings`, cached by
data version), so the page's query count does not grow with the number of clusters or units.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import (
    Assessment,
    AwardType,
    Charter,
    CouncilDecision,
    CriteriaSet,
    Criterion,
    EmulationYear,
    Membership,
    Pledge,
    PledgeSignature,
    ResultSnapshot,
    ReviewMeeting,
    ScoringRound,
    TargetRegistration,
)
from portal.models.criteria import Method, SetStatus
from portal.models.meetings import Outcome
from portal.models.scoring import AssessmentStatus, RoundKind
from portal.models.scoring import Stage as AssessmentStage
from portal.policy import ClusterYear
from portal.services.monitoring.stages import (
    Completion,
    Facts,
    Late,
    Proposal,
    RoundFacts,
    Stage,
    completion,
    late_items,
    stage_of,
)
from portal.services.monitoring.standings import ClusterStanding, StandingCache
from portal.services.org.overview import ClusterSummary, cluster_summaries


@dataclass
class Row:
    """One cluster-year of the dashboard."""

    summary: ClusterSummary
    facts: Facts
    stage: Stage
    late: list[Late]
    done: dict[str, Completion]
    standing: ClusterStanding | None
    search_key: str = ""

    @property
    def cluster(self):
        return self.summary.cluster

    @property
    def term(self):
        return self.summary.term

    @property
    def overseer(self):
        return self.term.overseer if self.term else None

    @property
    def late_count(self) -> int:
        return sum(item.count for item in self.late)

    @property
    def leader(self):
        return self.standing.leader if self.standing else None

    @property
    def shared_lead(self) -> int:
        """How many units share first place (1 when the leader is alone)."""
        return len(self.standing.leaders) if self.leader else 0


@dataclass
class Board:
    year: EmulationYear
    rows: list[Row] = field(default_factory=list)


def read_board(
    session: Session, year: EmulationYear, cache: StandingCache, version: int, now: datetime, today: date
) -> Board:
    """Every cluster of the year with its facts, stage, lateness, completion and ranking."""
    summaries = cluster_summaries(session, year)
    facts = read_facts(session, year, {s.cluster.id: s.member_count for s in summaries})
    wheres = [ClusterYear(year.id, s.cluster.id) for s in summaries]
    ranked = cache.get_many(session, [w for w in wheres if facts[w.cluster_id].criteria_status], version)
    board = Board(year)
    for summary, where in zip(summaries, wheres, strict=True):
        found = facts[where.cluster_id]
        board.rows.append(
            Row(
                summary,
                found,
                stage_of(found),
                late_items(found, now, today),
                completion(found),
                ranked.get(where),
            )
        )
    return board


def read_facts(session: Session, year: EmulationYear, members: dict[int, int]) -> dict[int, Facts]:
    """cluster id → Facts, for every cluster given (cluster id → member count): twelve grouped queries."""
    sets = _sets(session, year)
    quantitative = _quantitative(session, [set_id for set_id, _status in sets.values()])
    missing = _missing_targets(session, year, sets, quantitative)
    pledges = _pledges(session, year)
    rounds = _rounds(session, year)
    meetings = set(session.scalars(select(ReviewMeeting.cluster_id).where(ReviewMeeting.year_id == year.id)))
    published = _proposals(session, year)
    decided = _decided(session, year)
    found = {}
    for cluster_id, count in members.items():
        set_id, status = sets.get(cluster_id, (None, None))
        pledge = pledges.get(cluster_id)
        verdicts = decided.get(cluster_id, {})
        nominated = tuple(replace(p, verdict=verdicts.get((p.award, p.unit_id))) for p in published.get(cluster_id, ()))
        found[cluster_id] = Facts(
            members=count,
            criteria_status=status,
            pledge=pledge is not None,
            pledge_meeting=pledge[0] if pledge else None,
            signed=pledge[1] if pledge else 0,
            quantitative=len(quantitative.get(set_id, ())),
            missing_targets=missing.get(cluster_id, 0),
            rounds=rounds.get(cluster_id, {}),
            meeting_held=cluster_id in meetings,
            published=cluster_id in published,
            council_decided=bool(nominated) and all(p.verdict for p in nominated),
            proposals=nominated,
        )
    return found


def _proposals(session: Session, year: EmulationYear) -> dict[int, list[Proposal]]:
    """cluster id → its published proposals (the elected nominations), as the latest revision has them."""
    latest = (
        select(ResultSnapshot.cluster_id, func.max(ResultSnapshot.revision).label("revision"))
        .where(ResultSnapshot.year_id == year.id)
        .group_by(ResultSnapshot.cluster_id)
        .subquery()
    )
    rows = session.execute(
        select(ResultSnapshot.cluster_id, ResultSnapshot.content)
        .join(
            latest,
            (latest.c.cluster_id == ResultSnapshot.cluster_id) & (latest.c.revision == ResultSnapshot.revision),
        )
        .where(ResultSnapshot.year_id == year.id)
    )
    return {
        cluster_id: [
            Proposal(n["award"], n["award_name"], n["unit_id"], n["name"])
            for n in json.loads(content)["nominations"]
            if n["outcome"] == Outcome.ELECTED
        ]
        for cluster_id, content in rows
    }


def _decided(session: Session, year: EmulationYear) -> dict[int, dict[tuple[str, int], str]]:
    """cluster id → (award code, unit id) → the council's verdict, for the proposals it has decided this year."""
    found = defaultdict(dict)
    for cluster_id, code, unit_id, verdict in session.execute(
        select(CouncilDecision.cluster_id, AwardType.code, CouncilDecision.unit_id, CouncilDecision.verdict)
        .join(AwardType, AwardType.id == CouncilDecision.award_type_id)
        .where(CouncilDecision.year_id == year.id)
    ):
        found[cluster_id][code, unit_id] = verdict
    return found


def _sets(session: Session, year: EmulationYear) -> dict[int, tuple[int, str]]:
    """cluster id → (id, status) of its criteria set in force this year."""
    rows = session.execute(
        select(CriteriaSet.cluster_id, CriteriaSet.id, CriteriaSet.status).where(
            CriteriaSet.year_id == year.id, CriteriaSet.status != SetStatus.SUPERSEDED
        )
    )
    return {cluster_id: (set_id, status) for cluster_id, set_id, status in rows}


def _quantitative(session: Session, set_ids: list[int]) -> dict[int, set[int]]:
    """set id → its quantitative criteria (each needs a target from every member)."""
    found = defaultdict(set)
    if set_ids:
        rows = session.execute(
            select(Criterion.set_id, Criterion.id).where(
                Criterion.set_id.in_(set_ids), Criterion.method == Method.QUANTITATIVE
            )
        )
        for set_id, criterion_id in rows:
            found[set_id].add(criterion_id)
    return found


def _missing_targets(session: Session, year, sets, quantitative) -> dict[int, int]:
    """cluster id → members missing a (non-zero) target on some quantitative criterion of its table."""
    wanted = {cluster_id: quantitative.get(set_id, set()) for cluster_id, (set_id, _s) in sets.items()}
    if not any(wanted.values()):
        return {}
    registered = defaultdict(int)
    for unit_id, cluster_id, criterion_id in session.execute(
        select(TargetRegistration.unit_id, TargetRegistration.cluster_id, TargetRegistration.criterion_id).where(
            TargetRegistration.year_id == year.id,
            TargetRegistration.target.is_not(None),
            TargetRegistration.target != 0,
        )
    ):
        if criterion_id in wanted.get(cluster_id, ()):
            registered[unit_id] += 1
    missing = defaultdict(int)
    for cluster_id, unit_id in session.execute(
        select(Membership.cluster_id, Membership.unit_id).where(Membership.year_id == year.id)
    ):
        if wanted.get(cluster_id) and registered[unit_id] < len(wanted[cluster_id]):
            missing[cluster_id] += 1
    return missing


def _pledges(session: Session, year: EmulationYear) -> dict[int, tuple[date | None, int]]:
    """cluster id → (signing meeting date, members whose latest signature is for the newest charter)."""
    pledges = {
        pledge_id: (cluster_id, meeting)
        for pledge_id, cluster_id, meeting in session.execute(
            select(Pledge.id, Pledge.cluster_id, Pledge.meeting_date).where(Pledge.year_id == year.id)
        )
    }
    charters = session.execute(
        select(Charter.pledge_id, Charter.hash)
        .join(Pledge, Pledge.id == Charter.pledge_id)
        .where(Pledge.year_id == year.id)
        .order_by(Charter.created_at, Charter.hash)
    )
    newest = dict(charters.all())  # the last charter of each pledge wins
    latest: dict[tuple[int, int], str] = {}
    for pledge_id, unit_id, charter_hash in session.execute(
        select(PledgeSignature.pledge_id, PledgeSignature.unit_id, PledgeSignature.charter_hash)
        .join(Pledge, Pledge.id == PledgeSignature.pledge_id)
        .where(Pledge.year_id == year.id)
        .order_by(PledgeSignature.id)
    ):
        latest[pledge_id, unit_id] = charter_hash
    signed = defaultdict(int)
    for (pledge_id, _unit_id), charter_hash in latest.items():
        signed[pledge_id] += charter_hash == newest.get(pledge_id)
    return {cluster_id: (meeting, signed[pledge_id]) for pledge_id, (cluster_id, meeting) in pledges.items()}


def _rounds(session: Session, year: EmulationYear) -> dict[int, dict[str, RoundFacts]]:
    """cluster id → round kind → its status, deadline, assessments expected and submitted, and the own
    deadlines (extensions) of those still out — all from one grouped count.

    Self: one per member, submitted self-assessments. Verification: one per unit whose self-assessment
    is in, submitted verifications. Peer: every assigned review, submitted reviews."""
    rounds = session.execute(
        select(
            ScoringRound.id, ScoringRound.cluster_id, ScoringRound.kind, ScoringRound.status, ScoringRound.deadline
        ).where(ScoringRound.year_id == year.id)
    ).all()
    counts = defaultdict(lambda: [0, 0])  # (round id, stage) → [all, submitted]
    extensions = defaultdict(list)  # (round id, stage) → own deadlines of the assessments still out
    for round_id, stage, status, until, n in session.execute(
        select(Assessment.round_id, Assessment.stage, Assessment.status, Assessment.extended_until, func.count())
        .join(ScoringRound, ScoringRound.id == Assessment.round_id)
        .where(ScoringRound.year_id == year.id)
        .group_by(Assessment.round_id, Assessment.stage, Assessment.status, Assessment.extended_until)
    ):
        counts[round_id, stage][0] += n
        counts[round_id, stage][1] += n if status == AssessmentStatus.SUBMITTED else 0
        if until is not None and status != AssessmentStatus.SUBMITTED:
            extensions[round_id, stage] += [until] * n
    found: dict[int, dict[str, RoundFacts]] = defaultdict(dict)
    self_in = {}
    for round_id, cluster_id, kind, _status, _deadline in rounds:
        if kind == RoundKind.SELF:
            self_in[cluster_id] = counts[round_id, AssessmentStage.SELF][1]
    for round_id, cluster_id, kind, status, deadline in rounds:
        stage = {RoundKind.SELF: AssessmentStage.SELF, RoundKind.VERIFICATION: AssessmentStage.VERIFIED}.get(kind)
        key = round_id, stage or AssessmentStage.PEER
        total, submitted = counts[key]
        expected = self_in.get(cluster_id, 0) if kind == RoundKind.VERIFICATION else total
        found[cluster_id][kind] = RoundFacts(status, deadline, expected, submitted, tuple(sorted(extensions[key])))
    return found
