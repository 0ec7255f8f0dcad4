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
from portal.models import AuditEntry, Criterion, Membership, PledgeSignature
from portal.services import pledges
from tests import factories
from tests.conftest import IsolatedClient

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
MEMBER_ACTION = expect(ok=UNIT_ROLES, outsider=404)
EVERYONE = {role: PUBLIC for role in ROLES}

# (endpoint, method): (url template, expectations). Templates use the ids of the `ids` fixture.
MATRIX = {
    ("home.index", "GET"): ("/", SIGNED_IN),
    ("auth.login", "GET"): ("/login", EVERYONE),
    ("auth.login", "POST"): ("/login", EVERYONE),
    ("auth.logout", "POST"): ("/logout", {role: 303 for role in ROLES} | {"anonymous": LOGIN}),  # 303 to /login
    ("auth.change_password", "GET"): ("/password", SIGNED_IN),
    ("auth.change_password", "POST"): ("/password", SIGNED_IN),
    ("auth.set_language", "POST"): ("/language/en", EVERYONE),
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
    ("criteria.lifecycle", "POST"): ("/criteria/sets/{criteria_set}/lock", LEAD),
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
def ids(world):
    from portal.extensions import db

    cset = factories.criteria_set(world)
    pledge = pledges.create(db.session, world.cluster, world.year)
    signature = pledges.sign(
        db.session,
        pledge,
        world.member,
        representative_name="Nguyễn Văn An",
        representative_position="Chủ tịch",
        signed_on=date(2026, 1, 15),
        user_id=None,
    )
    db.session.commit()
    quantitative = pledges.quantitative_items(db.session, cset)[0]
    return {
        "unit": world.outsider.id,
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
        "users": {role: user.id for role, user in world.users.items()},
    }


def _client_as(app, role: str, ids: dict):
    app.test_client_class = IsolatedClient  # its own app context per request, as in production
    client = app.test_client()
    if role != "anonymous":
        with client.session_transaction() as session:
            session["_user_id"] = str(ids["users"][role])
            session["_fresh"] = True
    return client


def _check(response, expected, role: str, url: str, method: str) -> None:
    status, location = response.status_code, response.headers.get("Location", "")
    where = f"{method} {url} as {role}: {status} {location}"
    assert status < 500, where
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
        client = _client_as(app, role, ids)
        response = client.get(url) if method == "GET" else client.post(url, data={})
        _check(response, expected[role], role, url, method)
