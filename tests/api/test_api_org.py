"""The API's organisation resources by role: units, clusters, years, a cluster's year, criteria tables.

Also the API's common behaviour: bearer tokens only, problem+json errors, pagination, flat query counts.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import ApiToken
from portal.models.base import utcnow
from portal.services.org import cluster_year, years
from tests import factories
from tests.api.conftest import assert_problem


def _names(response) -> set[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item["name"] for item in response.get_json()["items"]}


CLUSTER_1 = {"UBND phường An Bình", "UBND phường Mỹ Trà", "UBND xã Tân Hồng"}
EVERY_UNIT = CLUSTER_1 | {"Sở Công Thương"}


@pytest.mark.parametrize(
    "role, expected",
    [
        ("secretariat", EVERY_UNIT),
        ("council", EVERY_UNIT),  # a council member reads every cluster
        ("overseer", EVERY_UNIT),
        ("head", CLUSTER_1),
        ("member", CLUSTER_1),
        ("outsider", {"Sở Công Thương"}),
    ],
)
def test_units_are_those_of_the_clusters_one_sees(api, role, expected):
    assert _names(api(role).get("/api/v1/units")) == expected


def test_a_unit_outside_ones_clusters_does_not_exist(api, world):
    assert api("member").get(f"/api/v1/units/{world.head.id}").get_json()["name"] == "UBND phường An Bình"
    assert_problem(api("member").get(f"/api/v1/units/{world.outsider.id}"), 404)
    assert_problem(api("outsider").get(f"/api/v1/units/{world.member.id}"), 404)
    assert api("secretariat").get(f"/api/v1/units/{world.outsider.id}").status_code == 200


def test_units_of_a_year(api, world):
    years.create_year(db.session, 2027)
    db.session.commit()
    assert _names(api("secretariat").get("/api/v1/units?year=2026")) == EVERY_UNIT
    assert _names(api("secretariat").get("/api/v1/units?year=2027")) == set()
    assert _names(api("secretariat").get("/api/v1/units?year=2030")) == set()  # no such year: nothing
    body = assert_problem(api("secretariat").get("/api/v1/units?year=abc"), 422)
    assert "year" in body["errors"]


@pytest.mark.parametrize(
    "role, expected",
    [
        ("secretariat", {"Cụm thi đua số 1", "Khối các sở"}),
        ("council", {"Cụm thi đua số 1", "Khối các sở"}),
        ("member", {"Cụm thi đua số 1"}),
        ("outsider", {"Khối các sở"}),
    ],
)
def test_clusters_by_role(api, role, expected):
    assert _names(api(role).get("/api/v1/clusters")) == expected


def test_clusters_filtered_by_kind_and_one_cluster(api, world):
    assert _names(api("secretariat").get("/api/v1/clusters?kind=block")) == {"Khối các sở"}
    assert_problem(api("secretariat").get("/api/v1/clusters?kind=other"), 422)
    body = api("member").get(f"/api/v1/clusters/{world.cluster.id}").get_json()
    assert body == {
        "id": world.cluster.id,
        "kind": "cluster",
        "code": world.cluster.code,
        "name": "Cụm thi đua số 1",
        "description": "",
        "active": True,
    }
    assert_problem(api("member").get(f"/api/v1/clusters/{world.other_cluster.id}"), 404)


def test_years(api):
    body = api("member").get("/api/v1/years").get_json()
    assert [(y["year"], y["is_current"]) for y in body["items"]] == [(2026, True)]


def test_a_cluster_year_gives_members_and_term(api, world):
    url = f"/api/v1/clusters/{world.cluster.id}/years/2026"
    body = api("member").get(url).get_json()
    assert body["year"] == 2026 and body["cluster"]["id"] == world.cluster.id
    assert body["term"]["decision_number"] == "12/QĐ-HĐTĐKT"
    assert body["term"]["decision_date"] == "2026-01-15"
    assert body["term"]["head_unit_id"] == world.head.id
    assert body["term"]["deputy_unit_ids"] == [world.deputy.id]
    assert body["term"]["overseer"]["full_name"] == "Lê Minh Tuấn"
    roles = {m["unit_name"]: m["role"] for m in body["members"]}
    assert roles == {"UBND phường An Bình": "head", "UBND phường Mỹ Trà": "deputy", "UBND xã Tân Hồng": "member"}
    for role in ("overseer", "council", "secretariat", "head", "deputy"):
        assert api(role).get(url).status_code == 200, role
    assert_problem(api("outsider").get(url), 404)
    assert_problem(api("member").get(f"/api/v1/clusters/{world.cluster.id}/years/2031"), 404)
    other = api("outsider").get(f"/api/v1/clusters/{world.other_cluster.id}/years/2026").get_json()
    assert other["term"]["head_unit_id"] is None and [m["role"] for m in other["members"]] == ["member"]


def test_draft_criteria_only_for_those_who_build_or_oversee_them(api, world):
    cset = factories.criteria_set(world, publish=False)
    listing = f"/api/v1/clusters/{world.cluster.id}/years/2026/criteria-sets"
    for role in ("head", "deputy", "overseer", "secretariat"):
        assert [s["id"] for s in api(role).get(listing).get_json()["items"]] == [cset.id], role
        assert api(role).get(f"/api/v1/criteria-sets/{cset.id}").status_code == 200, role
    for role in ("member", "council"):
        assert api(role).get(listing).get_json()["items"] == [], role
        assert_problem(api(role).get(f"/api/v1/criteria-sets/{cset.id}"), 404)
    assert_problem(api("outsider").get(listing), 404)
    assert_problem(api("outsider").get(f"/api/v1/criteria-sets/{cset.id}"), 404)


def test_a_published_table_with_its_tree(api, world):
    cset = factories.criteria_set(world)
    body = api("member").get(f"/api/v1/criteria-sets/{cset.id}").get_json()
    assert body["status"] == "published" and body["year"] == 2026 and body["cluster_id"] == world.cluster.id
    assert (body["target_total"], body["base_total"], body["bonus_cap"]) == ("100.00", "100.00", "0.00")
    [section] = body["criteria"]
    assert (section["code"], section["max_points"], section["method"]) == ("I", "100.00", None)
    assert [(c["code"], c["method"], c["max_points"], c["children"]) for c in section["children"]] == [
        ("1", "quantitative", "60.00", []),
        ("2", "direct", "40.00", []),
    ]


# ------------------------------------------------------------------ tokens, errors and pages


def test_without_a_token_401_problem(api, client, auth, world):
    response = api(None).get("/api/v1/me")
    body = assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert body["type"] == "about:blank"
    auth.login("member")  # a session cookie is not an API credential
    assert_problem(client.get("/api/v1/me"), 401)
    for header in ("Basic bWVtYmVyOng=", "Bearer", "Bearer tdk_" + "x" * 43, "tdk_" + "x" * 43):
        assert_problem(client.get("/api/v1/me", headers={"Authorization": header}), 401)


def test_me(api, world):
    body = api("member").get("/api/v1/me").get_json()
    assert body["user"] == {
        "id": world.users["member"].id,
        "username": "member",
        "full_name": "member",
        "kind": "unit",
        "unit_id": world.member.id,
        "council_member_id": None,
    }
    assert body["token"]["name"] == "Khóa của member" and body["token"]["prefix"].startswith("tdk_")


def test_revoked_expired_and_locked_tokens_get_401(api, world, tokens):
    member, head, deputy = api("member"), api("head"), api("deputy")
    assert member.get("/api/v1/me").status_code == 200
    rows = {t.user_id: t for t in db.session.query(ApiToken)}
    rows[world.users["member"].id].revoked_at = utcnow()
    rows[world.users["head"].id].expires_at = utcnow() - timedelta(seconds=1)
    world.users["deputy"].active = False
    db.session.commit()
    for client in (member, head, deputy):
        assert_problem(client.get("/api/v1/me"), 401)
    assert api("overseer").get("/api/v1/me").status_code == 200


def test_unknown_path_and_wrong_method_are_problems_too(api):
    assert_problem(api("member").get("/api/v1/nothing-here"), 404)
    assert_problem(api(None).get("/api/v1/nothing-here"), 404)
    response = api("member").put("/api/v1/years", json={})
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_pagination_envelope_and_links(api):
    response = api("secretariat").get("/api/v1/units?per_page=3")
    body = response.get_json()
    assert (len(body["items"]), body["page"], body["per_page"], body["total"]) == (3, 1, 3, 4)
    assert 'page=2&per_page=3>; rel="next"' in response.headers["Link"]
    assert 'rel="prev"' not in response.headers["Link"]
    response = api("secretariat").get("/api/v1/units?per_page=3&page=2&year=2026")
    body = response.get_json()
    assert (len(body["items"]), body["page"], body["total"]) == (1, 2, 4)
    assert 'year=2026&page=1&per_page=3>; rel="prev"' in response.headers["Link"]
    assert 'rel="next"' not in response.headers["Link"]
    assert api("secretariat").get("/api/v1/units?page=9").get_json()["items"] == []


@pytest.mark.parametrize("query", ["per_page=201", "per_page=0", "page=0", "page=x", "page=1.5", "page="])
def test_bad_paging_is_422_with_the_field(api, query):
    body = assert_problem(api("member").get(f"/api/v1/units?{query}"), 422)
    assert set(body["errors"]) == {query.split("=")[0]}
    assert "phải là số nguyên" in body["detail"]


def _bulk_units(world, n: int) -> None:
    for _ in range(n):
        cluster_year.add_membership(db.session, world.year, world.cluster, factories.unit())
    db.session.commit()


@pytest.mark.parametrize("role", ["secretariat", "member"])
@pytest.mark.parametrize("url", ["/api/v1/units", "/api/v1/clusters", "/api/v1/years"])
def test_list_query_counts_stay_flat(api, world, count_queries, role, url):
    client = api(role)
    client.get("/api/v1/me")  # the token's first use is written once; not part of the comparison
    with count_queries() as small:
        assert client.get(url).status_code == 200
    _bulk_units(world, 8)
    for n in range(3):
        factories.cluster(f"Cụm thêm {n}")
    db.session.commit()
    with count_queries() as large:
        assert client.get(url).status_code == 200
    assert large() == small()


def test_cluster_year_query_count_stays_flat(api, world, count_queries):
    client = api("member")
    url = f"/api/v1/clusters/{world.cluster.id}/years/2026"
    client.get("/api/v1/me")
    with count_queries() as small:
        client.get(url)
    _bulk_units(world, 8)
    with count_queries() as large:
        assert len(client.get(url).get_json()["members"]) == 11
    assert large() == small()


def test_openapi_is_public(api):
    response = api(None).get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.get_json()["openapi"].startswith("3.1")


def test_an_unexpected_error_is_a_500_problem(app, api, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the handler answers instead of the test runner

    def broken(_year):
        raise RuntimeError("boom")

    monkeypatch.setattr("portal.api.serialize.year", broken)
    body = assert_problem(api("member").get("/api/v1/years"), 500)
    assert "boom" not in body["detail"]
