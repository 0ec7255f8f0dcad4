"""Stored codes (stages, statuses, kinds): each is a labelled enum, and its CHECK constraint is built from it."""

import re

import pytest
from sqlalchemy import CheckConstraint

import portal.models  # noqa: F401  (every table in the metadata)
from portal.extensions import db
from portal.models.base import LabelledEnum, one_of
from portal.models.criteria import CriterionKind, Method, SetStatus
from portal.models.meetings import (
    MeetingKind,
    MeetingStatus,
    Outcome,
    QuorumRule,
    Threshold,
    ThresholdBase,
    VoteSource,
)
from portal.models.notices import NoticeKind
from portal.models.online_votes import WindowStatus
from portal.models.org import SECTORS, ClusterKind, CouncilRole, Sector, UnitChangeKind
from portal.models.publication import Verdict
from portal.models.results import (
    BandCode,
    Basis,
    FloorLevel,
    IneligibilityKind,
    NonParticipation,
    ScaleMode,
    TieBreaker,
)
from portal.models.scoring import AssessmentStatus, AssignmentMode, RoundKind, RoundStatus, Stage
from portal.models.users import UserKind
from portal.models.years import PositionRole
from portal.services.monitoring.stages import Stage as MonitoringStage

# (table, column) → the enum its CHECK constraint keeps it to
CONSTRAINED = {
    ("units", "sector"): Sector,
    ("clusters", "kind"): ClusterKind,
    ("council_members", "council_role"): CouncilRole,
    ("unit_changes", "kind"): UnitChangeKind,
    ("criteria_sets", "status"): SetStatus,
    ("criteria", "kind"): CriterionKind,
    ("criteria", "method"): Method,
    ("scoring_rounds", "kind"): RoundKind,
    ("scoring_rounds", "status"): RoundStatus,
    ("scoring_rounds", "assignment_mode"): AssignmentMode,
    ("assessments", "stage"): Stage,
    ("assessments", "status"): AssessmentStatus,
    ("term_positions", "role"): PositionRole,
    ("users", "kind"): UserKind,
    ("result_settings", "basis"): Basis,
    ("result_settings", "scale_mode"): ScaleMode,
    ("result_settings", "non_participation"): NonParticipation,
    ("result_settings", "floor_level"): FloorLevel,
    ("band_rules", "code"): BandCode,
    ("band_rules", "cluster_kind"): ClusterKind,
    ("ineligibilities", "kind"): IneligibilityKind,
    ("notifications", "kind"): NoticeKind,
    ("vote_rules", "quorum"): QuorumRule,
    ("vote_rules", "threshold"): Threshold,
    ("vote_rules", "threshold_base"): ThresholdBase,
    ("review_meetings", "kind"): MeetingKind,
    ("review_meetings", "status"): MeetingStatus,
    ("tallies", "source"): VoteSource,
    ("tallies", "threshold"): Threshold,
    ("tallies", "threshold_base"): ThresholdBase,
    ("vote_windows", "status"): WindowStatus,
    ("nominations", "outcome"): Outcome,
    ("nominations", "source"): VoteSource,
    ("council_decisions", "verdict"): Verdict,
}
# stored inside a JSON column, checked by its service (results/settings.py) rather than by a constraint
# never stored: tie-breakers live in JSON, a cluster-year's stage on the dashboard is computed
UNCONSTRAINED = {TieBreaker, MonitoringStage}
IN_LIST = re.compile(r"(\w+) IN \(([^)]*)\)")


def _in_lists() -> dict[tuple[str, str], list[str]]:
    """(table, column) → the codes of each `column IN (…)` CHECK constraint of the schema, as the SQL reads."""
    found = {}
    for table in db.metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint):
                for column, codes in IN_LIST.findall(str(constraint.sqltext)):
                    found[(table.name, column)] = [code.strip().strip("'") for code in codes.split(",")]
    return found


def test_every_list_of_codes_in_the_schema_comes_from_an_enum():
    assert sorted(_in_lists()) == sorted(CONSTRAINED)
    assert set(LabelledEnum.__subclasses__()) == set(CONSTRAINED.values()) | UNCONSTRAINED


@pytest.mark.parametrize(("where", "codes"), CONSTRAINED.items(), ids=[f"{t}.{c}" for t, c in CONSTRAINED])
def test_an_enum_holds_exactly_the_codes_its_constraint_allows(where, codes):
    assert _in_lists()[where] == [member.value for member in codes]


@pytest.mark.parametrize(
    "codes", sorted(set(CONSTRAINED.values()) | UNCONSTRAINED, key=lambda e: e.__name__), ids=lambda e: e.__name__
)
def test_every_code_has_its_own_vietnamese_label(codes):
    labels = [member.label for member in codes]
    assert all(label.strip() for label in labels)
    assert len(set(labels)) == len(labels)  # the Excel imports read a label back to its code
    assert codes.labels() == dict(zip(codes, labels, strict=True))


def test_the_constraint_text_is_the_one_the_migrations_created():
    assert one_of("stage", Stage) == "stage IN ('self', 'peer', 'verified', 'explanation', 'final')"
    assert one_of("role", PositionRole) == "role IN ('head', 'deputy')"


def test_a_stored_code_is_equal_to_its_member():
    assert Stage("verified") is Stage.VERIFIED and Stage.VERIFIED == "verified"
    assert f"{AssessmentStatus.SUBMITTED}" == "submitted"
    assert SECTORS["other"] == Sector.OTHER.label == "Khác"
