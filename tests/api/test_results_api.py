"""GET …/ranking: the engine's results of a hand-made cluster, who may read them, and a flat query count.

The cluster has four members scoring the table of tests/test_results_read.py (I.1: a 30 + b 20,
I.2: c 30, II: d 20; bonus 2 per occurrence, cap 5; deduction 0,5 each, cap 3; declared total 100).
Each figure below is worked out by hand in the comments.
"""

from __future__ import annotations

import jsonschema_rs  # comes with schemathesis (requirements-dev.txt)
import pytest

from portal.api import openapi
from portal.extensions import db
from portal.models.scoring import RoundStatus
from portal.policy import ClusterYear, Principal, sees_results
from portal.services.org import cluster_year
from portal.services.results import settings as settings_svc
from portal.services.results.inputs import Basis, Settings
from portal.services.scoring import assessments as scoring
from portal.services.scoring import reviews, verification
from tests import factories
from tests.api.conftest import assert_problem
from tests.test_results_read import _of, _populate, deep_table

KEYS = ("a", "b", "c", "d", "bonus", "minus")
SELF = {  # a, b, c, d, bonus occurrences, late reports
    "head": ("30", "20", "28", "20", "1", "0"),  # 98 + 2 = 100
    "deputy": ("25", "18", "27,5", "19", "0", "2"),  # 89.5 − 1 = 88.5; verified a 22: 85.5
    "member": ("20", "15", "25", "16", "0", "0"),  # 76
    "extra": ("27", "18", "27", "18", "0", "0"),  # 90: exactly 90 % and every criterion at 90 %
}
PEER_A = {  # subject → reviewer → points on a; every other leaf: the subject's own self-score
    "head": {"deputy": "12", "member": "20", "extra": "30"},  # trimmed mean 20 (the plain mean: 20.67)
    "member": {"head": "28", "deputy": "29", "extra": "30"},  # 29
}


def _fill(assessment, items, values: dict[str, str], note: str = "") -> None:
    for key, raw in values.items():
        scoring.save_score(db.session, assessment, items[key], raw, note, expected_revision=None, user_id=None)
    scoring.submit(db.session, assessment, None)


@pytest.fixture
def cluster(world):
    """Four members self-assessed, the deputy verified (a: 25 → 22), an all-pairs peer round submitted; all open."""
    units = {
        "head": world.head,
        "deputy": world.deputy,
        "member": world.member,
        "extra": factories.unit("UBND xã Phú Lộc"),
    }
    cluster_year.add_membership(db.session, world.year, world.cluster, units["extra"])
    cset, items, _parents = deep_table(world)
    self_round = scoring.open_self_round(db.session, cset)
    for name, unit in units.items():
        _fill(_of(self_round, unit), items, dict(zip(KEYS, SELF[name], strict=True)))
    verified = verification.start_verification(db.session, _of(self_round, world.deputy), world.head.id)
    _fill(verified, items, {"a": "22"}, "Số liệu kho bạc thấp hơn")
    peer_round = reviews.create_round(db.session, cset, "all_pairs")
    reviews.open_round(db.session, peer_round)
    for subject, unit in units.items():
        for reviewer, author in units.items():
            if reviewer != subject:
                own = dict(zip(KEYS, SELF[subject], strict=True))
                a = PEER_A.get(subject, {}).get(reviewer, own["a"])
                _fill(_of(peer_round, unit, author), items, own | {"a": a})
    db.session.commit()
    rounds = {"self": self_round, "verification": verification.verification_round(db.session, self_round)}
    return {
        "units": units,
        "rounds": rounds | {"peer": peer_round},
        "where": ClusterYear(world.year.id, world.cluster.id),
    }


def _url(world, cluster_id=None, query: str = "") -> str:
    return f"/api/v1/clusters/{cluster_id or world.cluster.id}/years/{world.year.year}/ranking{query}"


def _conforms(body: dict) -> None:
    """The answer matches the OpenAPI document's Ranking schema exactly."""
    document = openapi.document()
    schema = {"$ref": "#/components/schemas/Ranking", "components": document["components"]}
    jsonschema_rs.validator_for(schema).validate(body)


def _close(*rounds) -> None:
    for scoring_round in rounds:
        scoring_round.status = RoundStatus.CLOSED  # no service closes a self or verification round yet
    db.session.commit()


def _units(body: dict, cluster) -> dict[str, dict]:
    names = {unit.id: name for name, unit in cluster["units"].items()}
    return {names[u["unit_id"]]: u for u in body["units"]}


def test_agreed_basis_ranks_bands_and_gaps(world, cluster, api):
    response = api("head").get(_url(world))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    _conforms(body)
    assert (body["settings"]["basis"], body["detail"], body["stability"]) == ("agreed", False, False)
    assert (body["target_total"], body["scored_maximum"]) == ("100.00", "100.00")
    units = _units(body, cluster)
    order = [(name, u["rank"], u["compared_total"], u["band"]) for name, u in units.items()]
    assert order == [
        ("head", 1, "100.00", "xuat_sac"),
        ("extra", 2, "90.00", "xuat_sac"),  # exactly 90 % of the total and 90 % ≥ 85 % on every criterion
        ("deputy", 3, "85.50", "tot"),  # the verified 22 counts, not its own 25
        ("member", 4, "76.00", "hoan_thanh"),
    ]
    assert body["leaders"] == [world.head.id]
    deputy = units["deputy"]
    assert (deputy["bonus"], deputy["deduction"], deputy["raw_total"]) == ("0.00", "1.00", "85.50")
    a = next(leaf for leaf in deputy["leaves"] if leaf["criterion_id"] == deputy["leaves"][0]["criterion_id"])
    assert (a["self_points"], a["verified"], a["points"], a["source"]) == ("25.00", "22.00", "22.00", "verified")
    # 85.50 < 90: short of xuất sắc on the total, and I.1 (22 + 18 of 50) is at 80 % < 85 %
    assert deputy["band_gap"] == {
        "band": "xuat_sac",
        "total_share": "0.8550",
        "min_total_share": "0.90",
        "total_short": True,
        "criterion_id": deputy["band_gap"]["criterion_id"],
        "criterion_code": "I.1",
        "criterion_share": "0.8000",
        "min_floor_share": "0.85",
    }
    assert units["head"]["band_gap"] is None and units["head"]["stability"] is None
    section = units["member"]["sections"][0]  # I: 20 + 15 + 25 of 80; the cluster's mean (78 + 67.5 + 60 + 72) / 4
    assert (section["code"], section["points"], section["maximum"], section["average"]) == (
        "I",
        "60.00",
        "80.00",
        "69.38",
    )


def test_trimmed_mean_with_detail_ties_for_first_and_measures_stability(world, cluster, api):
    settings_svc.save(db.session, cluster["where"], Settings(basis=Basis.TRIMMED_MEAN))
    db.session.commit()
    body = api("secretariat").get(_url(world, query="?detail=1")).get_json()
    _conforms(body)
    assert (body["settings"]["basis"], body["detail"], body["stability"]) == ("trimmed_mean", True, True)
    units = _units(body, cluster)
    # head: a 12, 20, 30 → 20 (drop one highest, one lowest): 20 + 20 + 28 + 20 + 2 = 90, level with extra
    # deputy: its reviewers gave its self-scores (a 25): 88.5; member: a 28, 29, 30 → 29: 85
    ranked = [(name, u["rank"], u["tie_unresolved"], u["compared_total"]) for name, u in units.items()]
    assert ranked == [
        ("head", 1, True, "90.00"),
        ("extra", 1, True, "90.00"),
        ("deputy", 3, False, "88.50"),
        ("member", 4, False, "85.00"),
    ]
    assert sorted(body["leaders"]) == sorted([world.head.id, cluster["units"]["extra"].id])
    a = units["head"]["leaves"][0]
    assert (a["points"], a["source"]) == ("20.00", "trimmed_mean")
    assert a["peer"] == {"count": 3, "mean": "20.67", "low": "12.00", "high": "30.00", "std_dev": "7.36"}
    # without the deputy's review the head's a is (20 + 30) / 2 = 25 → 95, first alone; without extra's
    # (12 + 20) / 2 = 16 → 86, behind extra (90) and the deputy (88.5)
    assert units["head"]["stability"] == {"best": 1, "worst": 3, "decided_by_one_reviewer": True}
    assert units["head"]["reviewers"]["count"] == 3


def test_without_detail_no_stability_under_a_peer_basis(world, cluster, api):
    settings_svc.save(db.session, cluster["where"], Settings(basis=Basis.TRIMMED_MEAN))
    db.session.commit()
    body = api("head").get(_url(world)).get_json()
    _conforms(body)
    assert (body["detail"], body["stability"]) == (False, False)
    assert {u["stability"] is None and u["reviewers"] is None for u in body["units"]} == {True}


def test_the_median_reads_the_detail_it_needs(world, cluster, api):
    settings_svc.save(db.session, cluster["where"], Settings(basis=Basis.MEDIAN))
    db.session.commit()
    body = api("overseer").get(_url(world)).get_json()
    _conforms(body)
    assert body["detail"] is True
    assert _units(body, cluster)["head"]["leaves"][0]["points"] == "20.00"


FOLLOWERS = ("head", "deputy", "overseer", "council", "secretariat")


def test_followers_always_members_once_the_rounds_are_closed(world, cluster, api):
    for role in FOLLOWERS:
        assert api(role).get(_url(world)).status_code == 200, role
    assert_problem(api("member").get(_url(world)), 403)
    assert_problem(api("outsider").get(_url(world)), 404)
    _close(cluster["rounds"]["self"])
    assert_problem(api("member").get(_url(world)), 403)  # the verification round is still open
    _close(cluster["rounds"]["verification"])
    assert api("member").get(_url(world)).status_code == 200
    settings_svc.save(db.session, cluster["where"], Settings(basis=Basis.PEER_MEAN))
    db.session.commit()
    assert_problem(api("member").get(_url(world)), 403)  # no peer score before the peer round closes
    reviews.close_round(db.session, cluster["rounds"]["peer"])
    db.session.commit()
    assert api("member").get(_url(world)).status_code == 200


def test_no_token_bad_detail_and_no_table(world, api):
    assert_problem(api(None).get(_url(world)), 401)
    body = assert_problem(api("head").get(_url(world, query="?detail=yes")), 422)
    assert set(body["errors"]) == {"detail"}
    assert "chưa có bảng tiêu chí" in assert_problem(api("head").get(_url(world)), 404)["detail"]


# ---------------------------------------------------------------- the rule itself


def _unit_user(world, **offices) -> Principal:
    scope = ClusterYear(world.year.id, world.cluster.id)
    return Principal(kind="unit", user_id=1, unit_id=world.member.id, memberships=frozenset({scope}), **offices)


def test_results_visible_rule(world):
    scope = ClusterYear(world.year.id, world.cluster.id)
    member = _unit_user(world)
    head = _unit_user(world, offices={scope: "head"})
    council = Principal(kind="council", user_id=2, council_member_id=world.other_council.id)
    stranger = Principal(kind="unit", user_id=3, unit_id=world.outsider.id)
    nothing_closed = {"self": "open", "verification": "open", "peer": "open"}
    for principal in (head, council, Principal(kind="secretariat", user_id=4)):
        assert sees_results(principal, scope, basis=Basis.BLEND, rounds=nothing_closed)
    assert not sees_results(stranger, scope, basis=Basis.AGREED, rounds={"self": "closed"})
    assert not sees_results(member, scope, basis=Basis.AGREED, rounds={})  # nothing scored yet
    assert sees_results(member, scope, basis=Basis.AGREED, rounds={"self": "closed"})
    assert sees_results(
        member, scope, basis=Basis.AGREED, rounds={"self": "closed", "peer": "open"}
    )  # the agreed score reads no peer
    assert not sees_results(member, scope, basis=Basis.AGREED, rounds={"self": "closed", "verification": "open"})
    assert sees_results(member, scope, basis=Basis.AGREED, rounds={"self": "closed", "verification": "closed"})
    for basis in (Basis.PEER_MEAN, Basis.TRIMMED_MEAN, Basis.MEDIAN, Basis.BLEND):
        assert not sees_results(member, scope, basis=basis, rounds={"self": "closed"})
        assert not sees_results(member, scope, basis=basis, rounds={"self": "closed", "peer": "open"})
        assert sees_results(member, scope, basis=basis, rounds={"self": "closed", "peer": "closed"})


# ---------------------------------------------------------------- a constant number of queries


@pytest.mark.parametrize("detail", ["0", "1"])
def test_queries_do_not_grow_with_units_and_reviewers(world, api, count_queries, detail):
    small = [world.head, world.deputy, world.member]
    large = [world.outsider] + [factories.unit() for _ in range(7)]
    _populate(world, world.cluster, small)
    _populate(world, world.other_cluster, large)
    client = api("secretariat")
    client.get("/api/v1/me")  # the token's last use is written once a minute: not inside the count
    counts = {}
    for cluster_id, units in ((world.cluster.id, small), (world.other_cluster.id, large)):
        db.session.expire_all()
        with count_queries() as n:
            body = client.get(_url(world, cluster_id, f"?detail={detail}")).get_json()
        counts[len(units)] = n()
        assert len(body["units"]) == len(units)
    assert counts[3] == counts[8], counts
