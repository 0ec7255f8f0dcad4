"""Loading an assessment for the signed-in user: 404 when they may not read it, 403 when they may not write it."""

from __future__ import annotations

from flask import abort

from portal.access import current_principal, deputy_may_lead, get_or_404
from portal.models import Assessment
from portal.policy import AssessmentFacts, ClusterYear, assessment_permission


def facts_of(assessment: Assessment) -> AssessmentFacts:
    scoring_round = assessment.round
    return AssessmentFacts(
        scope=ClusterYear(scoring_round.year_id, scoring_round.cluster_id),
        stage=assessment.stage,
        author_unit_id=assessment.author_unit_id,
        subject_unit_id=assessment.subject_unit_id,
        submitted=assessment.status == "submitted",
        round_closed=scoring_round.status == "closed",
    )


def assessment_allows(assessment: Assessment, action: str) -> bool:
    facts = facts_of(assessment)
    return assessment_permission(current_principal(), action, facts, deputy_may_lead=deputy_may_lead(facts.scope))


def load_assessment(assessment_id: int, action: str = "view") -> tuple[Assessment, ClusterYear]:
    """The assessment if the user may `action` ('view' or 'edit') it. A draft of another unit does not exist (404)."""
    assessment = get_or_404(Assessment, assessment_id)
    if not assessment_allows(assessment, "view"):
        abort(404)
    if action == "edit" and not assessment_allows(assessment, "edit"):
        abort(403)
    return assessment, facts_of(assessment).scope
