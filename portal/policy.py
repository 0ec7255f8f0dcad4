"""Every permission decision of the portal, in plain Python.

A `Principal` is what the portal knows of the signed-in user: their kind and,
for a unit's user, where that unit stands in each year (member, head or deputy
of which cluster); for a council member, which clusters they oversee. It is
loaded once per request (see `portal.services.platform.principals`), so `can()` never
touches the database and is tested directly.

Two answers are distinct, as in the views: `sees()` is about scope (outside it,
the object does not exist for this user: 404); `can()` is about action (inside
the scope but not allowed: 403).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from portal.models.criteria import SetStatus
from portal.models.results import Basis
from portal.models.scoring import RoundKind, RoundStatus, Stage
from portal.models.users import UserKind
from portal.models.years import PositionRole

SECRETARIAT_ACTIONS = frozenset(
    {
        "manage_units",
        "manage_clusters",
        "manage_years",
        "manage_memberships",
        "manage_terms",
        "manage_council",
        "manage_users",
        "import_export",
        "view_audit",
        "view_directory",
        "manage_templates",
        "manage_quotas",  # award quotas of every cluster and the year's vote rules
        "decide_proposals",  # the council's vote and the chairman's decision; the Government flag shortlist
    }
)
# What the head of a cluster does for its year, and what its deputy may do in its stead.
HEAD_ACTIONS = frozenset(
    {
        "lead_cluster",
        "edit_criteria",
        "edit_pledge",
        "confirm_signature",
        "run_rounds",
        "run_meeting",
        "publish_results",
    }
)
# What every member unit (head and deputies included) does for itself in its cluster's year (vote_online: the
# meeting's online ballot, for the units marked present there, services.meetings.voting.attends).
MEMBER_ACTIONS = frozenset({"sign_pledge", "register_targets", "self_assess", "vote_online"})
# Who follows a cluster's progress (who has submitted what): its leaders, its overseer, the secretariat.
FOLLOWERS = frozenset({"secretariat", "overseer", PositionRole.HEAD, PositionRole.DEPUTY})


class ClusterYear(NamedTuple):
    """A cluster in one year: the scope every cluster-level permission is about."""

    year_id: int
    cluster_id: int


@dataclass(frozen=True)
class Principal:
    kind: str  # a UserKind, or "anonymous"
    user_id: int | None = None
    unit_id: int | None = None
    council_member_id: int | None = None
    memberships: frozenset[ClusterYear] = field(default_factory=frozenset)
    offices: dict[ClusterYear, str] = field(default_factory=dict)  # a PositionRole
    oversees: frozenset[ClusterYear] = field(default_factory=frozenset)

    @property
    def is_secretariat(self) -> bool:
        return self.kind == UserKind.SECRETARIAT

    @property
    def is_council(self) -> bool:
        return self.kind == UserKind.COUNCIL

    def office_in(self, scope: ClusterYear) -> str | None:
        return self.offices.get(scope)

    def role_in(self, scope: ClusterYear) -> str | None:
        """head, deputy, member, overseer, council, secretariat, or None."""
        if self.is_secretariat:
            return "secretariat"
        if self.is_council:
            return "overseer" if scope in self.oversees else "council"
        if scope in self.offices:
            return self.offices[scope]
        return "member" if scope in self.memberships else None


ANONYMOUS = Principal(kind="anonymous")


def sees(principal: Principal, scope: ClusterYear) -> bool:
    """May this user know that the cluster-year exists and read it?"""
    return principal.role_in(scope) is not None


def can(principal: Principal, action: str, scope: ClusterYear | None = None, *, deputy_may_lead: bool = False) -> bool:
    """May this user perform `action` (on the cluster-year `scope`, where it has one)?"""
    if principal.kind == "anonymous":
        return False
    if action in SECRETARIAT_ACTIONS:
        return principal.is_secretariat
    if action == "view_cluster":
        return scope is not None and sees(principal, scope)
    if action in HEAD_ACTIONS:
        office = principal.office_in(scope) if scope is not None else None
        return office == PositionRole.HEAD or (office == PositionRole.DEPUTY and deputy_may_lead)
    if action == "correct_results":  # a correction of published results: the head (or its deputy) or the secretariat
        return principal.is_secretariat or can(principal, "publish_results", scope, deputy_may_lead=deputy_may_lead)
    if action in MEMBER_ACTIONS:
        return scope is not None and principal.kind == UserKind.UNIT and scope in principal.memberships
    if action in ("view_drafts", "view_progress"):  # drafts of criteria and pledge; who submitted what
        return scope is not None and principal.role_in(scope) in FOLLOWERS
    if action in ("view_clusters", "view_dashboard"):  # the list of every cluster; the council's dashboard
        return principal.is_secretariat or principal.is_council
    if action == "view_templates":  # the province's published criteria templates
        return True
    raise ValueError(f"unknown action: {action}")


MEETING_DOCUMENTS = frozenset({"minutes", "proposal", "annual", "achievement"})


def meeting_document_permission(
    principal: Principal, document: str, scope: ClusterYear, *, unit_id: int | None = None, closed: bool = False
) -> bool:
    """May the user download a year-end document of the cluster-year's meeting?

    Its followers (head, deputies, overseer, secretariat) every one; a member unit the minutes once the
    meeting has ended, and its own achievement report.
    """
    if document not in MEETING_DOCUMENTS:
        raise ValueError(f"unknown document: {document}")
    role = principal.role_in(scope)
    if role in FOLLOWERS:
        return True
    if role is None or principal.kind != UserKind.UNIT:
        return False
    if document == "minutes":
        return closed
    return document == "achievement" and unit_id is not None and unit_id == principal.unit_id


def criteria_permission(
    principal: Principal, action: str, *, scope: ClusterYear | None, status: str, deputy_may_lead: bool = False
) -> bool:
    """May the user 'view' or 'edit' a criteria set? `scope` None is a province template.

    Drafts are seen only by those who build or oversee them; published and locked
    sets by everyone who sees the cluster-year; templates once published by everyone.
    """
    if principal.kind == "anonymous":
        return False
    if scope is None:
        return principal.is_secretariat or (action == "view" and status != SetStatus.DRAFT)
    if action == "view":
        return can(principal, "view_drafts", scope) if status == SetStatus.DRAFT else sees(principal, scope)
    return can(principal, "edit_criteria", scope, deputy_may_lead=deputy_may_lead)


# Stages whose rows are written by the cluster's leadership rather than by their author unit.
LEAD_STAGES = frozenset({Stage.VERIFIED, Stage.FINAL})


@dataclass(frozen=True)
class AssessmentFacts:
    """What a permission decision needs to know of one assessment (see models.scoring.Assessment)."""

    scope: ClusterYear
    stage: str  # a Stage
    author_unit_id: int
    subject_unit_id: int
    submitted: bool
    round_closed: bool = False


def assessment_permission(
    principal: Principal, action: str, facts: AssessmentFacts, *, deputy_may_lead: bool = False
) -> bool:
    """May the user 'view' or 'edit' one assessment (its scores, explanations and evidence)?

    The author writes it: its own unit for self-scores, reviews and explanations; the
    cluster's leadership for verification and the final (agreed) score. Until it is
    submitted nobody else reads it: a unit never sees another unit's draft. Once
    submitted, everyone in the cluster-year reads it, except peer reviews, which only
    the leadership, the overseer and the secretariat read until the round closes (so
    reviewers never see each other's scores while reviewing).
    """
    if action not in ("view", "edit"):
        raise ValueError(f"unknown assessment action: {action}")
    scope = facts.scope
    if facts.stage in LEAD_STAGES:
        writes = can(principal, "run_rounds", scope, deputy_may_lead=deputy_may_lead)
    else:
        writes = (
            principal.kind == UserKind.UNIT
            and principal.unit_id == facts.author_unit_id
            and scope in principal.memberships
        )
    if action == "edit" or writes:
        return writes
    if not facts.submitted or not sees(principal, scope):
        return False
    if facts.stage == Stage.PEER and not facts.round_closed:
        return principal.role_in(scope) in FOLLOWERS
    return True


# What the results of a cluster-year are computed with, and who decides it.
RESULTS_ACTIONS = frozenset({"edit_result_settings", "mark_not_applicable", "mark_ineligible", "edit_bands"})


def results_permission(
    principal: Principal, action: str, scope: ClusterYear | None = None, *, deputy_may_lead: bool = False
) -> bool:
    """May the user change what a cluster-year's results are computed with?

    The head (its deputies when the head lets them lead) chooses the settings of its cluster-year
    and marks the criteria that do not apply to a member. A unit not eligible for awards is marked
    by the secretariat or by the head of the cluster the unit belongs to that year (`scope` is that
    cluster-year). The bands of a year are the secretariat's (no scope).
    """
    if action not in RESULTS_ACTIONS:
        raise ValueError(f"unknown results action: {action}")
    if principal.kind == "anonymous":
        return False
    if action == "edit_bands":
        return principal.is_secretariat
    if action == "mark_ineligible" and principal.is_secretariat:
        return True
    return scope is not None and can(principal, "lead_cluster", scope, deputy_may_lead=deputy_may_lead)


# Who reads a cluster-year's results whatever the stage: its leaders, every council member, the secretariat.
RESULTS_READERS = frozenset({*FOLLOWERS, "council"})
PEER_BASES = frozenset({Basis.PEER_MEAN, Basis.TRIMMED_MEAN, Basis.MEDIAN, Basis.BLEND})


def sees_results(principal: Principal, scope: ClusterYear, *, basis: str, rounds: dict[str, str]) -> bool:
    """May the user read the cluster-year's results (ranking, explanations, Excel)? False: 404.

    `rounds` maps each round kind that exists in the cluster-year to its status. The head, the
    deputies, the overseer, every council member and the secretariat always read them; a member
    unit once every round feeding the basis is closed: the self round, the verification round when
    there is one, and the peer round for a basis made of peer scores (never peer scores before the
    peer round closes).
    """
    role = principal.role_in(scope)
    if role in RESULTS_READERS:
        return True
    if role != "member":
        return False
    feeding = [RoundKind.SELF, RoundKind.PEER] if basis in PEER_BASES else [RoundKind.SELF]
    if RoundKind.VERIFICATION in rounds:
        feeding.append(RoundKind.VERIFICATION)
    return all(rounds.get(kind) == RoundStatus.CLOSED for kind in feeding)
