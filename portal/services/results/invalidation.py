"""Which cluster-years' results a stretch of the audit log may have changed.

Every audited write leaves an entry naming its object (type and id). Between two data versions the
caches of results (`results.cache`: the dashboard's standings, the results pages' reports) read those
entries and map them to cluster-years: a score, an assessment, a round, a
review assignment, a registered target, a criterion, a criteria set, a results setting, a
non-applicable mark or a membership to the cluster-year it belongs to (one grouped query per kind
present). Objects that never change a ranking (accounts, sessions, evidence files, the pledge and its
signatures, terms, council members, a cluster's details other than its kind, a unit's details other
than its name) are passed over.
Anything else — a deleted row (its cluster may be gone from the joins), a row moved to another
cluster-year (`MOVES`: the one it left is no longer in the joins), a unit renamed, a cluster's
kind changed (its bands are its kind's), a band rule,
an ineligibility, more entries than `LIMIT` — answers `EVERYTHING`, and every ranking is computed
again: never stale, only slower.

A cache of rendered pages (`portal.fragments`) shows more than rankings: it names the object types it
shows besides (`shown`: `SHOWN_SCOPES`, e.g. a unit's users' e-mail addresses in a reminder, the evidence
files on a form, a cluster's name), and their entries count for it.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import (
    Assessment,
    AuditEntry,
    AuditSeal,
    CriteriaSet,
    Criterion,
    Evidence,
    Membership,
    NotApplicable,
    ReviewAssignment,
    Score,
    ScoringRound,
    TargetRegistration,
    User,
)
from portal.models.results import ResultSettings
from portal.policy import ClusterYear

EVERYTHING = None
LIMIT = 5000
ROW_ACTIONS = frozenset({"create", "update", "delete"})
NEVER_RANKED = frozenset(
    {"User", "ApiToken", "Evidence", "Pledge", "PledgeSignature", "Term", "TermPosition", "CouncilMember"}
)

# the columns that place a row in its cluster-year: a row moved from one to another touches the one it
# left too, which its current place does not tell
MOVES = frozenset({"year_id", "cluster_id", "round_id", "assessment_id", "set_id", "criteria_set_id", "unit_id"})

# object type → (its id column, the select of (year id, cluster id) that the id filters)
SCOPES = {
    "Score": (
        Score.id,
        select(ScoringRound.year_id, ScoringRound.cluster_id)
        .join(Assessment, Assessment.round_id == ScoringRound.id)
        .join(Score, Score.assessment_id == Assessment.id),
    ),
    "Assessment": (
        Assessment.id,
        select(ScoringRound.year_id, ScoringRound.cluster_id).join(Assessment, Assessment.round_id == ScoringRound.id),
    ),
    "ScoringRound": (ScoringRound.id, select(ScoringRound.year_id, ScoringRound.cluster_id)),
    "ReviewAssignment": (
        ReviewAssignment.id,
        select(ScoringRound.year_id, ScoringRound.cluster_id).join(
            ReviewAssignment, ReviewAssignment.round_id == ScoringRound.id
        ),
    ),
    "TargetRegistration": (TargetRegistration.id, select(TargetRegistration.year_id, TargetRegistration.cluster_id)),
    "CriteriaSet": (CriteriaSet.id, select(CriteriaSet.year_id, CriteriaSet.cluster_id)),
    "Criterion": (
        Criterion.id,
        select(CriteriaSet.year_id, CriteriaSet.cluster_id).join(Criterion, Criterion.set_id == CriteriaSet.id),
    ),
    "NotApplicable": (
        NotApplicable.id,
        select(CriteriaSet.year_id, CriteriaSet.cluster_id).join(
            NotApplicable, NotApplicable.criteria_set_id == CriteriaSet.id
        ),
    ),
    "ResultSettings": (ResultSettings.id, select(ResultSettings.year_id, ResultSettings.cluster_id)),
    "Membership": (Membership.id, select(Membership.year_id, Membership.cluster_id)),
}


# objects that change no ranking but that rendered pages show: they count for a cache that names them
SHOWN_SCOPES = {
    "User": (  # its e-mail address in a reminder: every cluster-year its unit was a member of
        User.id,
        select(Membership.year_id, Membership.cluster_id).join(User, User.unit_id == Membership.unit_id),
    ),
    "Evidence": (
        Evidence.id,
        select(ScoringRound.year_id, ScoringRound.cluster_id)
        .join(Assessment, Assessment.round_id == ScoringRound.id)
        .join(Evidence, Evidence.assessment_id == Assessment.id),
    ),
    "Cluster": (Membership.cluster_id, select(Membership.year_id, Membership.cluster_id)),  # its name, any year
}


def _passed_over(action: str, object_type: str, changes: dict, shown: frozenset[str] = frozenset()) -> bool:
    """Does this entry leave every result (and every shown object named in `shown`) as it was?"""
    if object_type in shown:
        return action not in ROW_ACTIONS
    if action not in ROW_ACTIONS or object_type in NEVER_RANKED:
        return True  # sign-ins, reminders sent, imports' own entries name no ranked row
    if object_type == "Unit":
        return action == "update" and "name" not in changes  # a result holds a unit's name, nothing else of it
    if object_type == "Cluster":  # a new cluster has no results; its code and name are not in them, its kind is
        return action == "create" or (action == "update" and "kind" not in changes)
    return False


def touched(
    session: Session,
    after: int,
    upto: int,
    shown: frozenset[str] = frozenset(),
    ignored: frozenset[str] = frozenset(),
) -> set[ClusterYear] | None:
    """The cluster-years whose ranking (or the objects of `shown`, `SHOWN_SCOPES`) the audit entries sealed
    after position `after` up to `upto` (data versions: `platform.live.data_version`) may have changed;
    `EVERYTHING` (None) when that cannot be told cheaply. Seal positions, not entry ids: an entry committed
    late has a low id but a new position. Entries on the object types of `ignored` are passed over, whatever
    their action: a cache whose values never show those objects names them (`read.FRAME_IGNORES`)."""
    scopes = SCOPES | {name: SHOWN_SCOPES[name] for name in shown}
    entries = session.execute(
        select(AuditEntry.action, AuditEntry.object_type, AuditEntry.object_id, AuditEntry.changes)
        .join(AuditSeal, AuditSeal.entry_id == AuditEntry.id)
        .where(AuditSeal.position > after, AuditSeal.position <= upto)
        .limit(LIMIT + 1)
    ).all()
    if len(entries) > LIMIT:
        return EVERYTHING
    ids: dict[str, set[int]] = defaultdict(set)
    for action, object_type, object_id, changes in entries:
        if object_type in ignored:
            continue
        if _passed_over(action, object_type, changes or {}, shown):
            continue
        if object_type not in scopes or action == "delete" or not object_id.isdigit():
            return EVERYTHING
        if action == "update" and MOVES & (changes or {}).keys():
            return EVERYTHING
        ids[object_type].add(int(object_id))
    found = set()
    for object_type, wanted in ids.items():
        column, query = scopes[object_type]
        rows = session.execute(query.where(column.in_(sorted(wanted))).distinct())
        found.update(ClusterYear(year_id, cluster_id) for year_id, cluster_id in rows if cluster_id is not None)
    return found
