"""What a publication freezes, read from the database: the engine's input, the meeting's changes, ties,
tallies and nominations, the online ballots (choices and receipt hashes, no voter), the record, and the
SHA-256 of the criteria version and of the pledge charter.

`freeze(session, meeting)` returns the plain data (no computed numbers); `compose.compose` adds them.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Ballot, ReviewMeeting, TieDecision, VoteWindow
from portal.models.online_votes import WindowStatus
from portal.models.results import Basis
from portal.policy import ClusterYear
from portal.services.criteria import sets as criteria_svc
from portal.services.meetings import approved, ballot, record
from portal.services.pledges import agreements
from portal.services.publication import codec
from portal.services.results import report as report_svc
from portal.services.results import scope
from portal.services.results.read import read_cluster


def _num(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def criteria_hash(session: Session, where: ClusterYear) -> str | None:
    """The SHA-256 of the canonical criteria tree the cluster-year's results are computed on."""
    cset = scope.table_set(session, where)
    if cset is None:
        return None
    tree = criteria_svc.load_tree(session, cset)
    items = [
        [n.id, depth, n.code, n.title, n.kind, n.method, _num(tree.maxima[n.id]), _num(n.points_each)]
        for n, depth in tree.walk()
    ]
    head = [cset.id, cset.version, cset.title, _num(cset.target_total), cset.deduction_capped]
    return codec.digest({"set": head, "items": items})


def criteria_names(session: Session, where: ClusterYear) -> list[list]:
    """Each criterion of the table: [id, its path (I.2.a), its title], for the pages that read a snapshot."""
    cset = scope.table_set(session, where)
    if cset is None:
        return []
    tree = criteria_svc.load_tree(session, cset)
    paths = tree.paths()
    return [[n.id, paths.get(n.id, n.code), n.title] for n, _depth in tree.walk()]


def charter_hash(session: Session, where: ClusterYear) -> str | None:
    pledge = agreements.find(session, where.cluster_id, where.year_id)
    return agreements.current_hash(session, pledge) if pledge is not None else None


def _tallies(session: Session, meeting: ReviewMeeting) -> list[dict]:
    keys = ("round", "source", "issued", "returned", "valid", "invalid", "present", "members", "quota")
    return [
        {
            "award": t.award_type.code,
            **{k: getattr(t, k) for k in keys},
            "threshold": t.threshold,
            "threshold_base": t.threshold_base,
            "committee": t.committee,
            "counts": {str(c.unit_id): c.votes for c in t.counts},
        }
        for t in ballot.tallies(session, meeting)
    ]


def _nominations(session: Session, meeting: ReviewMeeting) -> list[dict]:
    return [
        {
            "award": n.award_type.code,
            "award_name": n.award_type.name,
            "leader_only": n.award_type.leader_only,
            "unit_id": n.unit_id,
            "name": n.unit.name,
            "votes": n.votes,
            "denominator": n.denominator,
            "outcome": n.outcome,
            "round": n.round,
            "source": n.source,
            "rank": n.rank,
        }
        for n in ballot.nominations(session, meeting)
    ]


def _online_ballots(session: Session, meeting: ReviewMeeting) -> list[dict]:
    """Each closed online vote window's ballots per award: choices and receipt hashes, never a voter.

    Sorted by receipt hash (random), so the order says nothing about who voted when; one query.
    """
    rows = session.execute(
        select(VoteWindow.number, Ballot)
        .join(Ballot, Ballot.window_id == VoteWindow.id)
        .where(VoteWindow.meeting_id == meeting.id, VoteWindow.status == WindowStatus.CLOSED)
    ).all()
    windows: dict[int, dict[str, dict]] = {}
    for number, row in rows:
        awards = windows.setdefault(number, {})
        entry = awards.setdefault(
            row.award_type.code, {"award": row.award_type.code, "award_name": row.award_type.name, "ballots": []}
        )
        entry["ballots"].append({"receipt_sha256": row.receipt_hash, "choices": sorted(row.choices)})
    for awards in windows.values():
        for entry in awards.values():
            entry["ballots"].sort(key=lambda b: (b["receipt_sha256"], b["choices"]))
    return [
        {"window": number, "awards": [awards[code] for code in sorted(awards)]}
        for number, awards in sorted(windows.items())
    ]


def freeze(session: Session, meeting: ReviewMeeting) -> dict:
    """Everything the published numbers are computed from, and what the meeting decided on them."""
    where = ClusterYear(meeting.year_id, meeting.cluster_id)
    detail = report_svc.basis_of(session, where) == Basis.MEDIAN
    quorum = record.quorum(session, meeting)
    ties = session.scalars(select(TieDecision).where(TieDecision.meeting_id == meeting.id))
    return {
        "cluster": {"id": meeting.cluster_id, "name": meeting.cluster.name, "kind": meeting.cluster.kind},
        "year": meeting.year.year,
        "meeting": {
            "held_on": meeting.held_on.isoformat(),
            "place": meeting.place,
            "chair": meeting.chair,
            "secretary": meeting.secretary,
            "members": quorum.members,
            "present": quorum.present,
        },
        "criteria_sha256": criteria_hash(session, where),
        "charter_sha256": charter_hash(session, where),
        "criteria": criteria_names(session, where),
        "input": codec.encode(read_cluster(session, where.cluster_id, where.year_id, detail=detail)),
        "adjustments": [
            {
                "unit_id": a.unit_id,
                "criterion_id": a.criterion_id,
                "code": a.criterion.code,
                "engine_points": str(a.engine_points),
                "points": str(a.points),
                "reason": a.reason,
            }
            for a in approved.adjustments(session, meeting)
        ],
        "ties": sorted(
            ({"unit_id": t.unit_id, "place": t.place, "votes": t.votes} for t in ties), key=lambda t: t["unit_id"]
        ),
        "tallies": _tallies(session, meeting),
        "nominations": _nominations(session, meeting),
        "online_ballots": _online_ballots(session, meeting),
    }
