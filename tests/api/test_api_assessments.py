"""Assessments through the API: who reads and writes what (IDOR included), saving with revisions, submit, results."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assessment, AuditEntry, Score
from portal.services.org import cluster_year, years
from portal.services.scoring import assessments as svc
from tests import factories
from tests.api.conftest import assert_problem


def _own(unit) -> Assessment:
    return db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == unit.id))


def _fill(unit, table, values=(("quant", "50"), ("direct", "25"), ("pass", "1"), ("bonus", "1"), ("minus", "2"))):
    for item, raw in values:
        svc.save_score(db.session, _own(unit), table[item], raw, expected_revision=None, user_id=None)
    db.session.commit()


def _submit(unit, table) -> None:
    _fill(unit, table)
    svc.submit(db.session, _own(unit), None)
    db.session.commit()


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item["id"] for item in response.get_json()["items"]}


def test_drafts_are_their_authors_only_until_submitted(api, world, table):
    url = f"/api/v1/clusters/{world.cluster.id}/years/2026/assessments"
    member, head, deputy = _own(world.member).id, _own(world.head).id, _own(world.deputy).id
    assert _ids(api("member").get(url)) == {member}
    assert _ids(api("head").get(url)) == {head}
    for role in ("secretariat", "overseer", "council"):
        assert _ids(api(role).get(url)) == set(), role
    assert_problem(api("outsider").get(url), 404)
    _submit(world.member, table)
    assert _ids(api("head").get(url)) == {head, member}
    assert _ids(api("deputy").get(url)) == {deputy, member}
    assert _ids(api("secretariat").get(url)) == {member}
    assert _ids(api("head").get(url + "?status=submitted")) == {member}
    assert _ids(api("head").get(url + "?stage=peer")) == set()
    assert "stage" in assert_problem(api("head").get(url + "?stage=everything"), 422)["errors"]


def test_one_assessment_with_every_leaf(api, world, table):
    url = f"/api/v1/assessments/{_own(world.member).id}"
    body = api("member").get(url).get_json()
    assert (body["stage"], body["status"], body["may_edit"], body["round_kind"]) == ("self", "draft", True, "self")
    assert [(s["code"], s["value"], s["revision"]) for s in body["scores"]] == [
        ("I.1", None, None),
        ("I.2", None, None),
        ("I.3", None, None),
        ("II.1", None, None),
        ("III.1", None, None),
    ]
    assert body["totals"] == {
        "base": "0.00",
        "bonus": "0.00",
        "deduction": "0.00",
        "total": "0.00",
        "missing": ["I.1", "I.2", "I.3", "II.1", "III.1"],
    }
    _fill(world.member, table)
    body = api("member").get(url).get_json()
    by_code = {s["code"]: s for s in body["scores"]}
    assert (by_code["I.2"]["value"], by_code["I.2"]["points"], by_code["I.2"]["revision"]) == ("25", "25.00", 1)
    assert body["totals"]["total"] == "76.00" and body["totals"]["missing"] == []


def test_another_units_draft_does_not_exist_idor(api, world, table):
    draft = _own(world.member)
    for role in ("head", "deputy", "overseer", "council", "secretariat", "outsider"):
        assert_problem(api(role).get(f"/api/v1/assessments/{draft.id}"), 404)
        put = api(role).put(f"/api/v1/assessments/{draft.id}/scores/{table['direct'].id}", json={"value": "30"})
        assert_problem(put, 404)
        assert_problem(api(role).post(f"/api/v1/assessments/{draft.id}/submit"), 404)
    assert db.session.scalars(select(Score)).all() == []
    assert_problem(api("member").get("/api/v1/assessments/999999"), 404)


def test_a_submitted_assessment_is_read_by_the_cluster_but_written_by_nobody(api, world, table):
    _submit(world.member, table)
    done = _own(world.member)
    for role in ("head", "deputy", "overseer", "council", "secretariat"):
        body = api(role).get(f"/api/v1/assessments/{done.id}").get_json()
        assert body["status"] == "submitted" and body["may_edit"] is False, role
        put = api(role).put(f"/api/v1/assessments/{done.id}/scores/{table['direct'].id}", json={"value": "30"})
        assert_problem(put, 403)
        assert_problem(api(role).post(f"/api/v1/assessments/{done.id}/submit"), 403)
    assert_problem(api("outsider").get(f"/api/v1/assessments/{done.id}"), 404)
    body = assert_problem(
        api("member").put(f"/api/v1/assessments/{done.id}/scores/{table['direct'].id}", json={"value": "30"}), 422
    )
    assert "đã nộp" in body["detail"]


def test_save_a_score_and_its_revisions(api, world, table):
    member = api("member")
    url = f"/api/v1/assessments/{_own(world.member).id}/scores/{table['direct'].id}"
    response = member.put(url, json={"value": "27,5", "note": "Theo báo cáo số 12"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() | {"updated_at": None} == {
        "criterion_id": table["direct"].id,
        "code": "I.2",
        "title": "Cải cách",
        "kind": "scored",
        "method": "direct",
        "max_points": "30.00",
        "value": "27.5",
        "points": "27.50",
        "note": "Theo báo cáo số 12",
        "revision": 1,
        "updated_at": None,
    }
    assert member.put(url, json={"value": 28.25, "revision": 1.0}).get_json()["revision"] == 2
    conflict = assert_problem(member.put(url, json={"value": "20", "revision": 1}), 409)
    assert conflict["current"] == {"value": "28.25", "points": "28.25", "note": "", "revision": 2}
    assert "vừa được người khác lưu" in conflict["detail"]
    score = db.session.scalar(select(Score))
    assert (score.value, score.revision) == (D("28.25"), 2)
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "Score").order_by(AuditEntry.id)
    ).all()[-1]
    assert entry.username == "member" and entry.user_id == world.users["member"].id
    assert member.put(url, json={"value": None, "revision": 2}).get_json()["points"] is None


def test_json_numbers_are_exact(api, world, table):
    """1.234 sent as a JSON number is one point two three four, never read as “1.234” (one thousand…)."""
    url = f"/api/v1/assessments/{_own(world.member).id}/scores/{table['quant'].id}"
    assert api("member").put(url, json={"value": 1.234}).get_json()["value"] == "1.234"
    assert api("member").put(url, json={"value": 1000}).get_json()["value"] == "1000"
    assert api("member").put(url, json={"value": "1.000"}).get_json()["value"] == "1000"


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"value": "31"}, "value", "vượt quá điểm chuẩn"),
        ({"value": "7,3"}, "value", "bội số của 0,25"),
        ({"value": "ba mươi"}, "value", "phải là một số"),
        ({"value": True}, "value", "phải là số"),
        ({"value": [1]}, "value", "phải là số"),
        ({"note": "x"}, "value", "Thiếu trường"),
        ({"value": "1", "revision": 0}, "revision", "số nguyên"),
        ({"value": "1", "revision": "2"}, "revision", "số nguyên"),
        ({"value": "1", "revision": 1.5}, "revision", "số nguyên"),
        ({"value": "1", "note": 5}, "note", "chuỗi"),
        ({"value": "1", "points": "30"}, "points", "không được hỗ trợ"),
        ([1, 2], "body", "đối tượng JSON"),
    ],
)
def test_bad_values_are_422_with_the_field(api, world, table, body, field, message):
    url = f"/api/v1/assessments/{_own(world.member).id}/scores/{table['direct'].id}"
    problem = assert_problem(api("member").put(url, json=body), 422)
    assert message in problem["errors"][field]
    assert db.session.scalars(select(Score)).all() == []


def test_body_must_be_json(api, world, table):
    url = f"/api/v1/assessments/{_own(world.member).id}/scores/{table['direct'].id}"
    assert_problem(api("member").put(url, data="value=1", content_type="application/x-www-form-urlencoded"), 415)
    assert_problem(api("member").put(url), 415)
    body = assert_problem(api("member").put(url, data="{not json", content_type="application/json"), 400)
    assert body["type"].endswith("malformed-json")
    assert_problem(api("member").put(url, data='{"value": NaN}', content_type="application/json"), 400)


def test_only_leaves_of_the_assessments_own_table(api, world, table):
    base = f"/api/v1/assessments/{_own(world.member).id}/scores"
    section = table["direct"].parent_id
    assert (
        "không có tiêu chí con"
        in assert_problem(api("member").put(f"{base}/{section}", json={"value": "1"}), 422)["detail"]
    )
    other_year = years.create_year(db.session, 2027)
    other = factories.criteria_set(factories.World(other_year, world.cluster, *([None] * 7)))
    foreign = other.criteria[0].id
    assert_problem(api("member").put(f"{base}/{foreign}", json={"value": "1"}), 404)
    assert_problem(api("member").put(f"{base}/999999", json={"value": "1"}), 404)


def test_submit(api, world, table):
    url = f"/api/v1/assessments/{_own(world.member).id}/submit"
    problem = assert_problem(api("member").post(url), 422)
    assert problem["errors"]["assessment"].startswith("Còn 5 tiêu chí chưa chấm: I.1, I.2, I.3, II.1, III.1")
    _fill(world.member, table)
    response = api("member").post(url)
    assert response.status_code == 200 and response.get_json()["status"] == "submitted"
    assert _own(world.member).submitted_by_user_id == world.users["member"].id
    assert "đã nộp" in assert_problem(api("member").post(url), 422)["detail"]


def test_results_follow_the_policy(api, world, table):
    _fill(world.head, table, (("quant", "150"), ("direct", "30"), ("pass", "1"), ("bonus", "4"), ("minus", "10")))
    _submit(world.member, table)
    url = f"/api/v1/clusters/{world.cluster.id}/years/2026/results"
    items = api("head").get(url).get_json()["items"]
    # the head: 40 (leads the quantitative item) + 30 + 30, bonus 8 capped at 5, deduction 5 capped at 3
    # the member: 20 (r = 1) + 25 + 30, bonus 2, deduction 1; the deputy's draft is its own
    assert [(r["subject_unit_name"], r["submitted"], r["total"]) for r in items] == [
        ("UBND phường An Bình", False, "102.00"),
        ("UBND xã Tân Hồng", True, "76.00"),
    ]
    by_unit = {r["subject_unit_id"]: r for r in items}
    head_row = by_unit[world.head.id]
    assert (head_row["base"], head_row["bonus"], head_row["deduction"]) == ("100.00", "5.00", "3.00")
    assert [r["subject_unit_id"] for r in api("secretariat").get(url).get_json()["items"]] == [world.member.id]
    assert [r["subject_unit_id"] for r in api("member").get(url).get_json()["items"]] == [world.member.id]
    assert_problem(api("outsider").get(url), 404)
    assert api("head").get(url + "?stage=peer").get_json()["items"] == []


def _grow(world, table, n: int) -> None:
    """n more member units, each with a submitted self-assessment with a score."""
    for _ in range(n):
        unit = factories.unit()
        cluster_year.add_membership(db.session, world.year, world.cluster, unit)
        assessment = Assessment(
            round_id=table["round"].id,
            criteria_set_id=table["set"].id,
            subject_unit_id=unit.id,
            author_unit_id=unit.id,
            stage="self",
            status="submitted",
        )
        db.session.add(assessment)
        db.session.flush()
        db.session.add(Score(assessment_id=assessment.id, criterion_id=table["direct"].id, value=D(10), points=D(10)))
    db.session.commit()


@pytest.mark.parametrize("what", ["assessments", "results"])
def test_list_query_counts_stay_flat(api, world, table, count_queries, what):
    _submit(world.member, table)
    client = api("head")
    url = f"/api/v1/clusters/{world.cluster.id}/years/2026/{what}"
    client.get("/api/v1/me")
    with count_queries() as small:
        assert len(client.get(url).get_json()["items"]) == 2
    _grow(world, table, 8)
    with count_queries() as large:
        assert len(client.get(url).get_json()["items"]) == 10
    assert large() == small()


def test_assessment_query_count_does_not_grow_with_scores(api, world, table, count_queries):
    client = api("member")
    url = f"/api/v1/assessments/{_own(world.member).id}"
    client.get("/api/v1/me")
    with count_queries() as empty:
        client.get(url)
    _fill(world.member, table)
    with count_queries() as full:
        client.get(url)
    assert full() == empty()
