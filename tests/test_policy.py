"""portal.policy decides every permission: tested directly, role by action."""

import pytest

from portal.policy import (
    ANONYMOUS,
    SECRETARIAT_ACTIONS,
    AssessmentFacts,
    ClusterYear,
    Principal,
    assessment_permission,
    can,
    sees,
)

HERE = ClusterYear(year_id=1, cluster_id=10)
OTHER_CLUSTER = ClusterYear(year_id=1, cluster_id=20)
LAST_YEAR = ClusterYear(year_id=0, cluster_id=10)

PRINCIPALS = {
    "anonymous": ANONYMOUS,
    "secretariat": Principal(kind="secretariat", user_id=1),
    "overseer": Principal(kind="council", user_id=2, council_member_id=1, oversees=frozenset({HERE})),
    "council": Principal(kind="council", user_id=3, council_member_id=2),
    "head": Principal(
        kind="unit", user_id=4, unit_id=1, memberships=frozenset({HERE, LAST_YEAR}), offices={HERE: "head"}
    ),
    "deputy": Principal(kind="unit", user_id=5, unit_id=2, memberships=frozenset({HERE}), offices={HERE: "deputy"}),
    "member": Principal(kind="unit", user_id=6, unit_id=3, memberships=frozenset({HERE})),
    "outsider": Principal(kind="unit", user_id=7, unit_id=4, memberships=frozenset({OTHER_CLUSTER})),
}

# action -> roles allowed (on HERE where the action has a scope)
EXPECTED = {
    **{action: {"secretariat"} for action in SECRETARIAT_ACTIONS},
    "view_clusters": {"secretariat", "overseer", "council"},
    "view_cluster": {"secretariat", "overseer", "council", "head", "deputy", "member"},
    "lead_cluster": {"head"},  # deputies only when the head allows it (below)
    "edit_criteria": {"head"},  # deputies only when the head allows it (below)
    "edit_pledge": {"head"},  # deputies only when the head allows it (below)
    "confirm_signature": {"head"},  # deputies only when the head allows it (below)
    "run_rounds": {"head"},  # deputies only when the head allows it (below)
    "run_meeting": {"head"},  # deputies only when the head allows it (below)
    "self_assess": {"head", "deputy", "member"},
    "view_progress": {"secretariat", "overseer", "head", "deputy"},
    "sign_pledge": {"head", "deputy", "member"},
    "register_targets": {"head", "deputy", "member"},
    "vote_online": {"head", "deputy", "member"},  # and only when marked present (services.meetings.online)
    "view_drafts": {"secretariat", "overseer", "head", "deputy"},
    "view_templates": {"secretariat", "overseer", "council", "head", "deputy", "member", "outsider"},
}


@pytest.mark.parametrize("role", PRINCIPALS)
@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_role_by_action(role, action):
    assert can(PRINCIPALS[role], action, HERE) is (role in EXPECTED[action])


def test_authority_is_per_year_and_cluster():
    head = PRINCIPALS["head"]
    assert can(head, "lead_cluster", HERE)
    assert not can(head, "lead_cluster", LAST_YEAR)  # a member last year, head only this year
    assert not can(head, "lead_cluster", OTHER_CLUSTER)
    assert sees(head, LAST_YEAR) and not sees(head, OTHER_CLUSTER)


def test_deputy_leads_only_when_the_head_allows_it():
    assert can(PRINCIPALS["deputy"], "lead_cluster", HERE, deputy_may_lead=True)
    assert not can(PRINCIPALS["deputy"], "lead_cluster", HERE, deputy_may_lead=False)
    assert can(PRINCIPALS["head"], "lead_cluster", HERE, deputy_may_lead=False)


def test_roles_in_scope():
    assert [
        PRINCIPALS[r].role_in(HERE)
        for r in ("secretariat", "overseer", "council", "head", "deputy", "member", "outsider")
    ] == ["secretariat", "overseer", "council", "head", "deputy", "member", None]


def test_outsider_sees_its_own_cluster_only():
    outsider = PRINCIPALS["outsider"]
    assert sees(outsider, OTHER_CLUSTER) and not sees(outsider, HERE)


def test_member_actions_are_for_its_own_cluster_year():
    assert not can(PRINCIPALS["outsider"], "sign_pledge", HERE)
    assert can(PRINCIPALS["outsider"], "sign_pledge", OTHER_CLUSTER)
    assert not can(PRINCIPALS["head"], "register_targets", ClusterYear(year_id=2, cluster_id=10))


def test_lead_cluster_needs_a_scope():
    assert not can(PRINCIPALS["head"], "lead_cluster")


def test_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError):
        can(PRINCIPALS["secretariat"], "launch_rockets")


def _facts(stage="self", author=3, subject=3, submitted=False, closed=False):
    return AssessmentFacts(
        HERE, stage, author_unit_id=author, subject_unit_id=subject, submitted=submitted, round_closed=closed
    )


def _readers(facts, action="view", **kw):
    return {role for role, p in PRINCIPALS.items() if assessment_permission(p, action, facts, **kw)}


def test_a_draft_self_assessment_is_its_units_alone():
    assert _readers(_facts()) == {"member"}
    assert _readers(_facts(), "edit") == {"member"}


def test_a_submitted_self_assessment_is_read_in_scope_and_edited_by_nobody_else():
    assert _readers(_facts(submitted=True)) == {"secretariat", "overseer", "council", "head", "deputy", "member"}
    assert _readers(_facts(submitted=True), "edit") == {"member"}  # the service refuses edits once submitted


def test_peer_reviews_stay_hidden_from_other_reviewers_until_the_round_closes():
    review = _facts(stage="peer", author=2, subject=3, submitted=True)
    assert _readers(review) == {"secretariat", "overseer", "head", "deputy"}  # the deputy authored it
    closed = _facts(stage="peer", author=2, subject=3, submitted=True, closed=True)
    assert "member" in _readers(closed) and "outsider" not in _readers(closed)
    assert _readers(_facts(stage="peer", author=2, subject=3)) == {"deputy"}  # a draft review: its author only


def test_verification_is_written_by_the_leadership():
    draft = _facts(stage="verified", author=1, subject=3)
    assert _readers(draft, "edit") == {"head"}
    assert _readers(draft, "edit", deputy_may_lead=True) == {"head", "deputy"}
    assert "member" not in _readers(draft)  # the unit sees the verification once it is sent
    assert "member" in _readers(_facts(stage="verified", author=1, subject=3, submitted=True))


def test_an_explanation_is_written_by_the_assessed_unit():
    assert _readers(_facts(stage="explanation", author=3, subject=3), "edit") == {"member"}


def test_unknown_assessment_action_is_a_programming_error():
    with pytest.raises(ValueError):
        assessment_permission(PRINCIPALS["member"], "delete", _facts())
