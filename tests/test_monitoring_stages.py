"""The stage of a cluster-year, what is late and its completion: pure functions over a facts record."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.models.base import utcnow
from portal.services.monitoring.stages import Facts, RoundFacts, Stage, completion, late_items, stage_of

NOW = utcnow()  # the functions take the moment as an argument
TODAY = NOW.date()
PAST, FUTURE = NOW - timedelta(days=1), NOW + timedelta(days=1)


def rounds(**kinds) -> dict[str, RoundFacts]:
    return {kind: RoundFacts(*values) for kind, values in kinds.items()}


@pytest.mark.parametrize(
    ("facts", "stage"),
    [
        (Facts(), Stage.CRITERIA),
        (Facts(criteria_status="draft"), Stage.CRITERIA),
        (Facts(criteria_status="published"), Stage.PLEDGE),
        (Facts(criteria_status="locked", rounds=rounds(self=("draft",))), Stage.PLEDGE),
        (Facts(criteria_status="locked", rounds=rounds(self=("open",))), Stage.SELF),
        (Facts(criteria_status="locked", rounds=rounds(self=("closed",))), Stage.SELF),
        (Facts(criteria_status="locked", rounds=rounds(self=("open",), verification=("open",))), Stage.VERIFICATION),
        (Facts(criteria_status="locked", rounds=rounds(self=("open",), peer=("draft",))), Stage.SELF),
        (Facts(criteria_status="locked", rounds=rounds(self=("closed",), peer=("open",))), Stage.PEER),
        (Facts(criteria_status="locked", meeting_held=True), Stage.MEETING),
        (Facts(meeting_held=True, published=True), Stage.PUBLISHED),
        (Facts(meeting_held=True, published=True, council_decided=True), Stage.COUNCIL_DECISION),
    ],
)
def test_the_stage_is_the_furthest_step_reached(facts, stage):
    assert stage_of(facts) == stage


def test_stages_run_in_the_order_of_the_year_and_have_labels():
    assert [s.value for s in Stage] == [
        "criteria",
        "pledge",
        "self",
        "verification",
        "peer",
        "meeting",
        "published",
        "council_decision",
    ]
    assert all(s.label for s in Stage)


def test_a_round_past_its_deadline_with_units_out_is_late():
    facts = Facts(members=6, criteria_status="locked", rounds=rounds(self=("open", PAST, 6, 4)))
    assert [(i.code, i.count) for i in late_items(facts, NOW, TODAY)] == [("self", 2)]


@pytest.mark.parametrize(
    "self_round",
    [("open", FUTURE, 6, 4), ("open", None, 6, 4), ("open", PAST, 6, 6), ("closed", PAST, 6, 4)],
    ids=["before-deadline", "no-deadline", "all-in", "closed"],
)
def test_a_round_is_not_late_before_its_deadline_when_all_are_in_or_once_closed(self_round):
    facts = Facts(members=6, criteria_status="locked", rounds=rounds(self=self_round))
    assert late_items(facts, NOW, TODAY) == []


def test_a_unit_given_more_time_is_late_only_once_its_own_deadline_has_passed():
    extended = (NOW + timedelta(hours=2),)  # one of the two units still out has an extension
    facts = Facts(members=6, criteria_status="locked", rounds=rounds(self=("open", PAST, 6, 4, extended)))
    assert [(i.code, i.count) for i in late_items(facts, NOW, TODAY)] == [("self", 1)]
    later = NOW + timedelta(hours=3)
    assert [(i.code, i.count) for i in late_items(facts, later, later.date())] == [("self", 2)]


def test_an_extension_earlier_than_the_rounds_deadline_does_not_shorten_it():
    """The effective deadline is the later of the round's and the extension (the round may be moved later)."""
    early = (NOW - timedelta(hours=2),)
    facts = Facts(members=3, criteria_status="locked", rounds=rounds(self=("open", FUTURE, 3, 1, early)))
    assert late_items(facts, NOW, TODAY) == []


def test_an_extension_alone_is_a_deadline_in_a_round_without_one():
    passed, ahead = NOW - timedelta(hours=1), NOW + timedelta(hours=1)
    facts = Facts(members=4, criteria_status="locked", rounds=rounds(peer=("open", None, 6, 2, (passed, ahead))))
    assert [(i.code, i.count) for i in late_items(facts, NOW, TODAY)] == [("peer", 1)]


def test_peer_and_verification_lateness_count_reviews():
    facts = Facts(
        members=3,
        criteria_status="locked",
        rounds=rounds(self=("closed", PAST, 3, 3), verification=("open", PAST, 3, 1), peer=("open", PAST, 6, 5)),
    )
    assert [(i.code, i.count) for i in late_items(facts, NOW, TODAY)] == [("verification", 2), ("peer", 1)]


def test_targets_and_signatures_are_due_at_the_signing_meeting_or_once_scoring_starts():
    waiting = Facts(members=5, criteria_status="published", pledge=True, signed=3, missing_targets=2)
    assert late_items(waiting, NOW, TODAY) == []  # no meeting date, scoring not started
    met = Facts(**{**waiting.__dict__, "pledge_meeting": TODAY - timedelta(days=1)})
    assert [(i.code, i.count) for i in late_items(met, NOW, TODAY)] == [("targets", 2), ("signatures", 2)]
    upcoming = Facts(**{**waiting.__dict__, "pledge_meeting": TODAY + timedelta(days=3)})
    assert late_items(upcoming, NOW, TODAY) == []
    scoring = Facts(**{**waiting.__dict__, "rounds": rounds(self=("open", FUTURE, 5, 0))})
    assert {i.code for i in late_items(scoring, NOW, TODAY)} == {"targets", "signatures"}
    assert all(i.label for i in late_items(scoring, NOW, TODAY))


def test_completion_counts_signatures_submissions_and_reviews():
    facts = Facts(
        members=4,
        pledge=True,
        signed=3,
        rounds=rounds(self=("open", None, 4, 2), verification=("open", None, 2, 1), peer=("open", None, 12, 6)),
    )
    done = completion(facts)
    assert (done["signed"].done, done["signed"].total) == (3, 4)
    assert (done["submitted"].done, done["submitted"].total) == (2, 4)
    assert (done["reviews"].done, done["reviews"].total) == (7, 14)
    assert done["reviews"].share == 0.5
    empty = completion(Facts())
    assert empty["reviews"].share == 0.0 and empty["signed"].total == 0
