"""Every URL rule × every role against an explicit table of what each role gets.

A new route without an entry here fails `test_every_route_has_an_entry`. Denials must be
exact: 302 to the sign-in page for anonymous users, 404 outside the user's scope (the
object does not exist for them), 403 inside it. "ok" means none of those.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal import create_app
from portal.models import (
    Assessment,
    AuditEntry,
    Criterion,
    Membership,
    NotApplicable,
    PledgeSignature,
    ScoringRound,
    UserSession,
)
from portal.policy import ClusterYear
from portal.services.meetings import awards, record
from portal.services.pledges import agreements as pledges
from portal.services.results import eligibility
from tests import factories
from tests.conftest import IsolatedClient
from tests.signin import put_in_cookie, session_token

ROLES = ("anonymous", "outsider", "member", "deputy", "head", "overseer", "council", "secretariat")
UNIT_ROLES = ("member", "deputy", "head")
IN_SCOPE = ("member", "deputy", "head", "overseer", "council", "secretariat")
OK, LOGIN, PUBLIC = "ok", "login", "public"


def expect(ok=(), **codes) -> dict[str, object]:
    """Allowed roles get OK; anonymous is sent to sign in; the rest 403 unless given."""
    table = {role: 403 for role in ROLES}
    table["anonymous"] = LOGIN
    table.update({role: OK for role in ok})
    table.update(codes)
    return table


SECRETARIAT = expect(ok=("secretariat",))
SIGNED_IN = expect(ok=ROLES[1:])
SCOPED_READ = expect(ok=IN_SCOPE, outsider=404)
LEAD = expect(ok=("head",), outsider=404)
FOLLOW = expect(ok=("head", "deputy", "overseer", "secretariat"), outsider=404)
HEAD_OR_SECRETARIAT = expect(ok=("head", "secretariat"))
MEMBER_ACTION = expect(ok=UNIT_ROLES, outsider=404)
EVERYONE = {role: PUBLIC for role in ROLES}
VOTER = expect(ok=("member",), outsider=404)  # a member unit marked present at the meeting
OWN_DRAFT = {role: 404 for role in ROLES} | {"anonymous": LOGIN, "member": OK}
COUNCIL_VIEW = expect(ok=("overseer", "council", "secretariat"))
COUNCIL_STREAM = expect(overseer=404, council=404, secretariat=404)  # tests run without Redis (conftest's app)
# a progress page's event stream: whoever reads the page (outsider 404), then 404 without Redis
# (test_live_progress.py checks it with Redis: the page's readers get the stream, an outsider 404)
SCOPED_STREAM = expect(**{role: 404 for role in ("outsider", *IN_SCOPE)})
# The JSON API (/api/v1) is called with each role's bearer token (see _api_request), never a session:
# anonymous gets 401 problem+json there, not a redirect to the sign-in page.
API_SIGNED_IN = SIGNED_IN | {"anonymous": 401}
API_SCOPED_READ = SCOPED_READ | {"anonymous": 401}
API_OWN_DRAFT = OWN_DRAFT | {"anonymous": 401}
# results: a member reads them once the rounds feeding the basis are closed (here the self round is open)
RESULTS_READ = expect(ok=("deputy", "head", "overseer", "council", "secretariat"), outsider=404, member=404)

# (endpoint, method): (url template, expectations). Templates use the ids of the `ids` fixture.
MATRIX = {
    ("home.index", "GET"): ("/", SIGNED_IN),
    ("auth.login", "GET"): ("/login", EVERYONE),
    ("auth.login", "POST"): ("/login", EVERYONE),
    ("auth.logout", "POST"): ("/logout", {role: 303 for role in ROLES} | {"anonymous": LOGIN}),  # 303 to /login
    ("auth.change_password", "GET"): ("/password", SIGNED_IN),
    ("auth.change_password", "POST"): ("/password", SIGNED_IN),
    ("auth.set_language", "POST"): ("/language/en", EVERYONE),
    # each user's own sign-in sessions; {user_session} is the member's (ending it signs the member out)
    ("auth.sessions_page", "GET"): ("/account/sessions", SIGNED_IN),
    ("auth.end_other_sessions", "POST"): ("/account/sessions/end-others", SIGNED_IN),
    ("auth.end_session", "POST"): ("/account/sessions/{user_session}/end", OWN_DRAFT),
    # organisation: the secretariat's
    ("units.index", "GET"): ("/units/", SECRETARIAT),
    ("units.create", "POST"): ("/units/", SECRETARIAT),
    ("units.show", "GET"): ("/units/{unit}", SECRETARIAT),
    ("units.row", "GET"): ("/units/{unit}/row", SECRETARIAT),
    ("units.edit", "GET"): ("/units/{unit}/edit", SECRETARIAT),
    ("units.edit", "POST"): ("/units/{unit}/edit", SECRETARIAT),
    ("units.rename", "POST"): ("/units/{unit}/rename", SECRETARIAT),
    ("units.merge", "POST"): ("/units/{unit}/merge", SECRETARIAT),
    ("units.retire", "POST"): ("/units/{unit}/retire", SECRETARIAT),
    ("clusters.index", "GET"): ("/clusters/", expect(ok=("overseer", "council", "secretariat"))),
    ("clusters.show", "GET"): ("/clusters/{cluster}?year=2026", SCOPED_READ),
    ("clusters.create", "POST"): ("/clusters/", SECRETARIAT),
    ("clusters.edit", "GET"): ("/clusters/{cluster}/edit", SECRETARIAT),
    ("clusters.edit", "POST"): ("/clusters/{cluster}/edit", SECRETARIAT),
    ("clusters.add_member", "POST"): ("/clusters/{cluster}/members?year=2026", SECRETARIAT),
    ("clusters.remove_member", "POST"): ("/clusters/memberships/{membership}/delete", SECRETARIAT),
    ("clusters.move_member", "POST"): ("/clusters/memberships/{membership}/move", SECRETARIAT),
    ("clusters.edit_term", "GET"): ("/clusters/{cluster}/term?year=2026", SECRETARIAT),
    ("clusters.edit_term", "POST"): ("/clusters/{cluster}/term?year=2026", SECRETARIAT),
    ("years.index", "GET"): ("/years/", SECRETARIAT),
    ("years.create", "POST"): ("/years/", SECRETARIAT),
    ("years.show", "GET"): ("/years/2026", SECRETARIAT),
    ("years.make_current", "POST"): ("/years/2026/current", SECRETARIAT),
    ("years.start_next", "GET"): ("/years/2026/next", SECRETARIAT),
    ("years.start_next", "POST"): ("/years/2026/next", SECRETARIAT),
    ("results.settings_page", "GET"): ("/results/{cluster}/settings?year=2026", LEAD),
    ("results.save_settings", "POST"): ("/results/{cluster}/settings?year=2026", LEAD),
    ("results.eligibility_page", "GET"): ("/results/eligibility/2026", HEAD_OR_SECRETARIAT),
    ("results.mark_ineligible", "POST"): ("/results/eligibility/2026", HEAD_OR_SECRETARIAT),
    ("results.end_ineligibility", "POST"): ("/results/eligibility/cases/{ineligibility}/end", HEAD_OR_SECRETARIAT),
    ("results.not_applicable", "GET"): ("/results/{cluster}/not-applicable?year=2026", SCOPED_READ),
    ("results.mark_not_applicable", "POST"): ("/results/{cluster}/not-applicable?year=2026", LEAD),
    ("results.edit_not_applicable", "POST"): ("/results/not-applicable/{not_applicable}", LEAD),
    ("results.unmark_not_applicable", "POST"): ("/results/not-applicable/{not_applicable}/delete", LEAD),
    ("results.bands_page", "GET"): ("/results/bands/2026", SECRETARIAT),
    ("results.save_bands", "POST"): ("/results/bands/2026", SECRETARIAT),
    ("results.reset_bands", "POST"): ("/results/bands/2026/reset", SECRETARIAT),
    ("years.delete", "POST"): ("/years/2026/delete", SECRETARIAT),
    ("council.index", "GET"): ("/council/", SECRETARIAT),
    ("council.create", "POST"): ("/council/", SECRETARIAT),
    ("council.show", "GET"): ("/council/{council_member}", SECRETARIAT),
    ("council.row", "GET"): ("/council/{council_member}/row", SECRETARIAT),
    ("council.edit", "GET"): ("/council/{council_member}/edit", SECRETARIAT),
    ("council.edit", "POST"): ("/council/{council_member}/edit", SECRETARIAT),
    ("council.toggle_active", "POST"): ("/council/{council_member}/active", SECRETARIAT),
    ("accounts.index", "GET"): ("/accounts/", SECRETARIAT),
    ("accounts.create", "POST"): ("/accounts/", SECRETARIAT),
    ("accounts.show", "GET"): ("/accounts/{user}", SECRETARIAT),
    ("accounts.row", "GET"): ("/accounts/{user}/row", SECRETARIAT),
    ("accounts.edit", "GET"): ("/accounts/{user}/edit", SECRETARIAT),
    ("accounts.edit", "POST"): ("/accounts/{user}/edit", SECRETARIAT),
    ("accounts.reset_password", "POST"): ("/accounts/{user}/reset-password", SECRETARIAT),
    ("accounts.deactivate", "POST"): ("/accounts/{user}/deactivate", SECRETARIAT),
    ("accounts.reactivate", "POST"): ("/accounts/{user}/reactivate", SECRETARIAT),
    ("accounts.unit_accounts", "GET"): ("/accounts/unit-accounts", SECRETARIAT),
    ("accounts.create_unit_accounts", "POST"): ("/accounts/unit-accounts", SECRETARIAT),
    ("transfer.index", "GET"): ("/transfer/", SECRETARIAT),
    ("transfer.template", "GET"): ("/transfer/template.xlsx", SECRETARIAT),
    ("transfer.export", "GET"): ("/transfer/export.xlsx", SECRETARIAT),
    ("transfer.upload", "POST"): ("/transfer/import", SECRETARIAT),
    ("audit_log.index", "GET"): ("/audit-log/", SECRETARIAT),
    ("audit_log.show", "GET"): ("/audit-log/{audit_entry}", SECRETARIAT),
    # criteria: the cluster's published table; editing is the head's (deputies only when allowed)
    ("criteria.templates", "GET"): ("/criteria/templates", SIGNED_IN),
    ("criteria.create_template", "POST"): ("/criteria/templates", SECRETARIAT),
    ("criteria.for_cluster", "GET"): ("/criteria/{cluster}/2026", SCOPED_READ),
    ("criteria.start", "POST"): ("/criteria/{cluster}/2026", LEAD),
    ("criteria.delegation", "POST"): ("/criteria/{cluster}/2026/delegation", LEAD),
    ("criteria.show", "GET"): ("/criteria/sets/{criteria_set}", SCOPED_READ),
    ("criteria.print_set", "GET"): ("/criteria/sets/{criteria_set}/print", SCOPED_READ),
    ("criteria.export_xlsx", "GET"): ("/criteria/sets/{criteria_set}/export.xlsx", SCOPED_READ),
    ("criteria.settings", "POST"): ("/criteria/sets/{criteria_set}/settings", LEAD),
    ("criteria.add_item", "GET"): ("/criteria/sets/{criteria_set}/items", LEAD),
    ("criteria.add_item", "POST"): ("/criteria/sets/{criteria_set}/items", LEAD),
    ("criteria.edit_item", "GET"): ("/criteria/items/{criterion}/edit", LEAD),
    ("criteria.edit_item", "POST"): ("/criteria/items/{criterion}/edit", LEAD),
    ("criteria.move_item", "POST"): ("/criteria/items/{criterion}/move", LEAD),
    ("criteria.delete_item", "POST"): ("/criteria/items/{criterion}/delete", LEAD),
    ("criteria.import_xlsx", "POST"): ("/criteria/sets/{criteria_set}/import", LEAD),
    ("criteria.import_errors_xlsx", "POST"): ("/criteria/sets/{criteria_set}/import-errors.xlsx", LEAD),
    ("criteria.lifecycle", "POST"): ("/criteria/sets/{criteria_set}/lock", LEAD),
    ("criteria.confirm_lock", "GET"): ("/criteria/sets/{criteria_set}/lock", LEAD),
    ("criteria.new_version", "POST"): ("/criteria/sets/{criteria_set}/versions", LEAD),
    ("criteria.delete_set", "POST"): ("/criteria/sets/{criteria_set}/delete", LEAD),
    # the pledge: drafted by the head, signed by every member unit
    ("pledges.for_cluster", "GET"): ("/pledges/{cluster}/2026", SCOPED_READ),
    ("pledges.create", "POST"): ("/pledges/{cluster}/2026", LEAD),
    ("pledges.edit", "GET"): ("/pledges/{pledge}/edit", LEAD),
    ("pledges.edit", "POST"): ("/pledges/{pledge}/edit", LEAD),
    ("pledges.print_pledge", "GET"): ("/pledges/{pledge}/print", SCOPED_READ),
    ("pledges.export_docx", "GET"): ("/pledges/{pledge}/export.docx", SCOPED_READ),
    ("pledges.charter", "GET"): ("/pledges/{pledge}/charters/{charter}", SCOPED_READ),
    ("pledges.sign", "POST"): ("/pledges/{pledge}/sign", MEMBER_ACTION),
    ("pledges.confirm", "POST"): ("/pledges/signatures/{signature}/confirm", LEAD),
    ("pledges.targets", "GET"): ("/pledges/{cluster}/2026/targets", SCOPED_READ),
    ("pledges.register_target", "POST"): ("/pledges/targets/{quantitative}", MEMBER_ACTION),
    # evidence files (minh chứng) of the member's draft self-assessment: nobody else may know they exist
    ("evidence.for_criterion", "GET"): ("/evidence/assessments/{assessment}/criteria/{quantitative}", OWN_DRAFT),
    ("evidence.upload", "POST"): ("/evidence/assessments/{assessment}/criteria/{quantitative}", OWN_DRAFT),
    ("evidence.download", "GET"): ("/evidence/{evidence}", OWN_DRAFT),
    ("evidence.delete", "POST"): ("/evidence/{evidence}/delete", OWN_DRAFT),
    # peer review (chấm chéo): the page for everyone in scope; running the round is the head's
    ("reviews.for_cluster", "GET"): ("/reviews/{cluster}/2026", SCOPED_READ),
    ("reviews.stream", "GET"): ("/reviews/{cluster}/2026/live", SCOPED_STREAM),
    ("reviews.create", "POST"): ("/reviews/{cluster}/2026", LEAD),
    ("reviews.reassign", "POST"): ("/reviews/rounds/{peer_round}/reassign", LEAD),
    ("reviews.add_assignment", "POST"): ("/reviews/rounds/{peer_round}/assignments", LEAD),
    ("reviews.remove_assignment", "POST"): ("/reviews/assignments/{review_assignment}/delete", LEAD),
    ("reviews.open_round", "POST"): ("/reviews/rounds/{peer_round}/open", LEAD),
    ("reviews.deadline", "POST"): ("/reviews/rounds/{peer_round}/deadline", LEAD),
    ("reviews.close_round", "POST"): ("/reviews/rounds/{peer_round}/close", LEAD),
    # scoring: {assessment} is the member's self-assessment, still a draft: nobody else may know it exists
    ("scoring.for_cluster", "GET"): ("/scoring/{cluster}/2026", SCOPED_READ),
    ("scoring.stream", "GET"): ("/scoring/{cluster}/2026/live", SCOPED_STREAM),
    # the year-end meeting: everyone in scope reads it, the head runs it; quotas and vote rules: the secretariat
    ("meetings.show", "GET"): ("/meetings/{cluster}/2026", SCOPED_READ),
    ("meetings.open_meeting", "POST"): ("/meetings/{cluster}/2026/open", LEAD),
    ("meetings.save_record", "POST"): ("/meetings/{cluster}/2026/record", LEAD),
    ("meetings.mark_attendance", "POST"): ("/meetings/{cluster}/2026/attendance/{member_unit}", LEAD),
    ("meetings.add_guest", "POST"): ("/meetings/{cluster}/2026/guests", LEAD),
    ("meetings.remove_guest", "POST"): ("/meetings/{cluster}/2026/guests/{guest}/remove", LEAD),
    ("meetings.adjust", "POST"): ("/meetings/{cluster}/2026/adjustments", LEAD),
    ("meetings.settle_tie", "POST"): ("/meetings/{cluster}/2026/ties/1", LEAD),
    ("meetings.save_tally", "POST"): ("/meetings/{cluster}/2026/tallies/{award_type}", LEAD),
    ("meetings.undo_tally", "POST"): ("/meetings/{cluster}/2026/tallies/{award_type}/undo", LEAD),
    ("meetings.close", "POST"): ("/meetings/{cluster}/2026/close", LEAD),
    # the meeting's documents (open meeting, nobody proposed): its followers; a member the minutes once the
    # meeting has ended and its own achievement report (here refused with a message: it was not proposed)
    ("meetings.minutes_docx", "GET"): ("/meetings/{cluster}/2026/documents/minutes.docx", FOLLOW),
    ("meetings.proposal_docx", "GET"): ("/meetings/{cluster}/2026/documents/proposal.docx", FOLLOW),
    ("meetings.annual_docx", "GET"): ("/meetings/{cluster}/2026/documents/annual-report.docx", FOLLOW),
    ("meetings.achievement_docx", "GET"): (
        "/meetings/{cluster}/2026/documents/achievements/{member_unit}.docx",
        FOLLOW | {"member": OK},
    ),
    # the online ballot: the head opens and closes it (no quorum here: 422, still "ok"); the member is marked
    # present, so only it votes (422: no vote open); the head and deputy are absent (403)
    ("meetings.open_vote", "POST"): ("/meetings/{cluster}/2026/online/open", LEAD),
    ("meetings.close_vote", "POST"): ("/meetings/{cluster}/2026/online/close", LEAD),
    ("meetings.vote", "GET"): ("/meetings/{cluster}/2026/vote", VOTER),
    ("meetings.cast", "POST"): ("/meetings/{cluster}/2026/vote", VOTER | {"member": 404}),
    ("meetings.change", "POST"): ("/meetings/{cluster}/2026/vote/change", VOTER | {"member": 404}),
    ("meetings.receipt", "GET"): ("/meetings/{cluster}/2026/receipt", SCOPED_READ),
    ("meetings.receipt", "POST"): ("/meetings/{cluster}/2026/receipt", SCOPED_READ),
    ("publication.show", "GET"): ("/publication/{cluster}/2026", SCOPED_READ),
    ("publication.verify", "GET"): ("/publication/{cluster}/2026/verify", SCOPED_READ),
    ("publication.publish", "POST"): ("/publication/{cluster}/2026/publish", LEAD),
    ("publication.revise", "POST"): (
        "/publication/{cluster}/2026/revise",
        expect(ok=("head", "secretariat"), outsider=404),
    ),
    ("publication.council_page", "GET"): (
        "/publication/council/2026",
        expect(ok=("overseer", "council", "secretariat")),
    ),
    ("publication.decide", "POST"): (
        "/publication/council/2026/decide/{cluster}/{award_type}/{member_unit}",
        SECRETARIAT,
    ),
    ("publication.save_share", "POST"): ("/publication/council/2026/share", SECRETARIAT),
    ("publication.add_to_shortlist", "POST"): ("/publication/council/2026/shortlist", SECRETARIAT),
    ("publication.remove_from_shortlist", "POST"): (
        "/publication/council/2026/shortlist/{member_unit}/remove",
        SECRETARIAT,
    ),
    ("meetings.quotas_page", "GET"): ("/meetings/quotas/2026", SECRETARIAT),
    ("meetings.save_rules", "POST"): ("/meetings/quotas/2026/rules", SECRETARIAT),
    ("meetings.quota_row", "GET"): ("/meetings/quotas/2026/{cluster}/row", SECRETARIAT),
    ("meetings.edit_quotas", "GET"): ("/meetings/quotas/2026/{cluster}/edit", SECRETARIAT),
    ("meetings.edit_quotas", "POST"): ("/meetings/quotas/2026/{cluster}/edit", SECRETARIAT),
    ("results.show", "GET"): ("/results/{cluster}/2026", RESULTS_READ),
    ("results.print_view", "GET"): ("/results/{cluster}/2026/print", RESULTS_READ),
    ("results.unit", "GET"): ("/results/{cluster}/2026/units/{member_unit}", RESULTS_READ),
    ("results.excel", "GET"): ("/results/{cluster}/2026.xlsx", RESULTS_READ),
    # the council's dashboard: council members and the secretariat; its event stream needs Redis (else 404:
    # test_dashboard.py runs it with Redis)
    ("dashboard.index", "GET"): ("/dashboard/", COUNCIL_VIEW),
    ("dashboard.excel", "GET"): ("/dashboard/export.xlsx", COUNCIL_VIEW),
    ("dashboard.cluster", "GET"): (f"/dashboard/clusters/{{cluster}}/{factories.YEAR}", COUNCIL_VIEW),
    ("dashboard.unit", "GET"): ("/dashboard/units/{member_unit}", COUNCIL_VIEW),
    ("dashboard.stream", "GET"): ("/dashboard/live", COUNCIL_STREAM),
    ("scoring.open_round", "POST"): ("/scoring/{cluster}/2026/open", LEAD),
    ("scoring.round_deadline", "POST"): ("/scoring/rounds/{scoring_round}/deadline", LEAD),
    ("scoring.close_round", "POST"): ("/scoring/rounds/{scoring_round}/close", LEAD),
    ("scoring.remind", "POST"): ("/scoring/{cluster}/2026/remind", LEAD),  # the head: 400 without mail set up
    ("scoring.assessment", "GET"): ("/scoring/assessments/{assessment}", OWN_DRAFT),
    ("scoring.score_row", "GET"): ("/scoring/assessments/{assessment}/scores/{leaf}", OWN_DRAFT),
    ("scoring.save_score", "POST"): ("/scoring/assessments/{assessment}/scores/{leaf}", OWN_DRAFT),
    ("scoring.submit", "POST"): ("/scoring/assessments/{assessment}/submit", OWN_DRAFT),
    ("scoring.export_xlsx", "GET"): ("/scoring/assessments/{assessment}/export.xlsx", OWN_DRAFT),
    ("scoring.import_xlsx", "POST"): ("/scoring/assessments/{assessment}/import", OWN_DRAFT),
    ("scoring.return_assessment", "POST"): ("/scoring/assessments/{assessment}/return", LEAD),
    ("scoring.extend", "POST"): ("/scoring/assessments/{assessment}/extend", LEAD),
    ("scoring.verify", "POST"): ("/scoring/assessments/{assessment}/verify", LEAD),
    # finalising and explaining start from a verification: a self-assessment is not one (404 to those allowed)
    ("scoring.finalize", "POST"): ("/scoring/assessments/{assessment}/finalize", expect(outsider=404, head=404)),
    ("scoring.explain", "POST"): (
        "/scoring/assessments/{assessment}/explain",
        {r: 404 for r in ROLES} | {"anonymous": LOGIN},
    ),
    # the JSON API; {unit} is the outsider's unit, {assessment} the member's draft self-assessment
    ("api.openapi", "GET"): ("/api/v1/openapi.json", EVERYONE),
    ("api.me", "GET"): ("/api/v1/me", API_SIGNED_IN),
    ("api.years", "GET"): ("/api/v1/years", API_SIGNED_IN),
    ("api.units", "GET"): ("/api/v1/units", API_SIGNED_IN),
    ("api.unit", "GET"): ("/api/v1/units/{unit}", API_SCOPED_READ | {r: 404 for r in UNIT_ROLES} | {"outsider": OK}),
    ("api.clusters", "GET"): ("/api/v1/clusters", API_SIGNED_IN),
    ("api.cluster", "GET"): ("/api/v1/clusters/{cluster}", API_SCOPED_READ),
    ("api.cluster_year", "GET"): ("/api/v1/clusters/{cluster}/years/2026", API_SCOPED_READ),
    ("api.criteria_sets", "GET"): ("/api/v1/clusters/{cluster}/years/2026/criteria-sets", API_SCOPED_READ),
    ("api.criteria_set", "GET"): ("/api/v1/criteria-sets/{criteria_set}", API_SCOPED_READ),
    ("api.assessments", "GET"): ("/api/v1/clusters/{cluster}/years/2026/assessments", API_SCOPED_READ),
    ("api.cluster_results", "GET"): ("/api/v1/clusters/{cluster}/years/2026/results", API_SCOPED_READ),
    # the self round is open: a member reads the ranking only once the rounds feeding it are closed
    ("api.ranking", "GET"): ("/api/v1/clusters/{cluster}/years/2026/ranking", API_SCOPED_READ | {"member": 403}),
    ("api.assessment", "GET"): ("/api/v1/assessments/{assessment}", API_OWN_DRAFT),
    ("api.save_score", "PUT"): ("/api/v1/assessments/{assessment}/scores/{leaf}", API_OWN_DRAFT),
    ("api.submit", "POST"): ("/api/v1/assessments/{assessment}/submit", API_OWN_DRAFT),
    # each user's own API tokens; {api_token} is the member's
    ("api_tokens.index", "GET"): ("/account/tokens/", SIGNED_IN),
    ("api_tokens.create", "POST"): ("/account/tokens/", SIGNED_IN),
    ("api_tokens.revoke", "POST"): ("/account/tokens/{api_token}/revoke", OWN_DRAFT),
    # each user's own notices; {notice} is the member's; the unsubscribe link works without signing in
    ("notices.index", "GET"): ("/notices/", SIGNED_IN),
    ("notices.bell", "GET"): ("/notices/bell", SIGNED_IN),
    ("notices.open_notice", "POST"): ("/notices/{notice}/open", OWN_DRAFT),
    ("notices.read_all", "POST"): ("/notices/read-all", SIGNED_IN),
    ("notices.preferences", "POST"): ("/notices/preferences", SIGNED_IN),
    ("notices.unsubscribe", "GET"): ("/notices/unsubscribe/{unsubscribe_token}", EVERYONE),
    ("notices.unsubscribe", "POST"): ("/notices/unsubscribe/{unsubscribe_token}", EVERYONE),
}


def _cases():
    return sorted(MATRIX)


def test_every_route_has_an_entry():
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - set(MATRIX) == set(), "routes without an entry in the authorization matrix"
    assert set(MATRIX) - routes == set(), "entries for routes that no longer exist"


@pytest.fixture
def ids(world, app, tmp_path):
    from portal.extensions import db

    cset = factories.criteria_set(world)
    pledge = pledges.create(db.session, world.cluster, world.year)
    signature = pledges.sign(
        db.session,
        pledge,
        world.member,
        representative_name="Nguyễn Văn An",
        representative_position="Chủ tịch",
        signed_on=factories.past_date(3),
        user_id=None,
    )
    db.session.commit()
    quantitative = pledges.quantitative_items(db.session, cset)[0]
    scoring_round = ScoringRound(cluster_id=world.cluster.id, year_id=world.year.id, criteria_set=cset, kind="self")
    db.session.add(scoring_round)
    db.session.flush()
    assessment = Assessment(
        round_id=scoring_round.id,
        criteria_set_id=cset.id,
        subject_unit_id=world.member.id,
        author_unit_id=world.member.id,
    )
    db.session.add(assessment)
    db.session.commit()
    from portal.models import ReviewAssignment

    peer_round = ScoringRound(
        cluster_id=world.cluster.id, year_id=world.year.id, criteria_set=cset, kind="peer", status="draft"
    )
    db.session.add(peer_round)
    db.session.flush()
    review_assignment = ReviewAssignment(
        round_id=peer_round.id, reviewer_unit_id=world.member.id, subject_unit_id=world.deputy.id
    )
    db.session.add(review_assignment)
    db.session.commit()
    evidence = _evidence(app, tmp_path, assessment, quantitative)
    ineligibility = eligibility.mark(
        db.session,
        world.year,
        world.member,
        kind="inspection",
        reason="Đang thanh tra",
        starts_on=date(world.year.year, 1, 1),
        user_id=None,
    )
    not_applicable = NotApplicable(
        criteria_set_id=cset.id, criterion_id=quantitative.id, unit_id=world.member.id, reason="Không giao chỉ tiêu"
    )
    db.session.add(not_applicable)
    db.session.commit()
    meeting = record.open_meeting(
        db.session,
        ClusterYear(world.year.id, world.cluster.id),
        record.RecordFields(factories.past_date(1), "Hội trường", "Nguyễn Văn An", "Lê Thị Bình"),
        user_id=None,
    )
    guest = record.add_guest(db.session, meeting, "Khách mời", "Sở Nội vụ")
    record.mark(db.session, meeting, world.member.id, present=True, representative="Nguyễn Văn An", position="")
    award_type = awards.award_types(db.session)[0]
    db.session.commit()
    return {
        "not_applicable": not_applicable.id,
        "guest": guest.id,
        "award_type": award_type.id,
        "ineligibility": ineligibility.id,
        "unit": world.outsider.id,
        "member_unit": world.member.id,
        "cluster": world.cluster.id,
        "membership": db.session.scalar(select(Membership.id).where(Membership.unit_id == world.member.id)),
        "council_member": world.other_council.id,
        "user": world.users["council"].id,
        "audit_entry": db.session.scalar(select(AuditEntry.id).limit(1)),
        "criteria_set": cset.id,
        "criterion": db.session.scalar(select(Criterion.id).where(Criterion.code == "2")),
        "quantitative": quantitative.id,
        "pledge": pledge.id,
        "signature": signature.id,
        "charter": db.session.scalar(select(PledgeSignature.charter_hash)),
        "scoring_round": scoring_round.id,
        "assessment": assessment.id,
        "leaf": db.session.scalar(select(Criterion.id).where(Criterion.code == "2")),
        "peer_round": peer_round.id,
        "review_assignment": review_assignment.id,
        "evidence": evidence.id,
        "users": {role: user.id for role, user in world.users.items()},
        "sessions": {role: session_token(user.id) for role, user in world.users.items()},
        "user_session": db.session.scalar(
            select(UserSession.id).where(UserSession.user_id == world.users["member"].id)
        ),
        **_api_tokens(world),
        **_notices(world, app),
    }


def _evidence(app, tmp_path, assessment, criterion):
    """A PDF attached to a criterion of the assessment (not the one criteria.delete_item deletes), stored
    under this test's own folder."""
    from io import BytesIO

    from portal.extensions import db
    from portal.services.scoring import evidence

    app.config["EVIDENCE_FOLDER"] = str(tmp_path / "evidence")
    record = evidence.store(
        db.session,
        assessment,
        criterion,
        "bao-cao.pdf",
        BytesIO(b"%PDF-1.4\n%%EOF\n"),
        folder=app.config["EVIDENCE_FOLDER"],
        max_bytes=1024,
        max_files=10,
        user_id=None,
    )
    db.session.commit()
    return record


def _api_tokens(world) -> dict:
    """A bearer secret per role for the API's entries, and the member's token for api_tokens.revoke."""
    from portal.extensions import db
    from portal.services.platform import api_tokens

    created = {role: api_tokens.create(db.session, user, "Ma trận quyền") for role, user in world.users.items()}
    db.session.commit()
    return {"tokens": {role: secret for role, (_, secret) in created.items()}, "api_token": created["member"][0].id}


def _notices(world, app) -> dict:
    """A notice of the member's (the criteria table published made it) and the member's unsubscribe token."""
    from portal.extensions import db
    from portal.models import Notification
    from portal.services.notices import digest

    member = world.users["member"]
    notice = db.session.scalar(select(Notification.id).where(Notification.user_id == member.id).limit(1))
    return {"notice": notice, "unsubscribe_token": digest.unsubscribe_token(app.config["SECRET_KEY"], member.id)}


def _api_request(app, role: str, ids: dict, method: str, url: str):
    """An API call as `role`: its bearer token (none for anonymous), a JSON body for PUT."""
    app.test_client_class = IsolatedClient
    headers = {"Authorization": f"Bearer {ids['tokens'][role]}"} if role != "anonymous" else {}
    if method == "PUT":
        return app.test_client().put(url, json={"value": "1"}, headers=headers)
    return app.test_client().open(url, method=method, headers=headers)


def _client_as(app, role: str, ids: dict):
    app.test_client_class = IsolatedClient  # its own app context per request, as in production
    client = app.test_client()
    if role != "anonymous":
        put_in_cookie(client, ids["users"][role], ids["sessions"][role])
    return client


def _check(response, expected, role: str, url: str, method: str) -> None:
    status, location = response.status_code, response.headers.get("Location", "")
    where = f"{method} {url} as {role}: {status} {location}"
    assert status < 500, where
    if url.startswith("/api/v1/") and status >= 400:  # the API's errors are problem+json, for every role
        assert response.mimetype == "application/problem+json", where
    if expected == PUBLIC:
        return
    if expected == LOGIN:
        assert status == 302 and "/login" in location, where
    elif expected == OK:
        assert status not in (401, 403, 404) and "/login" not in location, where
    else:
        assert status == expected, where


@pytest.mark.parametrize("endpoint, method", _cases())
def test_route_by_role(app, ids, endpoint, method):
    template, expected = MATRIX[(endpoint, method)]
    url = template.format(**ids)
    # denied roles first: an allowed POST may change data (delete, retire) that later checks rely on
    for role in sorted(ROLES, key=lambda r: expected[r] in (OK, PUBLIC)):
        if endpoint.startswith("api."):
            response = _api_request(app, role, ids, method, url)
        else:
            client = _client_as(app, role, ids)
            response = client.get(url) if method == "GET" else client.post(url, data={})
        _check(response, expected[role], role, url, method)
